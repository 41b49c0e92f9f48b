"""Stage 5, synthesis: pure functions on snapshot tables (proportions, clinical, landscape, coverage)."""
