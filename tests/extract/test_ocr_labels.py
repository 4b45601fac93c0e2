"""Row labels OCR misread, put right by the national rows they stand between.

The cell texts are what Tesseract read from the scans of tests/fixtures/ocr (042, 021, 044
and 032), around the label it misread."""

from __future__ import annotations

from pipeline.extract import layout
from pipeline.extract.cells import label_form
from pipeline.extract.ocr_labels import NATIONAL_LABELS, distance, relabel

# 042, Table 3 around 禁止公开 read as "茜止公开".
_042 = [
    "(三) 不予公 开",
    "1.属 于国家秘密",
    "0",
    "",
    "2.其 他 法 律行政 法规茜止公 开",
    "0",
    "",
    "3.危及“三 安全一稳定",
    "0",
]


def test_a_misread_label_is_the_missing_row_between_its_neighbours() -> None:
    cells, fixed = relabel(_042)
    assert [(f.cell, f.row) for f in fixed] == [(4, "denied_prohibited_by_law")]
    assert cells[4] == "2.其他法律行政法规禁止公开"
    assert layout.application_row(label_form(cells[4])) == "denied_prohibited_by_law"
    assert cells[:4] == _042[:4] and cells[5:] == _042[5:]


def test_labels_read_right_are_left_as_they_are() -> None:
    right = [c.replace("茜", "禁") for c in _042]
    assert relabel(right) == (right, [])


def test_a_label_too_far_from_the_missing_row_is_left_out() -> None:
    # 032 read the row between 国家秘密 and 三安全一稳定 as this: nothing to go by.
    garbled = [*_042[:4], "韦站 不民 入HA-H 4一", *_042[5:]]
    assert relabel(garbled) == (garbled, [])


def test_a_label_is_only_taken_for_a_row_missing_between_its_neighbours() -> None:
    # The same misread label after 三安全一稳定: 禁止公开 is not between its neighbours.
    moved = [
        "1.属 于国家秘密",
        "0",
        "3.危及“三 安全一稳定",
        "0",
        "2.其 他 法 律行政 法规茜止公 开",
        "0",
        "4.保护第 三 方合法 权益",
        "0",
    ]
    assert relabel(moved) == (moved, [])


def test_two_cells_for_one_missing_row_are_both_left_out() -> None:
    twice = [*_042[:4], "2.其 他 法 律行政 法规茜止公 开", "其他法律行政法规茜止公", *_042[5:]]
    assert relabel(twice) == (twice, [])


def test_a_label_between_two_missing_rows_needs_a_clear_winner() -> None:
    # 021 read 3.危及“三安全一稳定” as "3. 危及“三安全--稳 IE"; 044 as "... 稳 总". With
    # both 禁止公开 and 三安全一稳定 missing, each is still clearly one of them.
    cells = [
        "1.属于国家秘密",
        "14",
        "3. 危及“三安全--稳 IE",
        "",
        "3. 危及“三 安全一 稳 总",
        "",
        "4.保护第三方合法权 益",
    ]
    _, fixed = relabel(cells)
    assert [(f.cell, f.row) for f in fixed] == []  # two cells for one row: left out
    _, fixed = relabel(cells[:4] + cells[6:])
    assert [(f.cell, f.row) for f in fixed] == [(2, "denied_three_safeties")]


def test_edit_distance() -> None:
    assert distance("禁止公开", "茜止公开") == 1
    assert distance("", "三安全") == 3 and distance("危及三安全稳", "危及三安全一稳定") == 2
    assert set(NATIONAL_LABELS) <= set(layout.APPLICATION_ROWS["2021"])


def test_a_label_near_two_missing_rows_is_left_alone() -> None:
    """With several rows missing and one label read, a reading near two of them (within
    twice the distance allowed of the other) could be either: filed under the wrong one,
    its figures would still add up, so it is not relabelled."""
    # between 属于三类内部事务信息 and 属于四类过程性信息, closer to the first by 2 edits
    read = "属于三类内部过程信息"
    assert distance(read, "属于三类内部事务信息") + 2 <= distance(read, "属于四类过程性信息")
    _, fixed = relabel(["2.其他法律行政法规禁止公开", "0", read, "0", "7.属于行政执法案卷"])
    assert fixed == []
    # with only its own row missing between its neighbours, it is put right
    _, fixed = relabel(["4.保护第三方合法权益", "0", read, "0", "6.属于四类过程性信息"])
    assert [(f.cell, f.row) for f in fixed] == [(2, "denied_internal_affairs")]
