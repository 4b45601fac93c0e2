"""Reading single cells and text renderings: the small pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.extract.cells import label_form, read_value
from pipeline.extract.decode import decode
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
        "规章", "0", "0", "0", "行政事业性收费", "0", "三、",
    ]
    assert text_cells("一、本年新收 |\n|\n|\n0 |\n||") == ["一、本年新收", "", "", "0", "", ""]
    assert text_cells("规章\n|\n0\n|\n6\n|") == ["规章", "0", "6"]
    assert text_cells("行政处罚 3985758\n（四）无 1.不掌握 746 12") == [
        "行政处罚", "3985758", "（四）无 1.不掌握", "746", "12",
    ]
    assert text_cells("| a | b |\n|---|---|\n| 1 | 2 |") == ["a", "b", "1", "2"]


def test_decode_prefers_declared_then_meta_then_utf8_then_gb18030() -> None:
    text = "行政处罚"
    assert decode(text.encode("gbk"), "text/html; charset=GBK") == text
    meta = f'<meta charset="gb2312"><p>{text}</p>'.encode("gbk")
    assert text in decode(meta)
    assert decode(text.encode("utf-8")) == text
    assert decode(text.encode("gb18030")) == text  # undeclared GBK-family bytes
    # a page that declares UTF-8 but is GBK is still read
    assert decode(text.encode("gbk"), "text/html; charset=utf-8") == text
