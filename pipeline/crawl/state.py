"""Crawl state in SQLite (WAL) under ``<data_dir>/state/``.

One row per (portal, request key): kind, status, attempts, last error, ETag,
Last-Modified, content SHA-256, first/last seen, and the run that last touched it. A
portal's run stays open until it completes; the next invocation resumes an open run and
skips what that run already finished. Each row is written in one transaction after its
body is archived, so a kill at any moment loses at most the work in flight.

Every invocation of the crawl is a row of ``crawls`` (start, end, exit code, verdict and
its JSON summary) with its per-portal counters in ``crawl_counters`` (one row per portal
and counter, so that a new counter needs no new column). A crawl killed with SIGKILL
leaves its row without an end.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.datadir import state_dir

FINAL_STATUSES = ("ok", "blocked", "disallowed", "failed", "not_found", "offsite")

#: URL statuses an operator looks at: fetched by no run until it answers again
PROBLEM_STATUSES = ("failed", "blocked", "not_found")

#: extraction results of a document whose figures are not (all) in the staged data
ATTENTION_EXTRACT = ("partial", "no_tables", "error", "image_only", "unreadable")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    portal TEXT NOT NULL,
    key TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    change TEXT,
    http_status INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT,
    content_type TEXT,
    final_url TEXT,
    title TEXT,
    report_year INTEGER,
    agency TEXT,
    listed_date TEXT,
    parent TEXT,
    tables_in_attachment INTEGER NOT NULL DEFAULT 0,
    extract_status TEXT,
    extract_error TEXT,
    stage_status TEXT,
    extract_attempts INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    fetched_at TEXT,
    run_id INTEGER NOT NULL,
    index_no TEXT,
    page_agency TEXT,
    page_date TEXT,
    PRIMARY KEY (portal, key)
);
CREATE INDEX IF NOT EXISTS urls_kind ON urls(portal, kind, status);
CREATE TABLE IF NOT EXISTS runs (
    portal TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (portal, run_id)
);
CREATE TABLE IF NOT EXISTS crawls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    exit_code INTEGER,
    verdict TEXT,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS crawl_counters (
    crawl_id INTEGER NOT NULL,
    portal TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, portal, name)
);
CREATE TABLE IF NOT EXISTS roots (
    portal TEXT NOT NULL,
    url TEXT NOT NULL,
    how TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    PRIMARY KEY (portal, url)
);
CREATE TABLE IF NOT EXISTS recipes (
    portal TEXT NOT NULL,
    entry TEXT NOT NULL,
    family TEXT NOT NULL,
    how TEXT NOT NULL,
    cursor TEXT NOT NULL,
    reports INTEGER NOT NULL,
    found_at TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    region_code TEXT,
    PRIMARY KEY (portal, entry)
);
"""

#: Columns added after the first release: (name, SQL type), added to older state files.
_ADDED_COLUMNS = (
    ("extract_attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("index_no", "TEXT"),
    ("page_agency", "TEXT"),
    ("page_date", "TEXT"),
    ("staged_status", "TEXT"),
    ("attachments", "TEXT"),
    ("resources", "TEXT"),
)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class UrlRow:
    portal: str
    key: str
    url: str
    kind: str
    status: str
    change: str | None
    http_status: int | None
    attempts: int
    last_error: str | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    content_type: str | None
    final_url: str | None
    title: str | None
    report_year: int | None
    agency: str | None
    listed_date: str | None
    parent: str | None
    tables_in_attachment: int
    extract_status: str | None
    extract_error: str | None
    stage_status: str | None
    extract_attempts: int  # extractions of the current body (reset when the body changes)
    first_seen: str
    last_seen: str
    fetched_at: str | None
    run_id: int
    index_no: str | None = None  # 索引号 printed on the report page
    page_agency: str | None = None  # 发布机构 printed on the report page
    page_date: str | None = None  # 发布日期 (else 成文日期) printed on the report page
    staged_status: str | None = None  # the status of the version staged (kept on changes)
    #: a report page's attachment URLs as a JSON list, found when its body was fetched (an
    #: unchanged page is not parsed again); None: not known (a state from before)
    attachments: str | None = None
    #: resources of a report page its sink asked for and has yet to read, as a JSON object
    #: {name: URL} (the nightly flow: the pictures of an image-only page's tables)
    resources: str | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    """A portal's 年报 entry found by an earlier run: where its list starts and how."""

    portal: str
    entry: str  # the request key of the entry's first page
    family: str
    how: str  # link-text, start-url, gkmlpt-tree, lonsun-type3, slug-probe ...
    cursor: str  # the entry's Cursor as JSON
    reports: int  # report links listed under it when last verified
    found_at: str
    verified_at: str
    region_code: str | None = None  # the portal's, to offer the recipe to its siblings


_COLUMNS = [f for f in UrlRow.__dataclass_fields__]


@dataclass(frozen=True, slots=True)
class CrawlRecord:
    """One invocation of the crawl (a row of ``crawls``)."""

    id: int
    started_at: str
    finished_at: str | None  # None: still running, or killed (SIGKILL, power loss)
    exit_code: int | None
    verdict: str | None
    summary: str | None  # the JSON summary


def state_path(data_dir: Path) -> Path:
    return state_dir(data_dir) / "crawl.sqlite"


class State:
    def __init__(self, data_dir: Path, *, readonly: bool = False) -> None:
        """Open (and create) the state; ``readonly`` opens an existing one for reading
        only (``FileNotFoundError`` if there is none), without taking any write lock."""
        path = state_path(data_dir)
        self.path = path
        if readonly:
            if not path.is_file():
                raise FileNotFoundError(f"no crawl state at {path}")
            self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(urls)")}
        for name, kind in _ADDED_COLUMNS:  # state written before the column existed
            if name not in columns:
                self.conn.execute(f"ALTER TABLE urls ADD COLUMN {name} {kind}")
        if "region_code" not in {r[1] for r in self.conn.execute("PRAGMA table_info(recipes)")}:
            self.conn.execute("ALTER TABLE recipes ADD COLUMN region_code TEXT")

    def close(self) -> None:
        self.conn.close()

    # runs -------------------------------------------------------------------------

    def open_run(self, portal: str) -> tuple[int, bool]:
        """The portal's open run (resumed=True) or a new one."""
        row = self.conn.execute(
            "SELECT run_id, finished_at FROM runs WHERE portal = ? ORDER BY run_id DESC LIMIT 1",
            (portal,),
        ).fetchone()
        if row is not None and row[1] is None:
            return int(row[0]), True
        run_id = 1 if row is None else int(row[0]) + 1
        self.conn.execute(
            "INSERT INTO runs (portal, run_id, started_at) VALUES (?, ?, ?)",
            (portal, run_id, now().isoformat()),
        )
        return run_id, False

    def finish_run(self, portal: str, run_id: int) -> None:
        self.conn.execute(
            "UPDATE runs SET finished_at = ? WHERE portal = ? AND run_id = ?",
            (now().isoformat(), portal, run_id),
        )

    # urls -------------------------------------------------------------------------

    def get(self, portal: str, key: str) -> UrlRow | None:
        row = self.conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM urls WHERE portal = ? AND key = ?",
            (portal, key),
        ).fetchone()
        return UrlRow(*row) if row else None

    def record(
        self, portal: str, key: str, url: str, kind: str, run_id: int, **values: Any
    ) -> None:
        """Insert or update one URL's row in a single transaction."""
        stamp = now().isoformat()
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown state columns: {sorted(unknown)}")
        values = {**values, "url": url, "kind": kind, "run_id": run_id, "last_seen": stamp}
        names = ["portal", "key", "first_seen", *values]
        placeholders = ", ".join("?" * len(names))
        updates = ", ".join(f"{n} = excluded.{n}" for n in values)
        self.conn.execute(
            f"INSERT INTO urls ({', '.join(names)}) VALUES ({placeholders}) "
            f"ON CONFLICT (portal, key) DO UPDATE SET {updates}",
            (portal, key, stamp, *values.values()),
        )

    def rows(self, portal: str | None = None, kind: str | None = None) -> list[UrlRow]:
        query = f"SELECT {', '.join(_COLUMNS)} FROM urls WHERE 1=1"
        params: list[str] = []
        if portal is not None:
            query += " AND portal = ?"
            params.append(portal)
        if kind is not None:
            query += " AND kind = ?"
            params.append(kind)
        return [UrlRow(*r) for r in self.conn.execute(query + " ORDER BY key", params)]

    def wanting(self, portal: str) -> list[UrlRow]:
        """The report pages of ``portal`` whose sink wants resources it has not read yet."""
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM urls WHERE portal = ? AND kind = 'report' "
            "AND status = 'ok' AND resources IS NOT NULL ORDER BY key"
        )
        return [UrlRow(*r) for r in self.conn.execute(query, (portal,))]

    def mark_stage(self, portal: str, key: str, status: str, error: str | None) -> None:
        """The staging outcome; once ``staged``, the version's status is remembered as the
        one a later version of the body must not fall below."""
        self.conn.execute(
            "UPDATE urls SET stage_status = ?, extract_error = coalesce(?, extract_error), "
            "staged_status = CASE WHEN ? = 'staged' THEN extract_status ELSE staged_status END "
            "WHERE portal = ? AND key = ?",
            (status, error, status, portal, key),
        )

    def update(self, portal: str, key: str, **values: Any) -> None:
        """Set some columns of an existing row."""
        unknown = set(values) - set(_COLUMNS)
        if unknown or not values:
            raise ValueError(f"unknown state columns: {sorted(unknown)}")
        sets = ", ".join(f"{n} = ?" for n in values)
        self.conn.execute(
            f"UPDATE urls SET {sets} WHERE portal = ? AND key = ?",
            (*values.values(), portal, key),
        )

    def to_restage(self, portals: list[str], max_attempts: int) -> list[UrlRow]:
        """Rows to extract and stage again from their archived body: those an interrupted
        crawl fetched but never handed on (no ``extract_status`` yet) or left ``pending``,
        and those whose extraction or staging failed, while their current body has been
        tried fewer than ``max_attempts`` times."""
        if not portals:
            return []
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM urls WHERE status = 'ok' "
            "AND sha256 IS NOT NULL AND kind IN ('report', 'attachment') "
            f"AND portal IN ({', '.join('?' * len(portals))}) AND (stage_status = 'pending' "
            "OR extract_status IS NULL "
            "OR ((extract_status = 'error' OR stage_status = 'error') "
            "AND extract_attempts < ?)) ORDER BY portal, key"
        )
        return [UrlRow(*r) for r in self.conn.execute(query, (*portals, max_attempts))]

    def problems(self, portal: str | None = None, run_id: int | None = None) -> list[UrlRow]:
        """URLs whose last fetch failed, was blocked or found nothing (404/410/soft 404),
        newest first; of one portal and one of its runs when given."""
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM urls "
            f"WHERE status IN ({', '.join('?' * len(PROBLEM_STATUSES))})"
        )
        params: list[object] = [*PROBLEM_STATUSES]
        if portal is not None:
            query += " AND portal = ?"
            params.append(portal)
        if run_id is not None:
            query += " AND run_id = ?"
            params.append(run_id)
        query += " ORDER BY last_seen DESC, portal, key"
        return [UrlRow(*r) for r in self.conn.execute(query, params)]

    def attention(self) -> list[UrlRow]:
        """Fetched report pages and attachments whose figures are not (all) staged: the
        extraction was ``partial``, found ``no_tables``, could not read the document
        (``image_only``, ``unreadable``) or failed (``error``), staging failed, or a changed
        body read worse than the staged version (``kept_previous``: a suspicious change).
        A report page whose figures are in its attachments is left out (its attachments are
        listed if they hold no tables)."""
        query = (
            f"SELECT {', '.join(_COLUMNS)} FROM urls WHERE status = 'ok' "
            "AND kind IN ('report', 'attachment') "
            "AND (stage_status IN ('error', 'kept_previous') OR "
            f"(extract_status IN ({', '.join('?' * len(ATTENTION_EXTRACT))}) "
            "AND NOT (kind = 'report' AND tables_in_attachment = 1))) "
            "ORDER BY portal, extract_status, key"
        )
        return [UrlRow(*r) for r in self.conn.execute(query, ATTENTION_EXTRACT)]

    def unreadable(self, portal: str, run_id: int) -> Counter[str]:
        """Documents of one portal run whose figures could not be read at all, by reason:
        ``no_tables``, ``error``, ``image_only`` or ``unreadable: <why>`` (the reason an
        unreadable document is staged with is kept in ``extract_error``)."""
        rows = self.conn.execute(
            "SELECT CASE WHEN extract_status IN ('image_only', 'unreadable') "
            "THEN coalesce(extract_error, extract_status) ELSE extract_status END AS why, "
            "count(*) FROM urls WHERE portal = ? AND run_id = ? "
            "AND status = 'ok' AND kind IN ('report', 'attachment') "
            "AND extract_status IN ('no_tables', 'error', 'image_only', 'unreadable') "
            "AND NOT (kind = 'report' AND tables_in_attachment = 1) GROUP BY why",
            (portal, run_id),
        )
        return Counter({str(status): int(n) for status, n in rows})

    # crawls (invocations) ---------------------------------------------------------

    def start_crawl(self, started_at: datetime) -> int:
        cursor = self.conn.execute(
            "INSERT INTO crawls (started_at) VALUES (?)", (started_at.isoformat(),)
        )
        return int(cursor.lastrowid or 0)

    def finish_crawl(
        self,
        crawl_id: int,
        *,
        finished_at: datetime,
        exit_code: int | None,
        verdict: str,
        summary: str,
        counters: Iterable[tuple[str, str, int]],
    ) -> None:
        """Close a crawl's row and keep its counters (portal, name, value), at once."""
        with self._transaction():
            self.conn.execute(
                "UPDATE crawls SET finished_at = ?, exit_code = ?, verdict = ?, summary = ? "
                "WHERE id = ?",
                (finished_at.isoformat(), exit_code, verdict, summary, crawl_id),
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO crawl_counters (crawl_id, portal, name, value) "
                "VALUES (?, ?, ?, ?)",
                [(crawl_id, portal, name, value) for portal, name, value in counters],
            )

    def crawls(self, limit: int = 1) -> list[CrawlRecord]:
        """The latest crawls, newest first (none in a state older than the table)."""
        if not self._has_table("crawls"):
            return []
        rows = self.conn.execute(
            "SELECT id, started_at, finished_at, exit_code, verdict, summary FROM crawls "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [CrawlRecord(*r) for r in rows]

    def counters(self, crawl_id: int) -> dict[str, dict[str, int]]:
        """A crawl's counters: portal -> counter name -> value."""
        out: dict[str, dict[str, int]] = {}
        if not self._has_table("crawl_counters"):
            return out
        for portal, name, value in self.conn.execute(
            "SELECT portal, name, value FROM crawl_counters WHERE crawl_id = ? "
            "ORDER BY portal, name",
            (crawl_id,),
        ):
            out.setdefault(portal, {})[name] = int(value)
        return out

    def _has_table(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return found is not None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        # an autocommit connection (isolation_level=None): the transaction is explicit
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def verify_root(self, portal: str, url: str, how: str) -> None:
        self.conn.execute(
            "INSERT INTO roots (portal, url, how, verified_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (portal, url) DO UPDATE SET how = excluded.how, "
            "verified_at = excluded.verified_at",
            (portal, url, how, now().isoformat()),
        )

    # recipes: the 年报 entries a portal's crawl found ----------------------------------

    def recipes(self, portal: str) -> list[Recipe]:
        fields = ", ".join(Recipe.__dataclass_fields__)
        rows = self.conn.execute(
            f"SELECT {fields} FROM recipes WHERE portal = ? ORDER BY found_at, entry", (portal,)
        )
        return [Recipe(*r) for r in rows]

    def remember(
        self,
        portal: str,
        entry: str,
        *,
        family: str,
        how: str,
        cursor: str,
        reports: int,
        region_code: str | None = None,
        discovered: bool = True,
    ) -> None:
        """Record (or re-verify) a 年报 entry that listed ``reports`` report links;
        ``discovered``: found by discovery in this run (not only visited as remembered)."""
        stamp = now().isoformat()
        found_at = "excluded.found_at" if discovered else "recipes.found_at"
        self.conn.execute(
            "INSERT INTO recipes (portal, entry, family, how, cursor, reports, found_at, "
            "verified_at, region_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (portal, entry) DO UPDATE SET family = excluded.family, "
            "reports = excluded.reports, verified_at = excluded.verified_at, "
            f"region_code = excluded.region_code, found_at = {found_at}",
            (portal, entry, family, how, cursor, reports, stamp, stamp, region_code),
        )

    def sibling_recipes(self, portal: str, region_code: str | None) -> list[Recipe]:
        """Recipes of other portals of the same prefecture (same first 4 code digits): the
        platform is chosen by the prefecture, so a sibling's folder is worth one try."""
        if not region_code or len(region_code) != 6:
            return []
        fields = ", ".join(Recipe.__dataclass_fields__)
        rows = self.conn.execute(
            f"SELECT {fields} FROM recipes WHERE portal != ? AND substr(region_code, 1, 4) = ? "
            "ORDER BY reports DESC, entry",
            (portal, region_code[:4]),
        )
        return [Recipe(*r) for r in rows]

    def forget(self, portal: str, entry: str) -> None:
        """Drop an entry that moved (404, or no report links any more)."""
        self.conn.execute("DELETE FROM recipes WHERE portal = ? AND entry = ?", (portal, entry))
