"""Crawl, extract and stage China's government information-disclosure annual reports."""

from __future__ import annotations

# The subpackage pipeline.extract is loaded first so that the function below, not the
# subpackage, is what ``pipeline.extract`` names (a loaded submodule is never re-bound).
import pipeline.extract  # noqa: F401
from pipeline import load
from pipeline.api import extract
from pipeline.model import Fact, Finding, Report, ReportMeta

__version__ = "0.1.0"
__all__ = ["Fact", "Finding", "Report", "ReportMeta", "__version__", "extract", "load"]
