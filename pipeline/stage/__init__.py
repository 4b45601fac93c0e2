"""Staged Parquet datasets (``reports``, ``facts``, ``findings``) under the data directory.

The crawler calls :func:`stage_report` after each report it extracts; bulk jobs call
:func:`stage_reports`. Both are idempotent (a report staged again replaces its rows) and
crash-safe (every file is replaced in one rename).
"""

from pipeline.stage.convert import BUCKETS, StageItem, report_id_for
from pipeline.stage.core import refresh_cross_year, remove_reports, stage_report, stage_reports
from pipeline.stage.schema import SCHEMA_VERSION

__all__ = [
    "BUCKETS",
    "SCHEMA_VERSION",
    "StageItem",
    "refresh_cross_year",
    "remove_reports",
    "report_id_for",
    "stage_report",
    "stage_reports",
]
