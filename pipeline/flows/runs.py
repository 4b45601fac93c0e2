"""The record of one crawl: a JSON summary under ``<data_dir>/runs/`` (``<UTC start>.json``
and ``latest.json``), optionally at a path of the operator's, and in the crawl state
(``crawls`` and ``crawl_counters``), so that monitoring and ``python -m pipeline status``
need neither the log nor SQL."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.crawl import CrawlSummary, State, UrlRow
from pipeline.datadir import runs_dir
from pipeline.version import __version__

log = logging.getLogger("pipeline.flows.runs")

#: bumped when a field of the summary changes meaning or goes away
SCHEMA_VERSION = 1

#: failed / blocked / not-found URLs listed per portal in the summary (the state has all)
MAX_PROBLEMS = 100

LATEST = "latest.json"


def problem(row: UrlRow) -> dict[str, object]:
    return {
        "url": row.url,
        "kind": row.kind,
        "status": row.status,
        "http_status": row.http_status,
        "error": row.last_error,
        "attempts": row.attempts,
        "last_seen": row.last_seen,
    }


def summary_document(
    summary: CrawlSummary,
    *,
    crawl_id: int,
    data_dir: Path,
    exit_code: int | None,
    problems: dict[str, list[UrlRow]],
) -> dict[str, object]:
    """The JSON summary of a run (``problems``: each portal's failed URLs of this run)."""
    portals = []
    for portal in summary.portals:
        mine = problems.get(portal.name, [])
        portals.append(
            {
                **portal.to_dict(),
                "problems": [problem(r) for r in mine[:MAX_PROBLEMS]],
                "problems_not_listed": max(0, len(mine) - MAX_PROBLEMS),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "crawl_id": crawl_id,
        "pipeline_version": __version__,
        "data_dir": str(data_dir),
        "started_at": _iso(summary.started_at),
        "finished_at": _iso(summary.finished_at),
        "seconds": round(summary.seconds, 3),
        "verdict": summary.verdict,
        "exit_code": exit_code,
        "interrupted_by": summary.interrupted,
        "totals": summary.totals(),
        "portals": portals,
    }


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when is not None else None


def file_name(started: datetime, taken: Callable[[str], bool]) -> str:
    """``20250101T023000Z.json``, or ``...Z-2.json`` if a run of the same second has it."""
    stem = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = f"{stem}.json", 1
    while taken(name):
        n += 1
        name = f"{stem}-{n}.json"
    return name


def write_json(path: Path, doc: object) -> None:
    """Write ``doc`` to ``path`` atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as stream:
            json.dump(doc, stream, ensure_ascii=False, indent=2)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def record(
    state: State,
    crawl_id: int,
    data_dir: Path,
    summary: CrawlSummary,
    *,
    exit_code: int | None,
    also: Path | None = None,
) -> Path | None:
    """Fill each portal's unreadable-document counts from the state, keep the run's
    counters and summary in the state, write the JSON summaries; returns the path under
    ``runs/`` (None if it could not be written: logged, the crawl's result stands)."""
    for portal in summary.portals:
        portal.unreadable = state.unreadable(portal.name, portal.run_id)
    problems = {p.name: state.problems(p.name, p.run_id) for p in summary.portals}
    doc = summary_document(
        summary, crawl_id=crawl_id, data_dir=data_dir, exit_code=exit_code, problems=problems
    )
    text = json.dumps(doc, ensure_ascii=False)
    state.finish_crawl(
        crawl_id,
        finished_at=summary.finished_at or datetime.now(UTC),
        exit_code=exit_code,
        verdict=summary.verdict,
        summary=text,
        counters=[(p.name, k, v) for p in summary.portals for k, v in p.counters().items()],
    )
    folder = runs_dir(data_dir)
    path: Path | None = None
    try:
        started = summary.started_at or datetime.now(UTC)
        path = folder / file_name(started, lambda name: (folder / name).exists())
        write_json(path, doc)
        write_json(folder / LATEST, doc)
    except OSError as exc:
        log.error("event=summary_not_written dir=%s error=%s", folder, exc)
        path = None
    if also is not None:
        try:
            write_json(also, doc)
        except OSError as exc:
            log.error("event=summary_not_written path=%s error=%s", also, exc)
    return path
