"""Stage 4, evidence: curated tables with their schema and loaders, and the snapshot of every input."""
