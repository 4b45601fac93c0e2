"""Staged Parquet datasets (``reports``, ``facts``, ``findings``) under the data directory.

The nightly flow calls :func:`stage_reports` with batches of reports (:data:`BATCH_SIZE` at
a time); ``extract URL --stage`` calls :func:`stage_report` for one;
:func:`remove_reports` removes reports. All are idempotent (a report staged again replaces
its rows) and crash-safe (every file is replaced in one rename, and each write first
repairs what a killed writer left, see :func:`~pipeline.stage.repair.repair`).
"""

from pipeline.datasets import SCHEMA_VERSION
from pipeline.stage.convert import BUCKETS, StageItem, bucket_of, facts_table, report_id_for
from pipeline.stage.core import refresh_cross_year, stage_report, stage_reports
from pipeline.stage.refresh import BATCH_SIZE
from pipeline.stage.repair import remove_reports

__all__ = [
    "BATCH_SIZE",
    "BUCKETS",
    "SCHEMA_VERSION",
    "StageItem",
    "bucket_of",
    "facts_table",
    "refresh_cross_year",
    "remove_reports",
    "report_id_for",
    "stage_report",
    "stage_reports",
]
