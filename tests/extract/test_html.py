"""HTML specifics: grids from rowspan/colspan, Word markup, encodings, split tables."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from pipeline.extract import extract_document
from pipeline.extract.html_cells import (
    html_cells,
    html_lines,
    html_text,
    page_nodes,
    parse_html,
    table_cells,
)
from tests.corpus import CORPUS


def test_rowspan_and_colspan_expand_as_a_grid() -> None:
    """A label spanning rows is read once; a blank spanning rows is blank in each row."""
    tree = parse_html(
        "<table><tr><td rowspan=3>三、结果</td><td colspan=2>予以公开</td><td>5</td>"
        "<td rowspan=2>&nbsp;</td><td>1</td></tr>"
        "<tr><td>部分</td><td>公开</td><td>2</td><td>0</td></tr>"
        "<tr><td colspan=2>总计</td><td>7</td><td>/</td><td>1</td></tr></table>"
    )
    assert table_cells(tree.css_first("table")) == [
        "三、结果",
        "予以公开",
        "5",
        "",
        "1",
        "部分",
        "公开",
        "2",
        "",
        "0",
        "总计",
        "7",
        "/",
        "1",
    ]


def test_gbk_page_without_declared_charset() -> None:
    """A real page (043) re-encoded as GBK with its charset declaration removed."""
    html = (CORPUS / "raw" / "043.html").read_text(encoding="utf-8")
    html = html.replace('charset="utf-8"', "").replace("charset=utf-8", "")
    content = html.encode("gbk", errors="replace")
    report = extract_document(content, source="043-gbk.html")
    assert report.fact("active_disclosure/normative_documents/in_force").value == 698
    assert report.fact("active_disclosure/fees/amount_10k_yuan").number == Decimal("9116.36")
    assert report.meta.status == "ok"


def test_tables_split_over_several_tables_and_without_header_rows() -> None:
    """032's tables cut into one <table> per row still read the same figures."""
    html = (CORPUS / "raw" / "032.html").read_text(encoding="utf-8")
    whole = extract_document(html.encode(), source="032")
    split = html.replace("</tr>", "</tr></table><table>")
    pieces = extract_document(split.encode(), source="032-split")
    assert {f.key: f.number for f in pieces.fact_list} == {f.key: f.number for f in whole.fact_list}


def test_word_export_with_numbers_split_over_spans(tmp_path: Path) -> None:
    report = extract_document((CORPUS / "raw" / "044.html").read_bytes(), source="044")
    assert report.fact("applications/new_received/natural_person").value == 20  # '2'+'0'
    assert report.fact("active_disclosure/procurement/amount").number == Decimal("73802895.90")
    assert report.fact("active_disclosure/procurement/amount").unit == "元"
    assert report.fact("active_disclosure/penalty/change").value == -18
    failing = [f for f in report.finding_list if f.status == "fail"]
    # the printed （七）总计 breaks the outcome-sum identity for 自然人 (26 vs 20) and 总计
    assert {(f.check, f.column, f.expected, f.printed) for f in failing} == {
        ("outcome_sum", "natural_person", 26.0, 20.0),
        ("outcome_sum", "total", 27.0, 21.0),
    }
    # and a broken identity changes no printed number
    assert report.fact("applications/total_handled/total").value == 21


def _facts(content: bytes) -> dict[str, object]:
    return {f.key: f.number for f in extract_document(content, source="x").fact_list}


def test_real_page_in_traditional_characters_with_full_width_digits_and_units() -> None:
    """043 rewritten the ways real mirrors and editors print it: the same figures."""
    import re

    import zhconv

    html = (CORPUS / "raw" / "043.html").read_text(encoding="utf-8")
    original = _facts(html.encode())
    traditional = zhconv.convert(html, "zh-tw")
    assert "行政處罰" in traditional and "申請" in traditional

    # full-width digits and a unit in every cell that holds only a whole number
    def widen(match: re.Match[str]) -> str:
        digits = match.group(2).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        return f"{match.group(1)}{digits}件<"

    damaged, widened = re.subn(r"(>)(\d+)<", widen, traditional)
    assert widened > 150
    # stray spaces and a line break inside labels
    assert "本年新收" in damaged and "予以公開" in damaged
    damaged = damaged.replace("本年新收", "本年 新收").replace("予以公開", "予以\n公開")
    assert _facts(damaged.encode("utf-8")) == original
    assert original["active_disclosure/normative_documents/in_force"] == 698


def test_thousands_separators() -> None:
    html = (CORPUS / "raw" / "043.html").read_text(encoding="utf-8")
    assert ">10690<" in html
    facts = _facts(html.replace(">10690<", ">10,690<").encode())
    assert facts["active_disclosure/licensing/decisions"] == 10690


def test_utf8_page_with_a_stale_gbk_meta_declaration() -> None:
    """Read as the UTF-8 it is, not as the GBK its <meta> claims (a common CMS leftover)."""
    html = (CORPUS / "raw" / "032.html").read_text(encoding="utf-8")
    stale = html.replace("<head>", '<head><meta charset="gbk">', 1)
    assert stale != html
    assert _facts(stale.encode("utf-8")) == _facts(html.encode("utf-8"))
    assert _facts(stale.encode("utf-8"))["applications/new_received/total"] == 14069


def test_report_tables_nested_in_a_layout_table() -> None:
    """Old portals lay the whole page out in tables; the report's own tables sit inside."""
    html = (CORPUS / "raw" / "032.html").read_text(encoding="utf-8")
    start, end = html.index("<table"), html.rindex("</table>") + len("</table>")
    layout = (
        "<table><tr><td>首页</td><td>2025</td></tr><tr><td>访问量</td><td>"
        + html[start:end]
        + "</td></tr><tr><td>网站标识码</td><td>3300000001</td></tr></table>"
    )
    nested = html[:start] + layout + html[end:]
    assert _facts(nested.encode()) == _facts(html.encode())


def test_text_fallback_lines_come_from_the_one_tree() -> None:
    """The text fallback's lines are read from the tree the tables were read from. On a
    real pre-2019 page they are the lines of the markup with a break after each written
    block end tag (the second parse they replace); an implied end tag breaks too."""
    page = (CORPUS / "raw" / "050.html").read_bytes()
    lines = html_lines(parse_html(page))
    written = re.sub(
        r"(?i)<(?:br\b[^<>]*|/(?:p|div|li|h[1-6]|tr|table|title)\s*)>",
        lambda m: m.group(0) + "\n",
        page.decode("utf-8"),
    )
    assert lines == html_text(parse_html(written))
    assert len(lines.splitlines()) == 124
    assert any("政府信息总数1873条" in line for line in lines.splitlines())
    assert html_lines(parse_html("<p>本年新收<p>12<br>3")).splitlines() == ["本年新收", "12", "3"]


def test_each_table_is_read_once_whatever_its_attributes() -> None:
    """One query finds <meta>, <title>, the tables and the spanned cells; a node matching
    two of its selectors comes back twice from lexbor, so a table carrying colspan or
    rowspan itself (032's, here) must still be read once."""
    html = (CORPUS / "raw" / "032.html").read_text(encoding="utf-8")
    cells = html_cells(parse_html(html))
    odd = html.replace("<table", "<table colspan=3 rowspan=2")
    assert odd != html and html_cells(parse_html(odd)) == cells
    assert len(page_nodes(parse_html(odd)).tables) == html.count("<table") == 3
