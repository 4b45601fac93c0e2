"""Crawl, extract and stage China's government information-disclosure annual reports.

``pipeline.extract(source)`` reads one report; ``pipeline.load`` (imported on first use)
reads the staged datasets. Importing ``pipeline`` does not load the crawler.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# The subpackage pipeline.extract is loaded first so that the function below, not the
# subpackage, is what ``pipeline.extract`` names (a loaded submodule is never re-bound).
import pipeline.extract  # noqa: F401
from pipeline.errors import (
    ArchiveError,
    ConfigError,
    DataDirError,
    DemoError,
    LockedError,
    PipelineError,
    SourceError,
)
from pipeline.flows.oneoff import extract
from pipeline.model import Fact, Finding, Report, ReportMeta
from pipeline.version import __version__

__all__ = [
    "ArchiveError",
    "ConfigError",
    "DataDirError",
    "DemoError",
    "Fact",
    "Finding",
    "LockedError",
    "PipelineError",
    "Report",
    "ReportMeta",
    "SourceError",
    "__version__",
    "extract",
    "load",
]


def __getattr__(name: str) -> ModuleType:
    # ``pipeline.load`` is imported on first use: the CLI's commands do not need it.
    if name == "load":
        return importlib.import_module("pipeline.load")
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
