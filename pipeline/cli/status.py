"""``python -m pipeline status``: the last crawl, what failed, which reports need attention.

Everything comes from the crawl state (``state/crawl.sqlite``, opened read-only, so it
runs beside a crawl) and, for the identity checks, from the staged data; no SQL needed.
``--json`` prints the same as one JSON document for scripts.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.crawl import State, UrlRow
from pipeline.datadir import default_data_dir, parquet_dir

#: The identities a report's tables carry (pipeline/extract/identities.py)
IDENTITY_CHECKS = ("balance", "outcome_sum", "row_total", "review_total")

#: What the exit codes of a crawl mean, as printed next to them
CRAWL_EXITS = {
    0: "every portal crawled",
    1: "nothing fetched",
    5: "some portals failed or were blocked",
    130: "interrupted (SIGINT)",
    143: "terminated (SIGTERM)",
}

#: columns of the per-portal table of the last crawl: (heading, key in the summary)
PORTAL_COLUMNS = (
    ("listings", "listing_pages"),
    ("new", "reports_new"),
    ("changed", "reports_changed"),
    ("unchanged", "reports_unchanged"),
    ("failed", "failed"),
    ("blocked", "blocked"),
    ("extract err", "extract_errors"),
    ("stage err", "stage_errors"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Show the last crawl (per portal: outcome, counts, duration), every URL whose "
        "last fetch failed, was blocked or is gone, the reports whose figures are not "
        "(all) staged, and the staged reports whose identities fail. Read-only: safe "
        "while a crawl runs."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    parser.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="rows per list (default 20; 0: all)",
    )
    parser.set_defaults(func=run)


@dataclass(slots=True)
class Status:
    data_dir: Path
    last_crawl: dict[str, object] | None = None  # the JSON summary of the last finished crawl
    unfinished: dict[str, object] | None = None  # a newer crawl without an end (or running)
    failing: list[UrlRow] = field(default_factory=list)
    attention: list[UrlRow] = field(default_factory=list)
    identities: list[dict[str, object]] = field(default_factory=list)
    identities_error: str | None = None  # why the staged data could not be read

    def to_json(self) -> dict[str, object]:
        return {
            "data_dir": str(self.data_dir),
            "last_crawl": self.last_crawl,
            "unfinished_crawl": self.unfinished,
            "failing_urls": [failing_record(r) for r in self.failing],
            "reports_needing_attention": [attention_record(r) for r in self.attention],
            "identities_failed": self.identities,
            "identities_error": self.identities_error,
        }


def failing_record(row: UrlRow) -> dict[str, object]:
    return {
        "portal": row.portal,
        "kind": row.kind,
        "status": row.status,
        "http_status": row.http_status,
        "url": row.url,
        "error": row.last_error,
        "attempts": row.attempts,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
    }


def attention_record(row: UrlRow) -> dict[str, object]:
    return {
        "portal": row.portal,
        "kind": row.kind,
        "extract_status": row.extract_status,
        "stage_status": row.stage_status,
        "url": row.final_url or row.url,
        "title": row.title,
        "report_year": row.report_year,
        "error": row.extract_error,
    }


def gather(data_dir: Path) -> Status:
    """Read the status of ``data_dir``; ``FileNotFoundError`` without a crawl state."""
    status = Status(data_dir)
    state = State(data_dir, readonly=True)
    try:
        crawls = state.crawls(limit=50)
        newest = crawls[0] if crawls else None
        finished = next((c for c in crawls if c.finished_at and c.summary), None)
        if finished is not None and finished.summary:
            status.last_crawl = json.loads(finished.summary)
        if newest is not None and newest.finished_at is None:
            status.unfinished = {"crawl_id": newest.id, "started_at": newest.started_at}
        status.failing = state.problems()
        status.attention = state.attention()
    finally:
        state.close()
    status.identities, status.identities_error = failed_identities(data_dir)
    return status


def failed_identities(data_dir: Path) -> tuple[list[dict[str, object]], str | None]:
    """Failed identity checks of the staged reports (none when nothing is staged)."""
    if not parquet_dir(data_dir).is_dir():
        return [], None
    from pipeline import load  # pandas and pyarrow: only when there is staged data

    try:
        findings = load.findings(status="fail", data_dir=data_dir)
        reports = load.reports(data_dir=data_dir)
    except Exception as exc:  # unreadable staged data must not hide the crawl's status
        return [], f"{type(exc).__name__}: {exc}"
    findings = findings[findings["check"].astype("string").isin(IDENTITY_CHECKS)]
    urls = dict(zip(reports["report_id"].astype(str), reports["url"], strict=True))
    out = []
    for row in findings.to_dict("records"):
        rid = str(row["report_id"])
        out.append(
            {
                "report_id": rid,
                "url": urls.get(rid),
                "title": _text(row.get("title")),
                "report_year": _number(row.get("report_year")),
                "check": str(row["check"]),
                "where": "/".join(
                    str(row[k]) for k in ("table", "row", "column") if _text(row.get(k))
                ),
                "expected": _number(row.get("expected")),
                "printed": _number(row.get("printed")),
            }
        )
    return out, None


def _text(value: object) -> str | None:
    return None if value is None or value != value else str(value)  # NaN != NaN


def _number(value: object) -> int | float | None:
    if value is None or value != value:  # None, NaN, NA
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


# ---------------------------------------------------------------------- rendering


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns padded to their widest cell (CJK-aware)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in [headers, *rows]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        padded = [cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def _limited(rows: list[list[object]], limit: int) -> tuple[list[list[object]], str]:
    if limit <= 0 or len(rows) <= limit:
        return rows, ""
    return rows[:limit], f"... and {len(rows) - limit} more (--limit 0 shows all)"


def render(status: Status, limit: int = 20) -> str:
    """The readable status: last crawl, failing URLs, reports needing attention."""
    out = [f"Data directory: {status.data_dir}", ""]
    out += render_last_crawl(status)
    out += ["", f"URLs that failed, were blocked or are gone: {len(status.failing)}"]
    rows: list[list[object]] = [
        [r.portal, r.kind, r.status, r.http_status or "", when(r.last_seen), r.url, r.last_error]
        for r in status.failing
    ]
    shown, more = _limited(rows, limit)
    if shown:
        out.append(table(["portal", "kind", "status", "http", "last seen", "url", "error"], shown))
    out += [more] if more else []
    out += ["", f"Reports needing attention (figures not all staged): {len(status.attention)}"]
    rows = [
        [
            r.portal,
            r.kind,
            {"error": "staging error", "kept_previous": "suspicious change"}.get(
                r.stage_status or "", r.extract_status
            ),
            r.report_year or "",
            r.title or "",
            r.final_url or r.url,
            r.extract_error or "",
        ]
        for r in status.attention
    ]
    shown, more = _limited(rows, limit)
    if shown:
        out.append(table(["portal", "kind", "extraction", "year", "title", "url", "error"], shown))
    out += [more] if more else []
    out += ["", f"Staged reports whose identities fail: {len(status.identities)}"]
    if status.identities_error:
        out.append(f"  (staged data unreadable: {status.identities_error})")
    rows = [
        [
            i["report_year"] or "",
            i["title"] or "",
            i["check"],
            i["where"],
            i["expected"],
            i["printed"],
            i["url"],
        ]
        for i in status.identities
    ]
    shown, more = _limited(rows, limit)
    if shown:
        out.append(table(["year", "title", "check", "where", "expected", "printed", "url"], shown))
    out += [more] if more else []
    return "\n".join(out)


def when(iso: object) -> str:
    """An ISO time of the state as ``2025-01-02 02:30:04 UTC`` (as stored if unreadable)."""
    try:
        stamp = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")


def render_last_crawl(status: Status) -> list[str]:
    out = []
    if status.unfinished:
        out.append(
            f"Crawl #{status.unfinished['crawl_id']} started "
            f"{when(status.unfinished['started_at'])} "
            "has not finished: it is running, or was killed (it resumes on the next run)."
        )
    crawl = status.last_crawl
    if crawl is None:
        return [*out, "Last crawl: none recorded yet."]
    code = crawl.get("exit_code")
    meaning = CRAWL_EXITS.get(code, str(crawl.get("verdict"))) if isinstance(code, int) else ""
    out.append(
        f"Last crawl #{crawl.get('crawl_id')}: started {when(crawl.get('started_at'))}, "
        f"{_number(crawl.get('seconds')) or 0:.1f} s, verdict {crawl.get('verdict')}"
        + (f", exit {code} ({meaning})" if code is not None else "")
    )
    portals = crawl.get("portals") or []
    rows: list[list[object]] = []
    for portal in portals if isinstance(portals, list) else []:
        counts = portal.get("counts", {})
        unreadable = portal.get("unreadable", {})
        rows.append(
            [
                portal.get("name"),
                portal.get("outcome"),
                *(counts.get(key, 0) for _, key in PORTAL_COLUMNS),
                sum(unreadable.values()) if isinstance(unreadable, dict) else 0,
                f"{_number(portal.get('seconds')) or 0:.1f}",
            ]
        )
    if rows:
        headers = ["portal", "outcome", *(h for h, _ in PORTAL_COLUMNS), "unreadable", "seconds"]
        out.append(table(headers, rows))
    return out


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    try:
        status = gather(data_dir)
    except FileNotFoundError:
        print(
            f"error: {data_dir}: no crawl state here (state/crawl.sqlite): no crawl has run "
            "with this data directory",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    except sqlite3.Error as exc:
        print(f"error: {data_dir}: the crawl state cannot be read: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    if args.json:
        print(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render(status, args.limit))
    return ExitCode.OK
