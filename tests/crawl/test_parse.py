"""Pure parsing functions on the real page samples."""

from __future__ import annotations

from pipeline.crawl.blocks import classify_block, is_soft_404
from pipeline.crawl.links import _json_pair, attachment_links, column_links, report_links
from pipeline.crawl.listing import (
    Cursor,
    Request,
    hanweb_datastore,
    next_page_link,
    parse_listing,
    sniff_family,
    trs_page_url,
)
from pipeline.titles import is_report_title, title_agency, title_year
from tests.portals import sample

BASE = "http://portal.test/xxgk/xxgknb/index.html"


def test_trs_listing_reports_dates_and_next_page() -> None:
    html = sample("01-trs-listing-xxgknb.html")
    assert sniff_family(html) == "trs"
    listing = parse_listing(html, Cursor(Request(BASE), "auto"))
    reports = report_links(listing.links)
    assert [r.url.rsplit("/", 1)[-1] for r in reports] == [
        "t20200903_2748784.html",
        "t20200311_2593126.html",
        "t20190530_2380968.html",
        "t20190530_2380967.html",
    ]
    assert reports[0].date == "2020-09-03"
    assert reports[1].title == "鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告"
    assert listing.next is not None
    assert listing.next.request.url == "http://portal.test/xxgk/xxgknb/index_1.html"
    assert listing.next.total_pages == 2


def test_trs_last_page_has_no_next() -> None:
    html = sample("01-trs-listing-xxgknb.html").replace(
        "var currentPage = 0;", "var currentPage = 1;"
    )
    cursor = Cursor(Request(BASE.replace("index.html", "index_1.html")), "trs", page=1)
    assert parse_listing(html, cursor).next is None


def test_trs_page_urls_follow_create_page_html_prefix_and_extension() -> None:
    html = 'createPageHTML(5, 0, "index", "shtml");'
    listing = parse_listing(html, Cursor(Request("http://p.test/a/b/"), "auto"))
    assert listing.next is not None
    assert listing.next.request.url == "http://p.test/a/b/index_1.shtml"
    assert (
        trs_page_url("http://p.test/a/index_3.htm", 4, None, None) == "http://p.test/a/index_4.htm"
    )


def test_hanweb_dataproxy_sample_skips_lookalike_and_keeps_webname_encoding() -> None:
    html = sample("02-hanweb-dataproxy-listing.html")
    assert sniff_family(html) == "hanweb"
    listing = parse_listing(html, Cursor(Request("http://p.test/col/col12377/index.html"), "auto"))
    titles = [link.title for link in listing.links]
    assert "2021年度政府网站年度工作报表" in titles  # read, but...
    assert report_links(listing.links) == []  # ...not a report
    # truncated anchor text: the title attribute wins
    assert any(t.endswith("问题整改完成情况的公示") for t in titles)
    store = hanweb_datastore(html, "http://p.test/col/col12377/index.html")
    assert store is not None and store.record_count == 9
    params = dict(store.proxy_params)
    assert params["columnid"] == "12377" and params["unitid"] == "38486"
    assert params["webname"].startswith("%E5%AE%9A")  # one decoding level, re-encoded on send
    nxt = listing.next
    assert nxt is not None and nxt.request.method == "POST"
    assert "startrecord=10" in nxt.request.url
    assert nxt.request.ajax and nxt.request.referer


def test_hub_page_links_to_the_report_column_by_text() -> None:
    html = sample("04-trs-xxgk-portal-index.html")
    listing = parse_listing(html, Cursor(Request("http://hdzfxxgk.hd.gov.cn/"), "auto"))
    assert [c.url for c in column_links(listing.links)] == ["http://hdzfxxgk.hd.gov.cn/zfxxgknb/"]
    assert report_links(listing.links) == []


def test_report_titles_years_and_agencies() -> None:
    assert is_report_title("柯城区2023年政府信息公开工作年度报告")
    assert is_report_title("鄂尔多斯市2018年政府信息公开年度报告")
    assert is_report_title("区司法局2021年政府信息公开年报")
    assert not is_report_title("2021年度政府网站年度工作报表")
    assert not is_report_title("2022年政务新媒体工作年度报告")
    assert not is_report_title("恩格贝生态示范区召开2020年度工作会暨党风廉政建设会议")
    assert title_year("2022年度柯城区政府信息公开工作年度报告") == 2022
    assert title_agency("2022年度柯城区政府信息公开工作年度报告") == "柯城区"
    assert title_agency("鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告") == (
        "鄂尔多斯市人民政府办公室"
    )
    assert title_agency("2023年政府信息公开工作年度报告") is None


def test_next_page_link_by_text() -> None:
    html = '<a href="list_1.html">上一页</a> <a href="list_3.html">下一页</a>'
    assert next_page_link(html, "http://p.test/nb/list_2.html") == "http://p.test/nb/list_3.html"
    assert next_page_link("<a href='javascript:void(0)'>下一页</a>", "http://p.test/") is None


def test_attachments_in_links_and_scripts() -> None:
    html = (
        '<a href="./P020240129.pdf">附件</a>'
        '<a href="/module/download/downfile.jsp?filename=a.doc&amp;classid=0">附件.doc</a>'
        "<script>var file_appendix='<a href=\"./P020240130.xls\">表</a>';</script>"
        '<a href="./t20240129_1.html">正文</a>'
    )
    found = attachment_links(html, "http://p.test/nb/202401/t20240129_1.html")
    assert found == [
        "http://p.test/nb/202401/P020240129.pdf",
        "http://p.test/module/download/downfile.jsp?filename=a.doc&classid=0",
        "http://p.test/nb/202401/P020240130.xls",
    ]


def test_attachment_urls_in_json_only_when_a_quoted_key_precedes_the_colon() -> None:
    page = "http://p.test/nb/202401/t20240129_1.html"
    # white space around the colon, an escaped quote, an upper-case HREF: all found
    html = (
        '<script>var d = {"fileUrl" \t:  \\"/up/2024/a.pdf\\", "name": "x"};</script>'
        "<A HREF='./b.docx'>b</A><a href='c%2Epdf'>c</a><a href='d&#46;xls'>d</a>"
        "<a href='/nb/index.html'>list</a><a href='e.ET'>e</a>"
    )
    # escapes that spell an extension only once the href is normalised count too
    assert attachment_links(html, page) == [
        "http://p.test/nb/202401/b.docx",
        "http://p.test/nb/202401/c.pdf",
        "http://p.test/nb/202401/d.xls",
        "http://p.test/nb/202401/e.ET",
        "http://p.test/up/2024/a.pdf",
    ]
    # the quick check that skips the JSON search on most pages: a quote, a colon, a quote
    assert _json_pair('{"url" \n: "x"}') and _json_pair("{'url':\\'x'}")
    assert not _json_pair("<p style=\"font-family: '宋体'\">url: 'x'</p>")
    assert not _json_pair('a"  b: "c" : d') and not _json_pair(': "') and not _json_pair("")


def test_anti_bot_answers_are_classified() -> None:
    rs = b"<html><head><meta id='x' content='abc' r='m'><script>$_ts=window['$_ts'];</script>"
    assert classify_block(412, {}, rs) == "rs-challenge"
    assert classify_block(202, {}, rs) == "rs-challenge"
    assert classify_block(412, {}, b"") == "challenge-412"
    assert classify_block(521, {}, b"<script>document.cookie=...</script>") == "jsl-challenge"
    jsl_script = b"<script>document.cookie=('_')+('_')+('j')+('s')+('l');location.href=x</script>"
    assert classify_block(200, {"set-cookie": "__jsluid_s=abc"}, jsl_script) == "jsl-challenge"
    assert classify_block(403, {"x-via-jsl": "abc"}, b"forbidden") == "jsl-challenge"
    # ordinary answers from a site behind 加速乐 carry its header and cookie too
    behind = {"x-via-jsl": "1d9e5f0,-", "set-cookie": "__jsluid_h=abc; max-age=31536000"}
    page = sample("03-trs-article-meta.html").encode()
    assert classify_block(200, behind, page) is None
    assert classify_block(200, behind, b"<html><body><p>short page</p></body></html>") is None
    assert classify_block(304, behind, b"") is None
    assert classify_block(404, behind, b"not found") is None
    assert classify_block(403, {}, "网站防火墙 您的访问被阻断".encode()) == "waf"
    assert classify_block(200, {}, sample("03-trs-article-meta.html").encode()) is None
    assert classify_block(404, {}, b"not found") is None


def test_soft_404() -> None:
    assert is_soft_404(200, "<html><body>对不起，您访问的页面不存在</body></html>")
    assert not is_soft_404(200, sample("01-trs-listing-xxgknb.html"))
    assert not is_soft_404(404, "页面不存在")
