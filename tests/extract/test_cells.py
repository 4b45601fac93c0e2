"""Reading single cells and text renderings: the small pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.extract.cells import label_form, read_value
from pipeline.extract.text_cells import text_cells


@pytest.mark.parametrize(
    ("raw", "semantic", "number", "unit"),
    [
        ("0", "number", Decimal(0), None),
        ("１２３", "number", Decimal(123), None),  # full-width digits
        ("1,234", "number", Decimal(1234), None),
        ("+2", "number", Decimal(2), None),
        ("-18", "number", Decimal(-18), None),
        ("251000元", "number", Decimal(251000), "元"),
        ("9116.36", "number", Decimal("9116.36"), None),
        ("12万元", "number", Decimal(12), "万元"),
        ("3件", "number", Decimal(3), "件"),
        ("0\u00a0\u00a0\u00a0", "number", Decimal(0), None),
        ("", "blank", None, None),
        ("\u00a0", "blank", None, None),
        ("/", "mark", None, None),
        ("—", "mark", None, None),
        ("无", "mark", None, None),
    ],
)
def test_read_value(raw: str, semantic: str, number: Decimal | None, unit: str | None) -> None:
    value = read_value(raw)
    assert value is not None
    assert (value.semantic, value.number, value.unit) == (semantic, number, unit)


@pytest.mark.parametrize("raw", ["规章", "第二十条第(一)项", "500000 5", "1.属于国家秘密", "- 4 -"])
def test_text_is_not_a_value(raw: str) -> None:
    assert read_value(raw) is None


def test_label_form_folds_width_spaces_and_traditional() -> None:
    assert label_form("（三）不予公开 ") == "(三)不予公开"
    assert label_form("商业\n企业") == "商业企业"
    assert label_form("行政處罰") == "行政处罚"
    assert label_form("3.危及“三安全一稳定”") == '3.危及"三安全一稳定"'


def test_text_cells_reads_every_real_rendering_shape() -> None:
    # pipe rows (000), cell | per line with lone | as empty cells (014),
    # lone | lines between cells (008), and PDF rows with space-separated figures (030)
    assert text_cells("规章 | 0 | 0 | 0 |\n行政事业性收费 | 0\n三、") == [
        "规章",
        "0",
        "0",
        "0",
        "行政事业性收费",
        "0",
        "三、",
    ]
    assert text_cells("一、本年新收 |\n|\n|\n0 |\n||") == ["一、本年新收", "", "", "0", "", ""]
    assert text_cells("规章\n|\n0\n|\n6\n|") == ["规章", "0", "6"]
    # a figure's trailing comma still ends a row of figures (the speed-up's early exit
    # looked for a digit only)
    assert text_cells("行政处罚 3,985,") == ["行政处罚", "3,985,"]
    assert text_cells("行政处罚 3985758\n（四）无 1.不掌握 746 12") == [
        "行政处罚",
        "3985758",
        "（四）无 1.不掌握",
        "746",
        "12",
    ]
    assert text_cells("| a | b |\n|---|---|\n| 1 | 2 |") == ["a", "b", "1", "2"]


def test_glued_figures_split_only_where_one_split_exists() -> None:
    """The run-together rows of 001 (平潭 2021), as its gold notes resolve them."""
    from pipeline.extract.run_together import split_cells, unglue

    assert split_cells(["000"], 3, None) == ["0", "0", "0"]
    assert split_cells(["500000", "5"], 7, 7) == list("5000005")
    assert split_cells(["640020470"], 7, 7) == ["64", "0", "0", "2", "0", "4", "70"]
    assert split_cells(["270020130"], 7, 7) is None  # 27|0|0|2|0|1|30 or 2|7|…
    assert split_cells(["693665"], 3, None) is None  # 69|3|665, 6|93|665, …
    assert split_cells(["10203120001200000"], 15, 5) == [
        "1", "0", "2", "0", "3", "12", "0", "0", "0", "12", "0", "0", "0", "0", "0",
    ]
    assert unglue("现行有效件数规章 000行政规范性文件693665第二十条第（五）项") == [
        "现行有效件数",
        "规章",
        "000",
        "行政规范性文件",
        "693665",
        "第二十条第（五）项",
    ]
    assert unglue("1.属于国家秘密00000002.其他法律行政法规禁止公开") == [
        "1.属于国家秘密",
        "0000000",
        "2.其他法律行政法规禁止公开",
    ]
