"""Staged Parquet datasets (``reports``, ``facts``, ``findings``) under the data directory.

The crawler and ``reextract`` call :func:`stage_reports` with batches of reports (the
crawler 500 at a time); ``extract URL --stage`` calls :func:`stage_report` for one;
:func:`remove_reports` removes reports. All are idempotent (a report staged again replaces
its rows) and crash-safe (every file is replaced in one rename, and each write first
repairs what a killed writer left, see :func:`~pipeline.stage.core.repair`).
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
