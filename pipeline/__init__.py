"""Crawl, extract and stage China's government information-disclosure annual reports."""

from __future__ import annotations

__version__ = "0.1.0"

from pipeline.api import extract  # noqa: E402
from pipeline.model import Fact, Finding, Report, ReportMeta  # noqa: E402

__all__ = ["Fact", "Finding", "Report", "ReportMeta", "__version__", "extract"]
