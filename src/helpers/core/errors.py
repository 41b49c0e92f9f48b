"""One small error hierarchy: every message names the file/field/value and what to do."""

from __future__ import annotations


class HelpersError(Exception):
    """Base class for errors a user can act on."""


class IngestError(HelpersError):
    """A document could not be read or parsed."""


class SchemaError(HelpersError):
    """A table or sidecar file does not match its schema."""


class ParameterError(HelpersError):
    """A notebook or CLI parameter is invalid."""


class VocabularyError(HelpersError):
    """The vocabulary files are inconsistent."""


class SeedIntegrityError(HelpersError):
    """A seed file no longer matches the checksum in its manifest."""


class BuildError(HelpersError):
    """A notebook failed during the build."""
