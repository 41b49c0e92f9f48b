"""The mentions table of a set of documents: which concept, where, in which sentence, negated or not."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from helpers.core.models import Document
from helpers.library.corpus import short_citation
from helpers.text.concepts import annotate, load_vocabulary, mentions_frame
from helpers.text.vocabulary import Vocabulary


def document_text(doc: Document) -> str:
    """The text that is annotated: title, abstract (or the page's body text when no abstract was
    found), keywords and figure captions, as printed."""
    parts = [doc.title or "", doc.abstract or doc.body or ""]
    if doc.keywords:
        parts.append("Keywords: " + "; ".join(doc.keywords) + ".")
    parts += [f"{f.label}: {f.caption}" for f in doc.figures if f.caption]
    return "\n\n".join(p for p in parts if p)


def document_mentions(documents: Sequence[Document], vocab: Vocabulary | None = None) -> pd.DataFrame:
    """Mentions table for documents (offsets are into `document_text(doc)`), with a `citation` column."""
    vocab = vocab or load_vocabulary()
    frame = mentions_frame(annotate([(d.id, document_text(d)) for d in documents], vocab))
    labels = {d.id: short_citation(d) for d in documents}
    frame.insert(1, "citation", frame["doc_id"].map(labels))
    return frame
