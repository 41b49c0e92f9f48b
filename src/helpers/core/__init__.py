"""The small core every stage may import: errors, project paths, the document and manifest models."""
