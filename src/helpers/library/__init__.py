"""Stage 2, library: records from every source merged into one corpus, duplicates linked."""
