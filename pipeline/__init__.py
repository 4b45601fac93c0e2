"""Crawl, extract and stage China's government information-disclosure annual reports."""

from __future__ import annotations

__version__ = "0.1.0"

# The subpackage pipeline.extract is loaded first so that the function below, not the
# subpackage, is what ``pipeline.extract`` names (a loaded submodule is never re-bound).
import pipeline.extract  # noqa: E402, F401
from pipeline import load  # noqa: E402
from pipeline.api import extract  # noqa: E402
from pipeline.model import Fact, Finding, Report, ReportMeta  # noqa: E402

__all__ = ["Fact", "Finding", "Report", "ReportMeta", "__version__", "extract", "load"]
