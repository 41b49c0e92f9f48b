"""Records that flow between stages: documents, references, manifest rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["parsed", "skipped", "error"]

# Metadata fields a user may supply in a sidecar file (values win over the page).
CURATABLE_FIELDS: tuple[str, ...] = (
    "title",
    "authors",
    "journal",
    "date",
    "year",
    "volume",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "article_type",
    "abstract",
    "keywords",
    "conflict_of_interest",
    "licence",
)


class Reference(BaseModel):
    """One entry of a document's reference list."""

    model_config = ConfigDict(frozen=True)

    index: int
    text: str
    year: int | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None


class Figure(BaseModel):
    """A figure label and its caption as printed on the page."""

    model_config = ConfigDict(frozen=True)

    label: str
    caption: str | None = None


class Author(BaseModel):
    """An author as printed, with affiliation markers resolved where the page gives them."""

    model_config = ConfigDict(frozen=True)

    name: str
    affiliations: list[str] = Field(default_factory=list)
    equal_contribution: bool = False
    corresponding: bool = False


class Document(BaseModel):
    """One literature document. Absent facts stay None (lists stay empty); nothing is guessed."""

    id: str
    source_file: str
    format: str
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    authors_complete: bool | None = None
    author_details: list[Author] = Field(default_factory=list)
    journal: str | None = None
    date: str | None = None
    year: int | None = None
    volume: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    nct_ids: list[str] = Field(default_factory=list)
    article_type: str | None = None
    abstract: str | None = None
    body: str | None = None  # the page's text, kept for annotation when no abstract was found
    field_sources: dict[str, str] = Field(default_factory=dict)  # field -> how it was found
    keywords: list[str] = Field(default_factory=list)
    conflict_of_interest: str | None = None
    licence: str | None = None
    licence_url: str | None = None
    correspondence: str | None = None
    figures: list[Figure] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    curated_fields: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def to_json(self) -> dict:
        """JSON-ready dict with a fixed key order."""
        return self.model_dump(mode="json")


class ManifestRow(BaseModel):
    """What became of one input path."""

    model_config = ConfigDict(frozen=True)

    source_file: str
    status: Status
    reason: str
    format: str | None = None
    documents: int = 0
    encoding: str | None = None
    bytes: int | None = None
