"""The library on a Dask cluster (a LocalCluster of two worker processes) equals the one-process build,
and the parallel PubMed XML parse equals the sequential one."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.cli import main
from helpers.library.distributed import build_on_cluster, connect
from helpers.library.store import build_library

FIXTURES = Path(__file__).parent / "fixtures"
EXPORTS = ["library/pubmed_efetch.xml", "library/pubmed_export.csv", "library/scopus_export.csv",
           "library/wos_export.txt", "library/embase.ris", "library/zotero.bib", "library/medline_export.txt",
           "linkage"]  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("inputs")
    packed = folder / "pubmed-update.xml.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "library/pubmed_efetch.xml").read_bytes()))
    return [str(FIXTURES / name) for name in EXPORTS] + [str(packed)]


def _partitions(folder: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("part-*.parquet"))])


def test_two_dask_workers_give_the_single_process_library(inputs, tmp_path):
    single = build_library(inputs, tmp_path / "one" / "lib.parquet", workers=1)
    with connect("local:2") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        spread = build_on_cluster(inputs, tmp_path / "dask", client)
    one, many = pq.read_table(tmp_path / "one" / "lib.parquet"), _partitions(tmp_path / "dask")
    assert many.num_rows == one.num_rows == single.records == spread.records > 200
    assert many.equals(one)  # same rows, cluster ids, related links and reasons, in input order
    assert spread.clusters == single.clusters < single.records  # duplicates were found across files
    assert (tmp_path / "one" / "lib.manifest.csv").read_text() == (tmp_path / "dask" / "manifest.csv").read_text()
    assert not (tmp_path / "dask" / ".staging").exists()


def test_parallel_parse_equals_sequential(inputs, tmp_path):
    build_library(inputs, tmp_path / "seq.parquet", workers=1)
    build_library(inputs, tmp_path / "par.parquet", workers=2)
    assert (tmp_path / "seq.parquet").read_bytes() == (tmp_path / "par.parquet").read_bytes()


def test_cli_runs_on_a_local_cluster_and_refuses_a_bad_address(inputs, tmp_path, capsys):
    assert main(["library", *inputs[:2], "--out", str(tmp_path / "lib"), "--cluster", "local:1"]) == 0
    assert "works" in capsys.readouterr().out and (tmp_path / "lib" / "part-00000.parquet").exists()
    assert main(["library", inputs[0], "--out", str(tmp_path / "x"), "--cluster", "local:two"]) == 1
    assert "local:N" in capsys.readouterr().err
    assert main(["library", inputs[0], "--out", str(tmp_path / "lib")]) == 1  # a folder, without --cluster
    assert "is a folder" in capsys.readouterr().err
