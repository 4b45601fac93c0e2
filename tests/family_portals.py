"""Loopback replicas of the CMS families the crawler discovers by itself.

Each builder fills a :class:`~tests.portals.Site` with one portal of a family, from its root
page to its report pages, after the contracts in the reference (portal-families.md §4,
portals.md §2-3), and returns a :class:`Replica` saying which pages are reports (every one
must be fetched), which are look-alikes or other documents (none may be fetched) and which
listing pages make up the whole list (every one must be read).

What each replica takes from the reference and what it assumes is written in its builder's
docstring and summed up in ``tests/fixtures/FAMILY-REPLICAS.md``.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from pipeline.crawl.config import PortalConfig
from tests.portals import Hit, Reply, Site, corpus

#: Titles that look like a 年报 but are not one (portals.md §1, the Hanweb sample's 报表).
LOOKALIKES = (
    "2023年度政府网站工作年度报表",
    "2023年政务新媒体工作年度报告",
    "关于做好2024年政务公开工作的通知",
    "2023年度法治政府建设情况报告",
)
#: Corpus report bodies (short text renderings) the replicas' report pages carry.
BODIES = ("000.txt", "001.txt", "004.txt", "005.txt", "008.txt", "009.txt", "010.txt", "013.txt")


def body(i: int) -> str:
    return corpus(BODIES[i % len(BODIES)]).decode("utf-8")


def hexid(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()


@dataclass(slots=True)
class Replica:
    family: str
    site: Site
    start: str  # start path
    reports: list[str] = field(default_factory=list)  # report page paths
    decoys: list[str] = field(default_factory=list)  # served, never to be fetched
    listings: list[str] = field(default_factory=list)  # list pages/answers (path + query)
    attachments: list[str] = field(default_factory=list)
    region_code: str = "330802"
    name: str = ""

    def portal(self, **options: object) -> PortalConfig:
        """The smallest portal entry: a name and a start URL (the family is found)."""
        return PortalConfig(
            name=self.name or f"{self.family}-replica",
            start_urls=(self.site.url(self.start),),
            region_code=self.region_code,
            **options,  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------- pages


def shell(title: str, content: str, head: str = "") -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body><div class='header'><a href='/'>首页</a></div>{content}"
        "<div class='footer'>网站标识码 3308020001</div></body></html>"
    )


def meta_block(
    style: str, index_no: str, agency: str, written: str, published: str, title: str
) -> str:
    """The 信息公开 metadata block (portals.md §3.2; layouts of portal-families.md §4.1-4.2)."""
    if style == "classify":  # gkmlpt: div.classify td span
        cells = (
            ("索引号", index_no),
            ("分类", "综合政务"),
            ("发布机构", agency),
            ("成文日期", written),
            ("名称", title),
            ("文号", ""),
            ("发布日期", published),
            ("主题词", ""),
        )
        rows = "".join(f"<tr><td><span>{k}：</span>{v}</td></tr>" for k, v in cells)
        return f'<div class="classify"><table>{rows}</table></div>'
    if style == "li":
        cells = (("索引号", index_no), ("发布机构", agency), ("发布日期", published))
        items = "".join(f"<li><span>{k}：</span>{v}</li>" for k, v in cells)
        return f'<ul class="xxgk-info">{items}<li><span>成文日期：</span>{written}</li></ul>'
    # Zhejiang: label and value in neighbouring cells
    return (
        '<table class="xxgk_table"><tr><td>索引号：</td><td>'
        f"{index_no}</td><td>公开方式：</td><td>主动公开</td></tr><tr><td>发布单位：</td>"
        f"<td>{agency}</td><td>成文日期：</td><td>{written}</td></tr>"
        "<tr><td>发文字号：</td><td></td><td>有效性：</td><td></td></tr></table>"
    )


def report_page(
    title: str,
    text: str,
    *,
    index_no: str,
    agency: str,
    written: str = "2024-01-20",
    published: str = "2024-01-22",
    style: str = "table",
    wrap: str = "zoom",
    extra: str = "",
) -> str:
    """A report page: gov meta tags, the metadata block, the title, the body."""
    pre = "<pre>" + html.escape(text) + "</pre>"
    if wrap == "ucap":
        content = f'<div class="article_content"><UCAPCONTENT>{pre}</UCAPCONTENT></div>'
    elif wrap == "gkmlpt":
        content = f'<div class="content">{pre}</div>'
    else:
        content = f'<div id="zoom">{pre}</div>'
    head = (
        f'<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{published}">'
        f'<meta name="ContentSource" content="{agency}">'
    )
    block = meta_block(style, index_no, agency, written, published, title)
    return shell(title, f"{block}<h1>{title}</h1>{content}{extra}", head)


def other_page(title: str) -> str:
    return shell(title, f"<h1>{title}</h1><p>其他内容。</p>")


def report_titles(agency: str, years: range, departments: tuple[str, ...] = ()) -> list[str]:
    out = [f"{agency}{y}年政府信息公开工作年度报告" for y in years]
    out += [f"{agency}{d}{years[0]}年政府信息公开工作年度报告" for d in departments]
    return out


def json_reply(data: object) -> Reply:
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Reply(200, raw, {"Content-Type": "application/json;charset=UTF-8"})


def chunks(items: list[object], size: int) -> list[list[object]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --------------------------------------------------------------------------- gkmlpt


GKMLPT_SID = "755001"
GKMLPT_NODE = 2655


def build_gkmlpt(site: Site, *, per_page: int = 4) -> Replica:
    """Guangdong gkmlpt county portal.

    From the reference (§4.1): ``/gkmlpt/index`` with ``window._CONFIG = {SID, TREE}``; TREE
    nodes ``id, name, children, jump_url``, jump nodes skipped; ``api/all/{id}?page=N&sid=``
    JSON with ``classify/total/offset/articles``, stop at ``offset + len >= total``, a page
    past the end answering 404; ``total`` below ``post_count``; ``type == "url"`` articles
    are external jumps; article URLs ``/gkmlpt/content/{id//1e6}/{id//1e3}/post_{id}.html``;
    report pages with the ``div.classify`` header block, body in ``div.content`` and in
    ``window._CONFIG.DETAIL`` with attachments ``/attachment/…``; mobile twins ``mpost_``.
    Assumed: 4 articles per page instead of 100 (the parser reads offset/total, not a page
    size); the tree's 年报 node is named 政府信息公开年报; the root page links to
    ``/gkmlpt/index`` with the text 政府信息公开; ``sid`` is required by the server.
    """
    rep = Replica("gkmlpt", site, "/", region_code="441423", name="gkmlpt-县")
    site.add(
        "/",
        shell(
            "某县人民政府门户网站",
            '<ul class="nav"><li><a href="/zwgk/">政务公开</a></li>'
            '<li><a href="/gkmlpt/index">政府信息公开</a></li>'
            '<li><a href="/zwgk/content/post_2000001.html">县政府召开常务会议</a></li></ul>',
        ),
    )
    tree = [
        {"id": 2630, "name": "机构职能", "children": [], "jump_url": "", "post_count": 3},
        {
            "id": 2631,
            "name": "政策文件",
            "children": [{"id": 2632, "name": "规范性文件", "children": [], "jump_url": ""}],
            "jump_url": "",
        },
        {
            "id": 2650,
            "name": "其他",
            "children": [
                {
                    "id": GKMLPT_NODE,
                    "name": "政府信息公开年报",
                    "children": [],
                    "jump_url": "",
                    "post_count": 12,
                },
                {"id": 2656, "name": "政府网站工作年度报表", "children": [], "jump_url": ""},
            ],
            "jump_url": "",
        },
        # the province's 年报 page: a jump node, never this site's list
        {"id": 2690, "name": "年度报告", "children": [], "jump_url": "http://www.gd.gov.cn/nb"},
    ]
    config = (
        f"window._CONFIG = {{SID: '{GKMLPT_SID}', SERVICE_AREA_ID: 3, "
        f"TREE: {json.dumps(tree, ensure_ascii=False)}, PAGE_TYPE: 'index'}};"
    )
    site.add(
        "/gkmlpt/index",
        shell("政府信息公开", '<div id="app"></div>', f"<script>{config}</script>"),
    )
    articles: list[dict[str, object]] = []
    titles = report_titles("某县", range(2017, 2024), ("财政局",))
    mixed: list[tuple[str, str]] = [(t, "report") for t in titles]
    mixed.insert(2, (LOOKALIKES[0], "decoy"))
    mixed.insert(5, ("2023年政府信息公开工作年度报告（省政府）", "url"))
    mixed.insert(7, ("关于公布2023年度政府信息公开工作考核结果的通知", "decoy"))
    for i, (title, kind) in enumerate(mixed):
        doc = 2147681 + i
        path = f"/gkmlpt/content/{doc // 1_000_000}/{doc // 1000}/post_{doc}.html"
        url = site.url(path)
        article: dict[str, object] = {
            "id": doc,
            "title": title,
            "url": url if i % 2 else url.replace("/post_", "/mpost_"),
            "post_url": url,
            "type": "url" if kind == "url" else "normal",
            "create_time": 1705708800 + i * 86400,
            "date": 1705622400,
            "identifier": f"11441423007235893X/2024-{i:05d}",
            "publisher": "某县人民政府办公室",
        }
        articles.append(article)
        if kind == "url":
            article["url"] = "http://www.gd.gov.cn/zwgk/nb/content/post_1.html"
            continue
        if kind == "decoy":
            site.add(path, other_page(title))
            rep.decoys.append(path)
            continue
        index_no = f"11441423007235893X/2024-{i:05d}"
        if title.startswith("某县财政局"):
            index_no = "11441400MB2C12345K/2024-00001"  # the city's code: a region mismatch
        attachment = f"/attachment/0/{doc // 1000}/{doc}.pdf"
        detail = {
            "DETAIL": {
                "title": title,
                "content": f"<p>{html.escape(body(i)[:200])}</p>",
                "attachment": [{"name": f"{title}.pdf", "url": attachment}],
            }
        }
        page = report_page(
            title,
            body(i),
            index_no=index_no,
            agency="某县人民政府办公室",
            style="classify",
            wrap="gkmlpt",
            extra=f"<script>window._CONFIG = {json.dumps(detail, ensure_ascii=False)};</script>",
        )
        site.add(path, page)
        site.add(attachment, b"%PDF-1.4\n% replica\n", content_type="application/pdf")
        rep.reports.append(path)
        rep.attachments.append(attachment)
    total = len(articles)
    pages = chunks(articles, per_page)  # type: ignore[arg-type]
    api = f"/gkmlpt/api/all/{GKMLPT_NODE}"

    def list_api(hit: Hit) -> Reply:
        query = parse_qs(urlsplit(hit.path).query)
        if query.get("sid") != [GKMLPT_SID]:
            return Reply(404, b"{}", {"Content-Type": "application/json"}, etag=False)
        page = int(query.get("page", ["1"])[0])
        if not 1 <= page <= len(pages):
            return Reply(404, b"not found", {"Content-Type": "text/html"}, etag=False)
        return json_reply(
            {
                "classify": {"id": GKMLPT_NODE, "name": "政府信息公开年报", "post_count": 12},
                "total": total,
                "offset": (page - 1) * per_page,
                "articles": pages[page - 1],
            }
        )

    site.handle(api, list_api)
    rep.listings = [f"{api}?page={p}&sid={GKMLPT_SID}" for p in range(1, len(pages) + 1)]
    site.add("/zwgk/content/post_2000001.html", other_page("县政府召开常务会议"))
    site.add(
        "/zwgk/",
        shell("政务公开", '<a href="/zwgk/content/post_2000001.html">县政府召开常务会议</a>'),
    )
    return rep


# --------------------------------------------------------------------------- Hanweb xxgk


XXGK_AREA = "11330802002"
XXGK_NODE = "C0301"


def _xxgk_rows(site: Site, rep: Replica) -> list[tuple[str, str, str]]:
    """(path, title, date) of the catalogue's entries, reports and others mixed: search.jsp
    does not filter by column on some installs (portals.md §2.2)."""
    titles = report_titles("柯城区", range(2019, 2024), ("司法局", "卫健局", "教育局"))
    rows: list[tuple[str, str, str]] = []
    for i, title in enumerate(titles):
        path = f"/art/2024/1/{20 - i}/art_1229_{90001 + i}.html"
        rows.append((path, title, f"2024-01-{20 - i:02d}"))
        index_no = f"1133080257773966XH/2024-{81780 + i}"
        site.add(
            path,
            report_page(title, body(i), index_no=index_no, agency="柯城区人民政府办公室"),
        )
        rep.reports.append(path)
    for j, title in enumerate((LOOKALIKES[0], "柯城区2024年政务公开工作要点", LOOKALIKES[2])):
        path = f"/art/2024/2/{j + 1}/art_1229_{80001 + j}.html"
        rows.insert(3 * j + 1, (path, title, f"2024-02-0{j + 1}"))
        site.add(path, other_page(title))
        rep.decoys.append(path)
    return rows


def _xxgk_answer(rows: list[tuple[str, str, str]], page: int, count: int) -> str:
    body_rows = "".join(
        f'<tr class="tr_main_value_{"odd" if k % 2 else "even"}"><td>{k + 1}</td>'
        f'<td><a href="{p}" title="{t}" target="_blank">{t[:14]}…</a></td><td>{d}</td></tr>'
        for k, (p, t, d) in enumerate(rows)
    )
    pager = (
        f"<div class='page'>共 {count} 页 第 {page} 页 "
        f"<a href=\"javascript:turnPage('{page + 1}')\">下一页</a></div>"
    )
    return f'<table class="xxgk_list">{body_rows}</table>{pager}'


def build_hanweb_xxgk(site: Site, *, form: str = "post", per_page: int = 4) -> Replica:
    """Hanweb 信息公开 module (Zhejiang catalogue).

    From the reference (§4.2, portals.md §2.2): the shell with an iframe
    ``/module/xxgk/tree.jsp?standardXxgk=1&area=…`` and ``loadDynamic('/module/xxgk/search.jsp
    …', 'divN')``; tree nodes ``funclick('{infotypeId}')`` + label; ``POST search.jsp`` with
    ``infotypeId, jdid, area, divid, sortfield, currpage`` (``form="post"``) or the query-string
    variant with ``fbtime/texttype/vc_title`` (``form="get"``, the shell of the 年报 column
    itself); rows ``tr.tr_main_value_odd|even > td > a[title]`` with truncated text; the
    answer not filtered by column; 索引号 table with a 统一社会信用代码 prefix (柯城区).
    Assumed: the answer's pager prints 共 N 页 and pages by ``javascript:`` links; a currpage
    past the end answers an empty table; the tree marks the 年报 node 政府信息公开年报.
    """
    rep = Replica("hanweb_xxgk", site, "/", name=f"xxgk-{form}")
    rows = _xxgk_rows(site, rep)
    pages = chunks(rows, per_page)  # type: ignore[arg-type]
    if form == "post":
        site.add(
            "/",
            shell("柯城区人民政府", '<a href="/col/col1229/index.html">政务公开</a>'),
        )
        site.add(
            "/col/col1229/index.html",
            shell(
                "政务公开",
                f'<iframe src="/module/xxgk/tree.jsp?standardXxgk=1&amp;area={XXGK_AREA}'
                '&amp;divid=div1229" width="200"></iframe><div id="div1229"></div>'
                "<script>loadDynamic('/module/xxgk/search.jsp?standardXxgk=1&isAllList=1"
                f"&texttype=0&fbtime=-1&area={XXGK_AREA}&infotypeId=&divid=div1229',"
                "'div1229',1);</script>",
            ),
        )
        nodes = (
            ("A01", "机构职能"),
            ("B02", "法规文件"),
            (XXGK_NODE, "政府信息公开年报"),
            ("C0302", "政府网站工作年度报表"),
        )
        tree = "".join(
            f'<li><a href="javascript:void(0)" onclick="funclick(\'{n}\')">{label}</a></li>'
            for n, label in nodes
        )
        site.add(
            "/module/xxgk/tree.jsp",
            shell("tree", f"<ul>{tree}</ul><script>var jdid = 3096;</script>"),
        )
    else:
        site.add(
            "/",
            shell("柯城区人民政府", '<a href="/col/col1229/index.html">政府信息公开</a>'),
        )
        site.add(
            "/col/col1229/index.html",
            shell(
                "政府信息公开",
                "<a href='/col/col1230/index.html?vc_xxgkarea=11330802002&amp;number=C0301'>"
                "信息公开年报</a><a href='/col/col1231/index.html'>政策文件</a>",
            ),
        )
        site.add(
            "/col/col1230/index.html",
            shell(
                "信息公开年报",
                '<div id="div5"></div><script>loadDynamic("/module/xxgk/search.jsp?'
                f"infotypeId={XXGK_NODE}&amp;area={XXGK_AREA}&amp;fbtime=-1&amp;texttype=0"
                '&amp;vc_title=&amp;divid=div5", "div5", 1);</script>',
            ),
        )

    def search(hit: Hit) -> Reply:
        query = parse_qs(urlsplit(hit.path).query)
        form_data = parse_qs(hit.body.decode("utf-8")) if hit.method == "POST" else query
        if form_data.get("area") != [XXGK_AREA] or form_data.get("infotypeId") != [XXGK_NODE]:
            return Reply(200, b"<table></table>", {"Content-Type": "text/html; charset=utf-8"})
        page = int((form_data.get("currpage") or ["1"])[0])
        chunk = pages[page - 1] if 1 <= page <= len(pages) else []
        answer = _xxgk_answer(chunk, page, len(pages))  # type: ignore[arg-type]
        return Reply(200, answer.encode(), {"Content-Type": "text/html; charset=utf-8"})

    site.handle("/module/xxgk/search.jsp", search)
    rep.listings = [f"currpage={p}" for p in range(1, len(pages) + 1)]
    return rep


# --------------------------------------------------------------------------- JPAAS


JPAAS_QUERY = {"webId": "3", "pageId": "1229564", "tagId": "信息列表", "tplSetId": "fa8f5c"}
JPAAS_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"


def _jpaas_li(rows: list[tuple[str, str, str]]) -> str:
    return "".join(
        f'<li class="clearfix"><a href="{p}" title="{t}" target="_blank">{t}</a><span>{d}</span>'
        "</li>"
        for p, t, d in rows
    )


def build_jpaas(site: Site, *, rows: int = 5) -> Replica:
    """Hanweb JPAAS (集约化) column.

    From the reference (§4.3, portals.md §2.3): ``div.pagination[count][rows][queryData]``
    with ``webId/pageId/tagId/tplSetId``; ``jpaas-publish-server`` in a script; ``GET
    /api-gateway/jpaas-publish-server/front/page/build/unit?…&paramJson={"pageNo":N,
    "pageSize":R}`` with X-Requested-With and the column as Referer, answering
    ``{"success":true,"data":{"html":"<li>…"}}``; a bare ``pageNo`` is ignored (page 1); a
    tagId answering 模板内容数据为空 works with an empty tagId; articles
    ``/col/col{N}/art/{YYYY}/art_{32hex}.html`` (the article's column id differs).
    Assumed: the server's pages hold ``rows`` records (5 here, 30 on real sites); the
    column page renders page 1.
    """
    rep = Replica("jpaas", site, "/", name="jpaas-县")
    items: list[tuple[str, str, str]] = []
    titles = report_titles("龙口市", range(2016, 2024), ("审计局", "民政局"))
    for i, title in enumerate(titles):
        path = f"/col/col1229{i % 2}/art/2024/art_{hexid('jpaas', i)}.html"
        items.append((path, title, f"2024-01-{i + 1:02d}"))
        site.add(
            path,
            report_page(
                title, body(i), index_no=f"113706810045208522/2024-{i:05d}", agency="龙口市人民政府"
            ),
        )
        rep.reports.append(path)
    for j, title in enumerate(LOOKALIKES):
        path = f"/col/col1229564/art/2024/art_{hexid('jpaas-decoy', j)}.html"
        items.insert(2 * j + 1, (path, title, "2024-02-01"))
        site.add(path, other_page(title))
        rep.decoys.append(path)
    rep.region_code = "370681"
    count = len(items)
    pages = chunks(items, rows)  # type: ignore[arg-type]
    query = json.dumps(JPAAS_QUERY, ensure_ascii=False).replace('"', "'")
    site.add(
        "/", shell("龙口市人民政府", '<a href="/col/col1229564/index.html">政府信息公开年报</a>')
    )
    site.add(
        "/col/col1229564/index.html",
        shell(
            "政府信息公开年报",
            f'<ul class="list">{_jpaas_li(pages[0])}</ul>'  # type: ignore[arg-type]
            f'<div class="pagination" count="{count}" rows="{rows}" queryData="{query}"></div>',
            '<script src="/module/jpaas/jpaas-publish-server/front/js/pagination.js"></script>',
        ),
    )

    def unit(hit: Hit) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(hit.path).query).items()}
        if hit.headers.get("x-requested-with") != "XMLHttpRequest" or "referer" not in hit.headers:
            return Reply(403, b"forbidden", etag=False)
        if query.get("tagId"):
            return json_reply({"success": True, "data": {"html": "模板内容数据为空"}})
        page = 1
        if "paramJson" in query:  # a bare pageNo is ignored: always page 1
            page = int(json.loads(query["paramJson"]).get("pageNo", 1))
        chunk = pages[page - 1] if 1 <= page <= len(pages) else []
        html_rows = f'<ul class="list">{_jpaas_li(chunk)}</ul>'  # type: ignore[arg-type]
        return json_reply({"success": True, "data": {"html": html_rows}})

    site.handle(JPAAS_API, unit)
    rep.listings = [f"pageNo%22%3A{p}" for p in range(2, len(pages) + 1)]
    return rep


# --------------------------------------------------------------------------- c{N}.shtml


def build_ucap(site: Site, *, rows: int = 3) -> Replica:
    """The ``/{site}/c{N}/*.shtml`` platform (黑龙江, 新疆 …).

    From the reference (§4.5): columns ``/{site}/c{N}/{name}.shtml``; the 年报 column with
    one sub-channel per year (新源县 ``/xinyuan/xxgknb2024n/zfxxgk_gknbz.shtml``); the JSON list
    ``/common/search/{uuid}?page=P&_pageSize=N&_isAgg=true&_isJson=true&_template=index`` with
    ``data.total/page/rows/results[title,url,publishedTimeStr]``; the static fallback
    ``list.shtml``, ``list_2.shtml``; articles ``/{site}/c{N}/{YYYYMM}/{hex}.shtml``; body
    ``UCAPCONTENT``. Assumed: the channel page names its search endpoint in a script
    (``searchUrl = "/common/search/{uuid}"``), the uuid being 32 hex characters; the JSON
    pages by ``rows`` records; the static pages print 共 N 页; the year links read 2024年.
    """
    rep = Replica("ucap", site, "/", region_code="230102", name="ucap-区")
    site.add(
        "/",
        shell("道里区人民政府", '<a href="/site/c100001/zfxxgk.shtml">政府信息公开</a>'),
    )
    site.add(
        "/site/c100001/zfxxgk.shtml",
        shell(
            "政府信息公开",
            '<a href="/site/c100101/zfxxgk_list.shtml">法定主动公开内容</a>'
            '<a href="/site/c100200/zfxxgk_gknbz.shtml">政府信息公开年报</a>'
            '<a href="/site/c100300/zfxxgk_list.shtml">政府信息公开指南</a>',
        ),
    )
    years = (2024, 2023, 2022)
    links = "".join(
        f'<li><a href="/site/xxgknb{y}n/zfxxgk_gknbz.shtml">{y}年</a></li>' for y in years
    )
    site.add("/site/c100200/zfxxgk_gknbz.shtml", shell("政府信息公开年报", f"<ul>{links}</ul>"))
    counter = 0
    for y in years:
        results: list[dict[str, object]] = []
        titles = report_titles("道里区", range(y - 1, y), ("发改局", "教育局"))
        if y == 2024:
            titles += [f"道里区新农镇{y - 1}年政府信息公开工作年度报告"]
        mixed = [(t, True) for t in titles]
        mixed.insert(1, (LOOKALIKES[1], False))
        for title, is_report in mixed:
            counter += 1
            path = f"/site/c1002{y % 100}/{y}02/{hexid('ucap', counter)}.shtml"
            results.append(
                {
                    "title": title,
                    "url": path,
                    "publishedTimeStr": f"{y}-01-{counter:02d} 10:00:00",
                    "domainMetaList": [
                        {"resultList": [{"key": "indexnumber", "value": f"230102/{y}-{counter}"}]}
                    ],
                }
            )
            if is_report:
                site.add(
                    path,
                    report_page(
                        title,
                        body(counter),
                        index_no=f"230102/{y}-{counter:05d}",
                        agency="道里区人民政府",
                        style="li",
                        wrap="ucap",
                    ),
                )
                rep.reports.append(path)
            else:
                site.add(path, other_page(title))
                rep.decoys.append(path)
        channel = f"/site/xxgknb{y}n/zfxxgk_gknbz.shtml"
        if y == 2022:
            # no search endpoint on this channel: static list pages
            static_pages = chunks(results, 2)  # type: ignore[arg-type]
            for n, chunk in enumerate(static_pages, start=1):
                lis = "".join(
                    f'<li><a href="{r["url"]}" title="{r["title"]}">{r["title"]}</a>'
                    f"<span>{str(r['publishedTimeStr'])[:10]}</span></li>"
                    for r in chunk  # type: ignore[union-attr]
                )
                name = channel if n == 1 else channel.replace(".shtml", f"_{n}.shtml")
                site.add(
                    name,
                    shell(f"{y}年", f"<ul>{lis}</ul><div>共{len(static_pages)}页</div>"),
                )
                rep.listings.append(name)
            continue
        uuid = hexid("channel", y)
        site.add(
            channel,
            shell(
                f"{y}年",
                '<div id="list"></div>',
                f'<script>var searchUrl = "/common/search/{uuid}";</script>',
            ),
        )
        json_pages = chunks(results, rows)

        def search(
            hit: Hit, json_pages: list[list[object]] = json_pages, n: int = len(results)
        ) -> Reply:
            query = parse_qs(urlsplit(hit.path).query)
            if query.get("_isJson") != ["true"]:
                return Reply(200, b"<html>html template</html>", {"Content-Type": "text/html"})
            page = int(query.get("page", ["1"])[0])
            chunk = json_pages[page - 1] if 1 <= page <= len(json_pages) else []
            return json_reply({"data": {"total": n, "page": page, "rows": rows, "results": chunk}})

        site.handle(f"/common/search/{uuid}", search)
        rep.listings += [f"/common/search/{uuid}?page={p}" for p in range(1, len(json_pages) + 1)]
    return rep


# --------------------------------------------------------------------------- LonSun


LONSUN_ORGAN = "6596051"


def build_lonsun(site: Site, *, page_size: int = 3) -> Replica:
    """AnHui LonSun portal.

    From the reference (§4.6): organs' 信息公开 links ``/public/column/{organId}?type=4&catId=
    …&action=list``; the 年报 list ``/public/column/{organId}?type=3&action=list`` for each
    organ (the vendor's URL builder); ``pageCount:N`` in the page and AJAX pages from
    ``/site/label/8888?IsAjax=1&dataType=html&labelName=publicInfoList&siteId=…&pageSize=…
    &pageIndex=N&action=list&organId=…&type=…&catId=…&file=…`` with ``siteId``/``file`` copied
    from the page; rows ``div.xxgk_navli a[title] + span.date``; reports
    ``/public/{organId}/{contentId}.html``; attachments ``/group6/M00/…``.
    Assumed (type=3 markup is unseen): the type=3 page prints the first page of rows and a
    script ``{pageCount:N, siteId:…, pageSize:…, file:'…'}``; the AJAX answer is the rows'
    HTML; an organ without reports answers an empty list.
    """
    rep = Replica("lonsun", site, "/", region_code="341122", name="lonsun-县")
    organs = {LONSUN_ORGAN: "来安县人民政府", "6596071": "来安县财政局", "6596081": "来安县民政局"}
    site.add(
        "/",
        shell(
            "来安县人民政府",
            f'<a href="/public/column/{LONSUN_ORGAN}?type=4&amp;catId=7011&amp;action=list">'
            "政府信息公开</a><a href='/site/tpl/4321'>政务服务</a>",
        ),
    )
    lis = "".join(
        f'<li><a href="/public/column/{o}?type=4&amp;action=list">{n}</a></li>'
        for o, n in organs.items()
    )
    site.add(
        f"/public/column/{LONSUN_ORGAN}",
        shell("政府信息公开", f'<ul class="organs">{lis}</ul>'),
    )
    by_organ: dict[str, list[list[tuple[str, str]]]] = {}
    counter = 0
    for organ, agency in organs.items():
        titles: list[str] = []
        if organ == LONSUN_ORGAN:
            titles = report_titles("来安县", range(2017, 2024))
        elif organ == "6596071":
            titles = [f"{agency}2023年政府信息公开工作年度报告"]
        rows: list[tuple[str, str]] = []
        for title in titles:
            counter += 1
            path = f"/public/{organ}/{1000000 + counter}.html"
            attachment = f"/group6/M00/0A/1B/wKj{counter:04d}.pdf"
            site.add(
                path,
                report_page(
                    title,
                    body(counter),
                    index_no=f"11341122003127455Q/2024-{counter:05d}",
                    agency=agency,
                    extra=f'<p>附件：<a href="{attachment}">{title}.pdf</a></p>',
                ),
            )
            site.add(attachment, b"%PDF-1.4\n% replica\n", content_type="application/pdf")
            rep.reports.append(path)
            rep.attachments.append(attachment)
            rows.append((path, title))
        if organ == LONSUN_ORGAN:
            path = f"/public/{organ}/999.html"
            rows.insert(3, (path, LOOKALIKES[0]))
            site.add(path, other_page(LOOKALIKES[0]))
            rep.decoys.append(path)
        pages = [rows[i : i + page_size] for i in range(0, len(rows), page_size)]
        by_organ[organ] = pages
        script = (
            f"<script>var pageInfo = {{pageCount:{max(len(pages), 1)}, siteId:8451, "
            f"pageSize:{page_size}, file:'/c1/xxgk/publicInfoList_newest.jsp'}};</script>"
        )
        first = _lonsun_rows(pages[0]) if pages else ""
        column = f"/public/column/{organ}?type=3&action=list"
        site.add(column, shell(f"{agency}公开年报", f'<div class="gk_list">{first}</div>{script}'))
        rep.listings.append(column)
        rep.listings += [
            f"pageIndex={p}&action=list&organId={organ}" for p in range(2, len(pages) + 1)
        ]

    def label(hit: Hit) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(hit.path).query).items()}
        if query.get("siteId") != "8451" or query.get("type") != "3":
            return Reply(404, b"no", etag=False)
        mine = by_organ.get(query.get("organId", ""), [])
        index = int(query.get("pageIndex", "1"))
        chunk = mine[index - 1] if 1 <= index <= len(mine) else []
        return Reply(
            200, _lonsun_rows(chunk).encode(), {"Content-Type": "text/html; charset=utf-8"}
        )

    site.handle("/site/label/8888", label)
    return rep


def _lonsun_rows(chunk: list[tuple[str, str]]) -> str:
    return "".join(
        f'<div class="xxgk_navli"><a href="{p}" title="{t}">{t[:12]}</a>'
        '<span class="date">2024-01-20</span></div>'
        for p, t in chunk
    )


# --------------------------------------------------------------------------- pc/list.html


def build_pclist(site: Site, *, per_page: int = 4) -> Replica:
    """The ``…/pc/list.html`` platform (自贡, 云南 …).

    From the reference (§4.9): columns ``/{site}/{col}/pc/list.html``, articles
    ``/{site}/c{col}/pc/content/content_{snowflake}.html``. Assumed (nothing else is
    documented): the 年报 column is found by its link text on the 政府信息公开 page; pages
    ``list_2.html`` … with the count printed as 共 N 页 and a JS-only pager.
    """
    rep = Replica("pclist", site, "/", region_code="510302", name="pclist-区")
    site.add("/", shell("自流井区人民政府", '<a href="/zlj/zfxxgk/pc/list.html">政府信息公开</a>'))
    site.add(
        "/zlj/zfxxgk/pc/list.html",
        shell(
            "政府信息公开",
            '<a href="/zlj/zfxxgkzn/pc/list.html">政府信息公开指南</a>'
            '<a href="/zlj/zfxxgknb/pc/list.html">政府信息公开年报</a>',
        ),
    )
    items: list[tuple[str, str]] = []
    for i, title in enumerate(report_titles("自流井区", range(2016, 2024), ("商务局",))):
        path = f"/zlj/czfxxgknb/pc/content/content_{1759000000000000000 + i}.html"
        site.add(
            path,
            report_page(title, body(i), index_no=f"510302/2024-{i:05d}", agency="自流井区人民政府"),
        )
        rep.reports.append(path)
        items.append((path, title))
    for j, title in enumerate(LOOKALIKES[:2]):
        path = f"/zlj/czfxxgknb/pc/content/content_{1758000000000000000 + j}.html"
        items.insert(4 * j + 2, (path, title))
        site.add(path, other_page(title))
        rep.decoys.append(path)
    pages = chunks(items, per_page)  # type: ignore[arg-type]
    for n, chunk in enumerate(pages, start=1):
        lis = "".join(
            f'<li><a href="{p}" target="_blank">{t}</a><span>2024-01-20</span></li>'
            for p, t in chunk  # type: ignore[misc]
        )
        name = "/zlj/zfxxgknb/pc/list.html" if n == 1 else f"/zlj/zfxxgknb/pc/list_{n}.html"
        pager = (
            f"<div class='pages'>共{len(pages)}页 "
            f"<span onclick='goPage({n + 1})'>下一页</span></div>"
        )
        site.add(name, shell("政府信息公开年报", f"<ul>{lis}</ul>{pager}"))
        rep.listings.append(name)
    return rep


# --------------------------------------------------------------------------- slug folders


def build_slugs(site: Site) -> Replica:
    """A static site whose 年报 column no link text names: found by slug probing.

    From the reference (portals.md §0.2, §2.4; portal-families.md §3, §4.7): folders
    ``zfxxgknb/ xxgknb/ gknb/ ndbg/``, TRS-style ``index.html``/``index_1.html`` with
    ``createPageHTML``, articles ``./YYYYMM/tYYYYMMDD_{id}.html``. Assumed: the column hangs
    under the 政务公开 folder (``/zwgk/xxgknb/``) and is linked only by an image.
    """
    rep = Replica("trs", site, "/", region_code="520102", name="slug-区")
    site.add("/", shell("南明区人民政府", '<a href="/zwgk/index.html">政务公开</a>'))
    site.add(
        "/zwgk/index.html",
        shell("政务公开", '<a href="xxgknb/"><img src="/img/nb.png" alt=""></a>'),
    )
    items: list[tuple[str, str]] = []
    for i, title in enumerate(report_titles("南明区", range(2017, 2024))):
        href = f"./2024{i + 1:02d}/t2024{i + 1:02d}20_{7000 + i}.html"
        site.add(
            "/zwgk/xxgknb/" + href[2:],
            report_page(title, body(i), index_no=f"520102/2024-{i:05d}", agency="南明区人民政府"),
        )
        rep.reports.append("/zwgk/xxgknb/" + href[2:])
        items.append((href, title))
    decoy = "./202402/t20240201_6999.html"
    items.insert(2, (decoy, LOOKALIKES[0]))
    site.add("/zwgk/xxgknb/" + decoy[2:], other_page(LOOKALIKES[0]))
    rep.decoys.append("/zwgk/xxgknb/" + decoy[2:])
    pages = chunks(items, 5)  # type: ignore[arg-type]
    for n, chunk in enumerate(pages):
        lis = "".join(
            f'<li><a href="{h}" title="{t}">{t}</a><span>2024-01-20</span></li>'
            for h, t in chunk  # type: ignore[misc]
        )
        script = f'<script>createPageHTML({len(pages)}, {n}, "index", "html");</script>'
        name = "/zwgk/xxgknb/" + ("index.html" if n == 0 else f"index_{n}.html")
        site.add(name, shell("信息公开年报", f"<ul>{lis}</ul>{script}"))
        rep.listings.append(name if n else "/zwgk/xxgknb/")
    site.add("/zwgk/xxgknb/", site.routes["/zwgk/xxgknb/index.html"].body)  # type: ignore[union-attr]
    return rep


BUILDERS: dict[str, Callable[[Site], Replica]] = {
    "gkmlpt": build_gkmlpt,
    "hanweb_xxgk_post": lambda s: build_hanweb_xxgk(s, form="post"),
    "hanweb_xxgk_get": lambda s: build_hanweb_xxgk(s, form="get"),
    "jpaas": build_jpaas,
    "ucap": build_ucap,
    "lonsun": build_lonsun,
    "pclist": build_pclist,
    "slugs": build_slugs,
}
