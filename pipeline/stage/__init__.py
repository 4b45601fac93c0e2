"""Staged Parquet datasets (``reports``, ``facts``, ``findings``, ``pre2019``) under the data
directory.

The nightly flow calls :func:`stage_reports` with batches of reports (:data:`BATCH_SIZE` at
a time); ``extract URL --stage`` calls :func:`stage_report` for one. Each write appends its
own reports' rows as a pending write (:mod:`~pipeline.stage.pending`), so its cost does not
grow with the dataset; :func:`compact` folds the pending writes into the published files
plain Parquet readers see (:mod:`~pipeline.stage.compaction`); :func:`remove_reports` removes
reports. All are idempotent (a report staged again replaces its rows) and crash-safe (a
write commits in one rename; a killed compaction is finished by the next).
"""

from pipeline.datasets import SCHEMA_VERSION
from pipeline.stage.compaction import Compacted, compact, refresh_cross_year, remove_reports
from pipeline.stage.convert import (
    BUCKETS,
    StageItem,
    bucket_of,
    facts_table,
    pre2019_table,
    report_id_for,
)
from pipeline.stage.core import stage_report, stage_reports, staging
from pipeline.stage.pending import PendingWrite, write_chunk
from pipeline.stage.refresh import BATCH_SIZE

__all__ = [
    "BATCH_SIZE",
    "BUCKETS",
    "SCHEMA_VERSION",
    "Compacted",
    "PendingWrite",
    "StageItem",
    "bucket_of",
    "compact",
    "facts_table",
    "pre2019_table",
    "refresh_cross_year",
    "remove_reports",
    "report_id_for",
    "stage_report",
    "stage_reports",
    "staging",
    "write_chunk",
]
