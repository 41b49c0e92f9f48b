"""CAR-T evidence workbook helpers: ingest the seeds, annotate, analyse, build reports."""

__version__ = "0.1.0"
