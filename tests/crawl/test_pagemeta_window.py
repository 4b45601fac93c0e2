"""The report page's 索引号 block is read from a bounded window of its markup: a 45 MB page
of table cells took 1.4 GB and 8 s in the crawling process (found by
benchmarks/adversarial.py), only to read 8,000 characters of text."""

from __future__ import annotations

from pipeline.crawl.pagemeta import HTML_WINDOW, page_text, read_block
from tests.corpus import CORPUS

BLOCK = (
    "<table><tr><td>索引号：</td><td>330803/2021-46933</td></tr>"
    "<tr><td>发布单位：</td><td>衢江区人民政府办公室</td></tr></table>"
)


def test_the_block_above_a_huge_table_is_read_from_the_window() -> None:
    row = "<tr>" + "".join(f"<td>{i}</td>" for i in range(10)) + "</tr>"
    page = f"<html><body>{BLOCK}<table>{row * (3 * HTML_WINDOW // len(row))}</table></body></html>"
    text = page_text(page)
    assert len(text) < HTML_WINDOW  # the cells past the window were never parsed
    meta = read_block(text)
    assert (meta.index_no, meta.agency) == ("330803/2021-46933", "衢江区人民政府办公室")


def test_a_real_page_reads_as_before() -> None:
    html = (CORPUS / "raw" / "042.html").read_text(encoding="utf-8")
    assert len(html) < HTML_WINDOW
    meta = read_block(page_text(html))
    assert meta.index_no is not None and meta.index_no in html
