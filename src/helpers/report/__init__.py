"""Stage 6, report: figures, tables, narrative, notebook parameters and the site build."""
