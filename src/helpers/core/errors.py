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

    def _render_traceback_(self) -> list[str]:
        # IPython (and so papermill) shows this instead of the traceback: the message is the
        # whole story for a bad parameter, a 50-line trace through pydantic would hide it.
        return [f"ParameterError: {self}"]


class VocabularyError(HelpersError):
    """The vocabulary files are inconsistent."""


class BuildError(HelpersError):
    """A notebook failed during the build."""
