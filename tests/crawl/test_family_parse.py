"""The family modules' pure functions: page or JSON text in, links / next request /
entries out."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from pipeline.crawl.blocks import is_js_shell
from pipeline.crawl.config import FAMILIES
from pipeline.crawl.families import (
    MAX_LISTING_PAGES,
    NAMES,
    gkmlpt,
    hanweb_xxgk,
    lonsun,
    parse_page,
    pclist,
    slugs,
    sniff_family,
    ucap,
)
from pipeline.crawl.families.base import Cursor, Request, load_json
from pipeline.crawl.links import (
    attachment_links,
    iframe_links,
    is_column_label,
    page_redirect,
    report_links,
    year_links,
)
from pipeline.crawl.pagemeta import index_region, page_text, read_block, region_mismatch
from tests.portals import sample

H = "http://p.test"


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_registry_names_are_config_families_and_samples_keep_their_family() -> None:
    assert set(NAMES) <= set(FAMILIES)
    assert sniff_family(sample("01-trs-listing-xxgknb.html")) == "trs"
    assert sniff_family(sample("02-hanweb-dataproxy-listing.html")) == "hanweb"
    assert sniff_family(sample("04-trs-xxgk-portal-index.html")) == "trs"
    assert sniff_family("<html><a href='/a.html'>a</a></html>") == "static"


def test_column_labels_and_year_subcolumns() -> None:
    for label in (
        "政府信息公开年报",
        "信息公开年报",
        "政府信息公开工作年度报告",
        "年报",
        "公开年报",
    ):
        assert is_column_label(label), label
    for label in ("政府网站工作年度报表", "2023年政府信息公开工作年度报告", "机构职能"):
        assert not is_column_label(label), label
    from pipeline.crawl.links import Link

    links = [Link(f"{H}/{t}", t) for t in ("2024年", "2023", "2022年度", "2021年报", "20240")]
    assert [lk.title for lk in year_links(links)] == ["2024年", "2023", "2022年度", "2021年报"]


# gkmlpt ------------------------------------------------------------------------------


TREE = [
    {"id": 1, "name": "机构职能", "children": [], "jump_url": ""},
    {
        "id": 2,
        "name": "其他",
        "children": [
            {"id": 3, "name": "政府信息公开年报", "children": [], "jump_url": ""},
            {"id": 4, "name": "政府网站工作年度报表", "children": [], "jump_url": ""},
        ],
    },
    {"id": 5, "name": "年度报告", "children": [], "jump_url": "http://elsewhere/"},
]


def test_gkmlpt_index_gives_the_api_of_the_report_node() -> None:
    html = f"<script>window._CONFIG = {{SID: '755001', TREE: {json.dumps(TREE)}}};</script>"
    listing = parse_page(html, Cursor(Request(f"{H}/dept/gkmlpt/index"), "auto"))
    assert listing.family == "gkmlpt"
    (entry,) = listing.entries  # the jump node and the look-alike are skipped
    assert entry.cursor.request.url == f"{H}/dept/gkmlpt/api/all/3?page=1&sid=755001"
    assert entry.column and entry.how == "gkmlpt-tree"
    root = parse_page('<a href="/gkmlpt/index">政府信息公开</a>', Cursor(Request(H + "/"), "auto"))
    assert [e.cursor.request.url for e in root.entries] == [f"{H}/gkmlpt/index"]
    assert gkmlpt.report_nodes("<a href='/gkmlpt/annualreport#2629'>年报</a>") == ["2629"]


def test_gkmlpt_api_pages_until_offset_plus_articles_reach_total() -> None:
    cursor = Cursor(
        Request(f"{H}/gkmlpt/api/all/3?page=1&sid=9", ajax=True),
        "gkmlpt",
        extra=(("classify", "3"), ("sid", "9"), ("prefix", H)),
    )
    articles = [
        {
            "title": "甲2023年政府信息公开工作年度报告",
            "url": "/gkmlpt/content/2/2147/mpost_2147681.html",
            "create_time": 1705708800,
        },
        {
            "title": "甲2022年政府信息公开工作年度报告",
            "url": "http://gd.gov.cn/x.html",
            "type": "url",
        },
    ]
    page1 = parse_page(json.dumps({"total": 3, "offset": 0, "articles": articles}), cursor)
    assert [lk.url for lk in page1.links] == [f"{H}/gkmlpt/content/2/2147/post_2147681.html"]
    assert page1.links[0].date == "2024-01-20"
    assert page1.next is not None and query(page1.next.request.url) == {"page": "2", "sid": "9"}
    last = parse_page(json.dumps({"total": 3, "offset": 2, "articles": articles[:1]}), page1.next)
    assert last.next is None
    assert parse_page("<html>404</html>", cursor).next is None  # not JSON: the end


def test_a_listing_chain_is_cut_at_the_page_cap() -> None:
    deep = Cursor(
        Request(f"{H}/gkmlpt/api/all/3?page={MAX_LISTING_PAGES}&sid=9", ajax=True),
        "gkmlpt",
        page=MAX_LISTING_PAGES - 1,
        extra=(("classify", "3"), ("sid", "9")),
    )
    answer = {"total": 10**8, "offset": 0, "articles": [{"title": "t", "url": "/a"}] * 100}
    listing = parse_page(json.dumps(answer), deep)
    assert listing.next is None and listing.capped == f"listing page cap {MAX_LISTING_PAGES} hit"


# Hanweb xxgk ------------------------------------------------------------------------


def test_xxgk_tree_node_gives_a_post_search_and_pages_by_currpage() -> None:
    tree_url = f"{H}/module/xxgk/tree.jsp?standardXxgk=1&area=113308&divid=div4"
    html = (
        "<a onclick=\"funclick('A01')\">机构职能</a>"
        "<a href=\"javascript:funclick('C03')\">政府信息公开年报</a><script>jdid=3096</script>"
    )
    assert hanweb_xxgk.tree_nodes(html) == [("A01", "机构职能"), ("C03", "政府信息公开年报")]
    (entry,) = parse_page(html, Cursor(Request(tree_url), "auto")).entries
    request = entry.cursor.request
    assert request.method == "POST" and request.url == f"{H}/module/xxgk/search.jsp"
    form = dict(request.data)
    assert (form["infotypeId"], form["area"], form["divid"], form["jdid"]) == (
        "C03",
        "113308",
        "div4",
        "3096",
    )
    answer = '<tr class="tr_main_value_odd"><td><a href="/art/1.html" title="t">t</a></td></tr>'
    page1 = parse_page(answer + "共 2 页", entry.cursor)
    assert page1.next is not None and dict(page1.next.request.data)["currpage"] == "2"
    assert parse_page(answer + "共 2 页", page1.next).next is None


def test_xxgk_shell_of_the_column_gives_the_get_search() -> None:
    html = (
        "<script>loadDynamic('/module/xxgk/search.jsp?infotypeId=C03&amp;area=1&amp;fbtime=-1',"
        "'div5');</script><iframe src='/module/xxgk/tree.jsp?area=1'></iframe>"
    )
    entries = hanweb_xxgk.entries(html, f"{H}/col/col1/index.html")
    assert [e.how for e in entries] == ["xxgk-search", "xxgk-tree"]
    search = entries[0].cursor
    assert query(search.request.url)["currpage"] == "1" and search.request.method == "GET"
    nxt = hanweb_xxgk.next_request(search.request, 3)
    assert query(nxt.url)["currpage"] == "3" and query(nxt.url)["infotypeId"] == "C03"
    # a shell listing everything (no infotypeId) is not a 年报 list
    assert [e.how for e in hanweb_xxgk.entries(html.replace("C03", ""), H + "/")] == ["xxgk-tree"]


# JPAAS ---------------------------------------------------------------------------------


JPAAS_COLUMN = (
    '<ul><li><a href="/col/col9/art/2024/art_0a.html">'
    "甲2023年政府信息公开工作年度报告</a></li></ul>"
    "<div class=\"pagination\" count=\"23\" rows=\"10\" queryData=\"{'webId':'3','pageId':'9',"
    "'tagId':'list','tplSetId':'ab'}\"></div><script src='/jpaas-publish-server/x.js'></script>"
)


def test_jpaas_pages_by_param_json_and_retries_an_empty_template_once() -> None:
    column = Cursor(Request(f"{H}/col/col9/index.html"), "auto")
    first = parse_page(JPAAS_COLUMN, column)
    assert first.family == "jpaas" and len(report_links(first.links)) == 1
    nxt = first.next
    assert nxt is not None and nxt.total_pages == 3 and nxt.request.ajax
    params = query(nxt.request.url)
    assert json.loads(params["paramJson"]) == {"pageNo": 2, "pageSize": 10}
    assert (params["webId"], params["pageId"], params["tagId"]) == ("3", "9", "list")
    assert nxt.request.referer == f"{H}/col/col9/index.html"
    empty = parse_page(json.dumps({"success": True, "data": {"html": "模板内容数据为空"}}), nxt)
    retry = empty.next
    assert retry is not None and retry.page == nxt.page and query(retry.request.url)["tagId"] == ""
    assert parse_page(json.dumps({"success": False}), retry).next is None  # once only
    rows = '<li><a href="/col/col9/art/2024/art_0b.html">乙</a></li>'
    page2 = parse_page(json.dumps({"success": True, "data": {"html": rows}}), retry)
    assert page2.next is not None and json.loads(query(page2.next.request.url)["paramJson"]) == {
        "pageNo": 3,
        "pageSize": 10,
    }
    assert query(page2.next.request.url)["tagId"] == ""


# c{N}.shtml -----------------------------------------------------------------------------


def test_ucap_search_json_and_static_fallback() -> None:
    uuid = "8a8c" * 8
    page = f'<script>var url = "/common/search/{uuid}";</script>'
    channel = Cursor(Request(f"{H}/site/xxgknb2024n/zfxxgk_gknbz.shtml"), "auto")
    listing = parse_page(page, channel)
    (entry,) = listing.entries
    assert listing.family == "ucap" and entry.how == "ucap-search"
    assert query(entry.cursor.request.url)["_isJson"] == "true"
    results = [
        {
            "title": "<em>甲</em>2023年政府信息公开工作年度报告",
            "url": "/site/c1/202402/ab.shtml",
            "publishedTimeStr": "2024-02-01 10:00:00",
        }
    ]
    answer = {"data": {"total": 7, "page": 99999, "rows": 3, "results": results * 3}}
    first = parse_page(json.dumps(answer), entry.cursor)
    assert first.links[0].title == "甲2023年政府信息公开工作年度报告"
    assert first.links[0].date == "2024-02-01"
    assert first.next is not None and query(first.next.request.url)["page"] == "2"  # not 100000
    third = parse_page(json.dumps(answer), first.next)
    assert third.next is not None and query(third.next.request.url)["page"] == "3"
    assert parse_page(json.dumps(answer), third.next).next is None
    static = parse_page(
        "<a href='/site/c1/202402/ab.shtml'>a</a><a href='/site/c1/202402/cd.shtml'>b</a> 共3页",
        channel,
    )
    assert static.family == "ucap" and static.next is not None
    assert static.next.request.url == f"{H}/site/xxgknb2024n/zfxxgk_gknbz_2.shtml"
    assert ucap.list_page_url(f"{H}/s/c1/list.shtml", 3) == f"{H}/s/c1/list_3.shtml"


# LonSun ---------------------------------------------------------------------------------


def test_lonsun_organs_give_type3_lists_paged_by_label_8888() -> None:
    root = (
        '<a href="/zwgk/public/column/6596051?type=4&catId=7011&action=list">信息公开</a>'
        '<a href="/zwgk/public/column/6596071?type=4&action=list">财政局</a>'
    )
    entries = parse_page(root, Cursor(Request(H + "/"), "auto")).entries
    assert [e.cursor.request.url for e in entries] == [
        f"{H}/zwgk/public/column/6596051?type=3&action=list",
        f"{H}/zwgk/public/column/6596071?type=3&action=list",
    ]
    page = (
        "<a href='/public/6596051/1.html'>a</a>"
        "<script>{pageCount:3,siteId:8451,pageSize:15,file:'/c1/l.jsp'}</script>"
    )
    listing = lonsun.parse(page, entries[0].cursor)
    assert listing.entries == [] and listing.next is not None
    params = query(listing.next.request.url)
    assert urlsplit(listing.next.request.url).path == "/zwgk/site/label/8888"
    assert (params["siteId"], params["pageIndex"], params["organId"], params["type"]) == (
        "8451",
        "2",
        "6596051",
        "3",
    )
    assert params["file"] == "/c1/l.jsp" and listing.next.request.ajax
    page3 = lonsun.parse("<a href='/public/6596051/3.html'>c</a>", listing.next)
    assert page3.next is not None and query(page3.next.request.url)["pageIndex"] == "3"
    assert lonsun.parse("<a href='/public/6596051/4.html'>d</a>", page3.next).next is None


def test_pclist_and_slug_probes() -> None:
    cursor = Cursor(Request(f"{H}/zlj/zfxxgknb/pc/list.html"), "auto")
    listing = parse_page("<a href='/zlj/c1/pc/content/content_1.html'>a</a> 共2页", cursor)
    assert listing.family == "pclist" and listing.next is not None
    assert listing.next.request.url == f"{H}/zlj/zfxxgknb/pc/list_2.html"
    assert pclist.sniff("", f"{H}/a/b/pc/list.html")
    probes = slugs.probe_entries([f"{H}/", f"{H}/zwgk/index.html"])
    assert [p.cursor.request.url for p in probes][:5] == [
        f"{H}/zfxxgknb/",
        f"{H}/xxgknb/",
        f"{H}/gknb/",
        f"{H}/ndbg/",
        f"{H}/zwgk/zfxxgknb/",
    ]
    assert all(p.probe for p in probes) and len(probes) == 8


# report pages, JSON, frames ---------------------------------------------------------


def test_metadata_block_layouts_and_the_region_of_an_index_number() -> None:
    table = (
        "<table><tr><td>索引号：</td><td>330803/2021-46933</td><td>公开方式：</td><td>主动公开</td>"
        "</tr><tr><td>发布单位：</td><td>衢江区人民政府办公室</td><td>成文日期：</td>"
        "<td>2021年2月20日</td></tr></table><p>发布日期：2021-02-22 10:00</p>"
    )
    meta = read_block(page_text(table))
    assert (meta.index_no, meta.agency, meta.written, meta.published) == (
        "330803/2021-46933",
        "衢江区人民政府办公室",
        "2021-02-20",
        "2021-02-22",
    )
    li = (
        "<ul><li><span>索 引 号：</span>1133080257773966XH/2024-81780</li>"
        "<li><span>发布机构：</span></li></ul>"
    )
    meta = read_block(page_text(li))
    assert meta.index_no == "1133080257773966XH/2024-81780" and meta.agency is None
    assert index_region("1133080257773966XH/2024-81780") == "330802"
    assert index_region("330803/2021-46933") == "330803"
    assert index_region("007235893/2024-00123") is None
    assert region_mismatch("330803/2021-46933", "330802") == (
        "索引号 region 330803 is not the portal's 330802"
    )
    assert region_mismatch("1133080257773966XH/2024-81780", "330802") is None
    assert region_mismatch("330803/2021-46933", None) is None


def test_json_answers_attachments_frames_and_shells() -> None:
    assert load_json('cb({"a": 1});') == {"a": 1}
    assert load_json("<html>error</html>") is None
    assert load_json("{" * 10) is None
    assert load_json("[" + "1," * 3_000_000 + "1]") is None  # too large to be a list answer
    detail = (
        'window._CONFIG = {"DETAIL": {"attachment": [{"url": "\\/attachment\\/0\\/1\\/9.pdf"}]}}'
    )
    assert attachment_links(detail, f"{H}/gkmlpt/content/0/1/post_9.html") == [
        f"{H}/attachment/0/1/9.pdf"
    ]
    assert iframe_links('<iframe src="/l.html"></iframe><IFRAME SRC="x.html">', f"{H}/a/") == [
        f"{H}/l.html",
        f"{H}/a/x.html",
    ]
    assert page_redirect("<script>top.location = '/zwgk/';</script>", H + "/") == f"{H}/zwgk/"
    assert is_js_shell("<html><script>var _$ts=1;</script></html>")
    assert not is_js_shell(sample("01-trs-listing-xxgknb.html"))
    cursor = Cursor(
        Request("http://x/", "POST", (("a", "1"),), "http://r/", True),
        "jpaas",
        3,
        9,
        extra=(("k", "v"),),
    )
    assert Cursor.from_json(cursor.to_json()) == cursor
