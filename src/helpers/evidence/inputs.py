"""The inputs of a snapshot, grouped, and their content hashes (light: reads bytes, parses nothing).

A notebook declares the groups it reads (``metadata.workbook.depends``); the build re-runs it
only when one of them changed. The snapshot id is a hash over every group's hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from helpers.core.digests import digest_paths
from helpers.core.paths import DOCUMENTS, EVIDENCE, REGISTRY_EXPORTS, SEED_MANIFEST, VOCABULARY

ID_LENGTH = 16


def input_paths(documents: Path | None = None) -> dict[str, list[Path]]:
    """The files behind each input group (a group is what a notebook can declare it depends on)."""
    return {
        "documents": [Path(documents) if documents is not None else DOCUMENTS, SEED_MANIFEST],
        "vocabulary": [VOCABULARY],
        "schema": [EVIDENCE / "schema.yaml"],
        "clinical": [
            EVIDENCE / "clinical_reports.csv",
            EVIDENCE / "outcomes.csv",
            EVIDENCE / "risk_of_bias.csv",
            EVIDENCE / "sources",
        ],
        "trials": [EVIDENCE / "trials.csv", REGISTRY_EXPORTS, EVIDENCE / "sources" / "sources.csv"],
        "published": [EVIDENCE / "published_landscapes.csv"],
    }


INPUT_GROUPS = tuple(input_paths())


def input_digests(documents: Path | None = None) -> dict[str, str]:
    """One content hash per input group (names and bytes of every file in it)."""
    return {group: digest_paths(paths, salt=group) for group, paths in input_paths(documents).items()}


def snapshot_id(digests: Mapping[str, str]) -> str:
    """The snapshot id: a short hash over every input group's hash."""
    h = hashlib.sha256()
    for group in sorted(digests):
        h.update(f"{group}={digests[group]}\n".encode())
    return h.hexdigest()[:ID_LENGTH]


def current_snapshot_id(documents: Path | None = None) -> str:
    """The id the snapshot of these inputs has, computed from the bytes alone (nothing is parsed)."""
    return snapshot_id(input_digests(documents))
