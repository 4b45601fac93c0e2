"""The live staged data as DuckDB views, for the loaders that compute in SQL.

A view reads the published Parquet files directly (DuckDB opens many small files faster
than an Arrow dataset does, and pushes the filters down), minus the reports a pending write
replaced, plus the newest pending rows (read with :func:`pipeline.datasets.pending_rows`,
registered as an Arrow table). Keys come back as plain strings.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.datasets import (
    Snapshot,
    full_schema,
    keep_context,
    pending_rows,
    published_files,
    year_of_partition,
)

_database: tuple[int, duckdb.DuckDBPyConnection] | None = None
_guard = threading.Lock()
_numbers = itertools.count()


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-process database per process (connecting costs ~20 ms; a forked child gets
    its own)."""
    global _database
    with _guard:
        if _database is None or _database[0] != os.getpid():
            _database = (os.getpid(), duckdb.connect())
        return _database[1]


@dataclass(slots=True)
class Session:
    """A cursor of its own and view names of its own, dropped at the end."""

    con: duckdb.DuckDBPyConnection
    number: int
    views: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def name(self, what: str) -> str:
        return f"{what}_{self.number}"


@contextlib.contextmanager
def session() -> Iterator[Session]:
    with _guard:
        number = next(_numbers)
    cursor = _connection().cursor()
    out = Session(cursor, number)
    try:
        yield out
    finally:
        for view in out.views:
            cursor.execute(f'DROP VIEW IF EXISTS "{view}"')
        for table in out.tables:
            with contextlib.suppress(duckdb.Error):
                cursor.unregister(table)
        cursor.close()


def plain(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionary (categorical) fields as their value type."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
            for f in schema
        ]
    )


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _in_years(path: Path, years: list[int | None] | None) -> bool:
    return years is None or year_of_partition(path.parent.name) in years


def create_view(
    session: Session,
    snap: Snapshot,
    dataset: str,
    *,
    years: list[int | None] | None = None,
    columns: list[str] | None = None,
    tables: list[str] | None = None,
) -> str:
    """A view of ``dataset``: its live rows in ``years`` (``None``: all), ``columns`` (with
    ``report_year``, 0 where unknown), for ``facts`` only the statistical ``tables``.
    Returns the view's name."""
    con = session.con
    names = columns or full_schema(dataset).names
    select = _quoted(n for n in names if n != "report_year")
    select += ", CAST(report_year AS SMALLINT) AS report_year"
    table_filter = None if tables is None else '"table" IN (' + ", ".join(
        f"'{t}'" for t in tables
    ) + ")"
    parts = []
    files = [str(p) for p in published_files(snap.data_dir, dataset) if _in_years(p, years)]
    if files:
        rel = con.read_parquet(files, hive_partitioning=True).select(select)
        if table_filter:
            rel = rel.filter(table_filter)
        if snap.commits:
            touched = session.name("touched")
            con.register(touched, pa.table({"report_id": snap.touched}))
            session.tables.append(touched)
            rel = rel.filter(f"report_id NOT IN (SELECT report_id FROM {touched})")
        parts.append(rel)
    wanted = [*(n for n in names if n != "report_year"), "report_year"]
    if snap.commits or not parts:
        where = None if tables is None else ds.field("table").isin(tables)
        pending = pending_rows(snap, dataset, years=years, where=where, with_seq=True)
        if dataset == "reports":
            pending = keep_context(snap, pending)
        pending = pending.select(wanted)
        pending = pending.cast(plain(pending.schema))
        registered = session.name(f"{dataset}_pending")
        con.register(registered, pending)
        session.tables.append(registered)
        parts.append(con.table(registered).select(select))
    view = parts[0]
    for part in parts[1:]:
        view = view.union(part)
    name = session.name(dataset)
    view.create_view(name)
    session.views.append(name)
    return name


def fetch(session: Session, sql: str, params: list[object] | None = None) -> pa.Table:
    return session.con.sql(sql, params=params or None).to_arrow_table()


def as_dictionaries(table: pa.Table, dataset: str) -> pa.Table:
    """A plain table read back with the dataset's schema (categorical keys again)."""
    schema = full_schema(dataset)
    fields = [schema.field(n) for n in table.column_names]
    columns = []
    for wanted, column in zip(fields, table.columns, strict=True):
        if pa.types.is_dictionary(wanted.type):
            column = pc.dictionary_encode(column.cast(pa.string()))
        columns.append(column.cast(wanted.type))
    return pa.table(columns, schema=pa.schema(fields))
