"""Stage 3, text: the vocabulary of the field and concept annotation of record text."""
