"""What makes a portal failed, a run partial; the summary file's name and its atomic
write; the logging level and JSON lines; the status table's CJK widths."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.cli.crawl import exit_code
from pipeline.cli.logs import JsonFormatter, level_for
from pipeline.cli.status import table, width
from pipeline.crawl.summary import CrawlSummary, PortalSummary
from pipeline.flows.runs import file_name, write_json


def portal(**counts: object) -> PortalSummary:
    values: dict[str, object] = {"completed": True, "listing_pages": 2, **counts}
    return PortalSummary(name="p", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        ({}, "ok"),
        ({"failed": 3}, "ok"),  # report pages that failed: counted, fetched again next run
        ({"listing_failed": 1}, "failed"),  # a listing page could not be fetched
        ({"listing_pages": 0}, "failed"),  # completed without a single listing page
        ({"blocked": 1}, "blocked"),
        ({"blocked": 1, "listing_failed": 1}, "blocked"),
        ({"completed": False}, "incomplete"),  # --max-pages
        ({"completed": False, "interrupted": True}, "interrupted"),
        ({"completed": False, "listing_pages": 0}, "incomplete"),
    ],
)
def test_portal_outcome(counts, outcome) -> None:
    assert portal(**counts).outcome == outcome


@pytest.mark.parametrize(
    ("portals", "interrupted", "verdict", "code"),
    [
        ([{}, {}], None, "ok", 0),
        ([{}, {"listing_failed": 1, "listing_pages": 0}], None, "partial", 5),
        ([{}, {"blocked": 2}], None, "partial", 5),
        ([{"completed": False}], None, "ok", 0),  # --max-pages: the operator asked for it
        ([{"listing_pages": 0, "listing_failed": 1}] * 2, None, "nothing_fetched", 1),
        ([{"listing_failed": 1}], "SIGTERM", "interrupted", 143),
        ([{}], "SIGINT", "interrupted", 130),
    ],
)
def test_run_verdict_and_exit_code(portals, interrupted, verdict, code) -> None:
    summary = CrawlSummary([portal(**p) for p in portals], interrupted=interrupted)
    assert summary.verdict == verdict
    assert exit_code(summary) == code


def test_counters_are_flat_and_json_ready() -> None:
    summary = portal(reports_new=2)
    summary.reasons["failed: HTTP 500"] += 1
    summary.outcomes["ok"] += 3
    summary.unreadable["no_tables"] += 1
    flat = summary.counters()
    assert flat["reports_new"] == 2 and flat["reason:failed: HTTP 500"] == 1
    assert flat["outcome:ok"] == 3 and flat["unreadable:no_tables"] == 1
    json.dumps(summary.to_dict())


def test_summary_file_names_sort_by_time_and_never_collide() -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert file_name(when, lambda _name: False) == "20250102T030405Z.json"
    taken = {"20250102T030405Z.json", "20250102T030405Z-2.json"}
    assert file_name(when, taken.__contains__) == "20250102T030405Z-3.json"


def test_write_json_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "latest.json"
    write_json(path, {"a": 1})
    write_json(path, {"测试": 2})
    assert json.loads(path.read_text(encoding="utf-8")) == {"测试": 2}
    assert [p.name for p in path.parent.iterdir()] == ["latest.json"]


def test_log_level_from_v_and_q() -> None:
    assert level_for(0, 0) == logging.INFO
    assert level_for(1, 0) == logging.DEBUG and level_for(3, 0) == logging.DEBUG
    assert level_for(0, 1) == logging.WARNING and level_for(0, 9) == logging.CRITICAL


def test_json_log_line() -> None:
    record = logging.LogRecord(
        "pipeline.crawl", logging.WARNING, "", 0, "event=%s x", ("blocked",), None
    )
    doc = json.loads(JsonFormatter().format(record))
    assert doc["level"] == "WARNING" and doc["logger"] == "pipeline.crawl"
    assert doc["message"] == "event=blocked x" and doc["event"] == "blocked"


def test_status_table_pads_cjk_to_the_terminal_width() -> None:
    assert width("柯城区") == 6 and width("p0") == 2
    text = table(["portal", "n"], [["柯城区", 1], ["p0", 22]])
    # the second column starts in the same terminal cell on every line (not character)
    assert [width(line[: line.rindex(" ") + 1]) for line in text.splitlines()] == [8, 8, 8]
