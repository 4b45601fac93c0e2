"""The pipeline's errors: one base class, so a caller can catch everything we raise on purpose.

Every message is one line meant for the user; commands print it and exit with the code
:mod:`pipeline.cli.exit_codes` assigns to the class.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class SourceError(PipelineError):
    """A report file or URL could not be read."""


class ConfigError(PipelineError, ValueError):
    """The portal configuration is invalid."""


class DataDirError(PipelineError):
    """The data directory cannot be used (missing, unwritable, or holds no data yet)."""


class LockedError(PipelineError):
    """Another writer (a crawl, ``reextract`` or ``extract --stage``) holds the data
    directory's lock."""


class ArchiveError(PipelineError):
    """A body is missing or unreadable in the raw archive."""


class DemoError(PipelineError):
    """The offline demo could not run."""


class PortInUseError(DemoError):
    """The demo's port on 127.0.0.1 is taken by another program."""
