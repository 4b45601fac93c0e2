"""Splitting figures printed with no separator: bounded, and only where one reading fits."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.extract.run_together import (
    MAX_STEPS,
    _label_after_figure,
    candidate_splits,
    is_glued,
    split_cells,
)
from tests.corpus import CORPUS

# 001 (平潭 2021) is a real 9 KB innerText with every table cell glued.
GLUED_PAGE = CORPUS / "raw" / "001.txt"
NEW_RECEIVED = "一、本年新收政府信息公开申请数量640020470"


def test_long_digit_runs_stop_at_the_step_budget() -> None:
    digits = "1234567890" * 8  # 80 digits: billions of compositions into 7 cells
    started = time.perf_counter()
    found = candidate_splits([digits], 7, 7, limit=16)
    assert not found.complete and found.only is None
    assert time.perf_counter() - started < 2
    assert candidate_splits(["1" * 100], 15, 5).only is None
    assert MAX_STEPS <= 100_000


def test_each_block_ends_with_its_sum() -> None:
    # 001's Table 4: the only split where each case type's 总计 is the sum of its results.
    assert split_cells(["10203120001200000"], 15, 5) == [
        "1",
        "0",
        "2",
        "0",
        "3",
        "12",
        "0",
        "0",
        "0",
        "12",
        "0",
        "0",
        "0",
        "0",
        "0",
    ]
    # 001's （一）予以公开: two readings fit the row total; both are returned, none chosen.
    both = candidate_splits(["270020130"], 7, 7, limit=16)
    assert both.complete and sorted(both.splits) == [
        ("2", "7", "0", "0", "20", "1", "30"),
        ("27", "0", "0", "2", "0", "1", "30"),
    ]
    assert split_cells(["270020130"], 7, 7) is None
    # A printed space is a cell edge: "500000 5" is never read as 50|0|0|0|0|5 + ...
    assert split_cells(["500000", "5"], 7, 7) == list("5000005")
    assert split_cells(["05"], 2, None) == ["0", "5"]
    # A big city's row (032, 21 digits): the addends never exceed what the digits left
    # for the total can hold, so the one split is found in a few hundred steps.
    assert split_cells(["136122520451283214069"], 7, 7) == [
        "13612",
        "252",
        "0",
        "45",
        "128",
        "32",
        "14069",
    ]
    # Its Table 4: three splits fit; 行政复议 and the last case type read the same in all.
    readings = candidate_splits(["376971961217901611227567413051156"], 15, 5, limit=16)
    assert readings.complete and len(readings.splits) == 3
    assert {s[:5] for s in readings.splits} == {("376", "97", "196", "121", "790")}
    assert len({s[5:10] for s in readings.splits}) > 1
    assert split_cells(["5", "x"], 2, None) is None


_CHILD = """
import json, resource, sys, time
from pipeline.extract import extract_document
content = sys.stdin.buffer.read()
started = time.perf_counter()
report = extract_document(content, source="long-run")
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "facts": len(report.fact_list),
    "checks": sorted({f.check for f in report.finding_list}),
}))
"""


def _extract_in_child(content: bytes) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=content,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("digits", [45, 100])
def test_a_long_glued_run_extracts_quickly_in_small_memory(digits: int) -> None:
    """Issue 8: a 9 KB glued page with a 45-100-digit run took 2.5-4 GB and minutes."""
    page = GLUED_PAGE.read_text(encoding="utf-8")
    assert NEW_RECEIVED in page
    run = ("9876543210" * 10)[:digits]
    content = page.replace(NEW_RECEIVED, f"一、本年新收政府信息公开申请数量{run}").encode()
    baseline = _extract_in_child(b"")
    measured = _extract_in_child(content)
    assert measured["seconds"] < 10
    assert measured["peak_kb"] - baseline["peak_kb"] < 300 * 1024  # under 300 MB more
    assert "row_incomplete" in measured["checks"] or "row_ambiguous" in measured["checks"]
    assert measured["facts"] > 100  # the other rows are still read


def test_unglue_keeps_numbers_inside_sentences_in_their_text() -> None:
    """From 055's flattened page: a 文号, a postcode, a telephone number, a year, a count
    with its measure word and a percentage are no figures; the table's are."""
    from pipeline.extract.run_together import unglue

    line = (
        "（闽政办网传〔2016〕33号）的要求，邮编：350400；电话：23165327；2016年全区主动公开"
        "政府信息3460条，占53%。pzxxgkb@163.com行政处罚1282行政强制42规章///行政规范性文件"
    )
    assert unglue(line) == [
        "（闽政办网传〔2016〕33号）的要求，邮编：350400；电话：23165327；2016年全区主动公开"
        "政府信息3460条，占53%。pzxxgkb@163.com",
        "行政处罚",
        "1282",
        "行政强制",
        "42",
        "规章",
        "///",
        "行政规范性文件",
    ]


_LINE_PIECES = st.sampled_from(
    [
        *("0", "1", "2", "3", "9", "１２", "٣", " ", "-", "+", ".", "、", "，", "年", "件"),
        *("元", "规章", "a", "行政许可", "（一）", "2021", "0591-2316", "1.5", "〔2015〕"),
        *("|", "第3", "%"),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE_PIECES, max_size=40))
def test_the_quick_tests_of_a_glued_line_change_no_answer(pieces: list[str]) -> None:
    """``is_glued`` skips the count of figures followed by text on lines that cannot reach
    3 (fewer than three digits apart, or no CJK): the same answer as the count itself."""
    line = "".join(pieces)
    counted = "|" not in line and (len(line) >= 300 or _label_after_figure(line, enough=3) >= 3)
    assert is_glued(line) == counted


def test_real_lines_are_told_glued_as_before() -> None:
    """Of the 21 lines of a real text rendering (037), only its first (175 characters)
    counts three figures followed by text; so does a line of a real page's text."""
    lines = [line for line in (CORPUS / "raw" / "037.txt").read_text("utf-8").splitlines()]
    lines = [line for line in lines if line]
    assert len(lines) == 21 and [i for i, line in enumerate(lines) if is_glued(line)] == [0]
    prose = "信息发布 1744 条，政务信息发布 393 条，解读类信息发布 21 条，"
    assert is_glued(prose) and not is_glued("2011年刊出政务公开栏12期。")
