"""Loopback HTTP servers serving fixture portals built from the real page samples.

Every test talks to a real ``ThreadingHTTPServer`` on 127.0.0.1; the transport is never
mocked. Fixture portals (TRS, Hanweb, static/GBK, a hostile one) are assembled from
``tests/fixtures/portals`` (real listing/article samples) and the corpus reports in
``tests/fixtures/corpus/raw``.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.crawl.config import Politeness, PortalConfig
from tests.corpus import FIXTURES

SAMPLES = FIXTURES / "portals"
CORPUS = FIXTURES / "corpus" / "raw"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# --------------------------------------------------------------------------- server


@dataclass(slots=True)
class Hit:
    method: str
    path: str  # path + query
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0
    client: int = 0  # the client's port: one per TCP connection


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    etag: bool = True


Route = Reply | Callable[[Hit], Reply]


class Site:
    """Routes for one loopback server, plus a log of every request it got."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Hit] = []
        self.base = ""
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + path

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: bool = True,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        head = dict(headers or {})
        if content_type:
            head.setdefault("Content-Type", content_type)
        self.routes[path] = Reply(status, data, head, etag=etag)

    def handle(self, path: str, fn: Callable[[Hit], Reply]) -> None:
        self.routes[path] = fn

    def hits(self, path: str, method: str | None = None) -> list[Hit]:
        return [
            h
            for h in self.log
            if (h.path == path or h.path.split("?")[0] == path)
            and (method is None or h.method == method)
        ]

    def paths(self) -> list[str]:
        return [h.path for h in self.log]

    def respond(self, hit: Hit) -> Reply:
        route = self.routes.get(hit.path) or self.routes.get(hit.path.split("?")[0])
        if route is None:
            return Reply(
                404,
                b"<html><body>404 Not Found</body></html>",
                {"Content-Type": "text/html"},
                etag=False,
            )
        reply = route(hit) if callable(route) else route
        if reply.status == 200 and reply.etag:
            tag = '"' + hashlib.sha1(reply.body).hexdigest()[:16] + '"'
            if hit.headers.get("if-none-match") == tag:
                return Reply(304, b"", {"ETag": tag}, etag=False)
            reply = Reply(
                reply.status, reply.body, {**reply.headers, "ETag": tag}, reply.delay, etag=False
            )
        return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    site: Site

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        hit = Hit(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            body,
            time.monotonic(),
            client=self.client_address[1],
        )
        with self.site.lock:
            self.site.log.append(hit)
        reply = self.site.respond(hit)
        hit.status = reply.status
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = _serve
    do_POST = _serve
    do_HEAD = _serve


@contextlib.contextmanager
def serving() -> Iterator[Callable[[Site], Site]]:
    """Start loopback servers for :class:`Site` objects; all stopped on exit."""
    servers: list[ThreadingHTTPServer] = []

    def start(site: Site) -> Site:
        handler = type("Handler", (_Handler,), {"site": site})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        site.base = f"http://127.0.0.1:{server.server_address[1]}"
        servers.append(server)
        return site

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Site], Site]]:
    """Start a loopback server for a :class:`Site`; stopped after the test."""
    with serving() as start:
        yield start


def fast(**changes: object) -> Politeness:
    """Politeness off with small timeouts: fast tests."""
    base: dict[str, object] = {"timeout": 2.0, "retries": 3}
    base.update(changes)
    return Politeness.off(**base)  # type: ignore[arg-type]


def portal(site: Site, *paths: str, **options: object) -> PortalConfig:
    return PortalConfig(
        name=str(options.pop("name", "测试区")),
        start_urls=tuple(site.url(p) for p in paths),
        region="测试省测试市测试区",
        region_code="330802",
        **options,
    )  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pages


def one_report_listing(site: Site, title: str, date: str | None = None) -> Site:
    """A 年报 column at ``/nb/`` listing one report page, ``/r/1.html``, dated when
    ``date`` is given."""
    dated = f"<span>{date}</span>" if date else ""
    site.add(
        "/nb/",
        f'<html><meta charset="utf-8"><body><ul><li><a href="/r/1.html" title="{title}">'
        f"{title}</a>{dated}</li></ul></body></html>",
    )
    return site


def article_page(title: str, body: bytes | str, pubdate: str = "2024-01-29 10:00:00") -> str:
    """A TRS article page (sample 03 shell) carrying a corpus report as its body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.lstrip().startswith("<"):
        text = "<pre>" + html.escape(text) + "</pre>"
    shell = sample("03-trs-article-meta.html")
    shell = re.sub(
        r'(<meta name="ArticleTitle" content=")[^"]*', lambda m: m.group(1) + title, shell
    )
    shell = re.sub(r'(<meta name="PubDate" content=")[^"]*', lambda m: m.group(1) + pubdate, shell)
    shell = re.sub(r"<title>.*?</title>", f"<title>{title}</title>", shell)
    shell = re.sub(
        r'(<h2 class="neiright_Title">).*?(</h2>)', lambda m: m.group(1) + title + m.group(2), shell
    )
    return re.sub(
        r"<div class=TRS_Editor>.*?</div></div>",
        lambda _m: f"<div class=TRS_Editor>{text}</div>",
        shell,
        flags=re.S,
    )


def hanweb_article(title: str, body: bytes | str) -> str:
    """A Hanweb article: gov meta tags + the sample 05 ``#zoom`` / ZJEG_RSS body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.lstrip().startswith("<"):
        text = "<pre>" + html.escape(text) + "</pre>"
    fragment = sample("05-hanweb-article-body-fragment.html")
    fragment = re.sub(
        r"(<META name=ContentStart>).*?(<META name=ContentEnd>)",
        lambda m: m.group(1) + text + m.group(2),
        fragment,
        flags=re.S,
    )
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f'<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2024-01-20">'
        f"</head><body><h1>{title}</h1>{fragment}</body></html>"
    )


TRS_ROW = (
    '\n\t\t\t  <tr valign="top" style="padding-bottom:10px;">'
    '\n\t\t\t\t<td width="25" style="padding-top:10px;"><img src="../../images/ico2.jpg"></td>'
    '\n\t\t\t\t<td width="550">\n\t\t\t\t\t<a href="{href}">{title}</a>\n\t\t\t\t</td>'
    "\n\t\t\t\t<td>\n\t\t\t\t\t{date}\n\t\t\t\t</td>\n\t\t\t  </tr>\n"
)


def trs_listing_page(rows: list[tuple[str, str, str]], page: int, count: int) -> str:
    """Sample 01 with its list rows replaced and its pager set to page/count."""
    page_html = sample("01-trs-listing-xxgknb.html")
    body = "".join(TRS_ROW.format(href=h, title=t, date=d) for h, t, d in rows)
    page_html = re.sub(
        r'(<table width="682"[^>]*class="gl_list">\s*<tbody>).*?(</tbody></table>)',
        lambda m: m.group(1) + body + m.group(2),
        page_html,
        flags=re.S,
    )
    page_html = page_html.replace("var currentPage = 0;", f"var currentPage = {page};")
    return page_html.replace("var countPage = 2//", f"var countPage = {count}//")


TRS_REPORTS = {
    # sample 01's four report rows -> corpus reports
    "/zfxxgknb/202009/t20200903_2748784.html": "043.html",
    "/zfxxgknb/202003/t20200311_2593126.html": "000.txt",
    "/zfxxgknb/201905/t20190530_2380968.html": "044.html",
    "/zfxxgknb/201905/t20190530_2380967.html": "001.txt",
}
TRS_PAGE2_REPORTS = [
    (
        "./202401/t20240129_3001.html",
        "柯城区2023年政府信息公开工作年度报告",
        "2024-01-29",
        "000.txt",
    ),
    (
        "./202302/t20230220_3002.html",
        "平潭综合实验区2022年度政府信息公开工作年度报告",
        "2023-02-20",
        "043.html",
    ),
]
TRS_NON_REPORTS = [
    "/zfxxgknb/202005/t20200506_2633371.html",
    "/zfxxgknb/201906/t20190614_2389850.html",
    "/zfxxgknb/202001/t20200101_0001.html",
]


def build_trs_site(site: Site) -> Site:
    """邯郸-style TRS portal: hub (sample 04) -> 年报 column (sample 01) + index_1 page."""
    hub = sample("04-trs-xxgk-portal-index.html").replace("http://hdzfxxgk.hd.gov.cn", "")
    site.add("/", hub)
    column = sample("01-trs-listing-xxgknb.html")
    site.add("/zfxxgknb/", column)
    site.add("/zfxxgknb/index.html", column)
    rows = [(h, t, d) for h, t, d, _ in TRS_PAGE2_REPORTS]
    rows.append(
        ("./202001/t20200101_0001.html", "关于做好2020年度信息公开工作的通知", "2020-01-01")
    )
    site.add("/zfxxgknb/index_1.html", trs_listing_page(rows, 1, 2))
    for path, name in TRS_REPORTS.items():
        body = corpus(name)
        site.add(path, body if name.endswith(".html") else article_page("年度报告", body))
    for href, title, _date, name in TRS_PAGE2_REPORTS:
        site.add("/zfxxgknb/" + href[2:], article_page(title, corpus(name)))
    for path in TRS_NON_REPORTS:
        site.add(path, article_page("会议", "会议内容"))
    return site


def trs_report_paths() -> list[str]:
    return [*TRS_REPORTS, *("/zfxxgknb/" + h[2:] for h, *_ in TRS_PAGE2_REPORTS)]


# Hanweb --------------------------------------------------------------------------------

HANWEB_REPORT_TITLES = [
    ("柯城区2023年政府信息公开工作年度报告", "000.txt"),
    ("柯城区人民政府办公室2022年政府信息公开工作年度报告", "001.txt"),
    ("2021年度柯城区政府信息公开工作年度报告", "004.txt"),
    ("柯城区司法局2021年政府信息公开年报", "005.txt"),
    ("柯城区卫健局2020年政府信息公开工作年度报告", "010.txt"),
    ("柯城区教育局2019年政府信息公开工作年度报告", "013.txt"),
]


def hanweb_records(site_base: str) -> list[tuple[str, str | None]]:
    """(record CDATA html, report path or None): sample 02 records interleaved with reports."""
    records = re.findall(
        r"<record><!\[CDATA\[(.*?)\]\]></record>",
        sample("02-hanweb-dataproxy-listing.html"),
        flags=re.S,
    )
    out: list[tuple[str, str | None]] = [(r, None) for r in records]
    for i, (title, _name) in enumerate(HANWEB_REPORT_TITLES):
        path = f"/art/2024/1/{20 - i}/art_12377_90000{i}.html"
        short = title[:12] + "..."
        rec = (
            f'\n        <li class="clearfix">    <a target="_blank" href="{path}" '
            f'title="{title}">{short}</a>    <b>2024-01-{20 - i:02d}</b></li>'
        )
        out.insert(2 * i + 1, (rec, path))
    # an off-site report link: must never be followed
    out.append(
        (
            '<li><a href="http://localhost:9/art/2020/1/1/art_1_1.html" '
            'title="外站2020年政府信息公开工作年度报告">外站</a><b>2020-01-01</b></li>',
            None,
        )
    )
    return out


def build_hanweb_site(site: Site, per_page: int = 3) -> Site:
    """定西-style Hanweb portal: column page with an embedded datastore + dataproxy.jsp."""
    raw = sample("02-hanweb-dataproxy-listing.html")
    nextgroup = re.search(r"<nextgroup>.*?</nextgroup>", raw, flags=re.S).group(0)  # type: ignore[union-attr]
    records = hanweb_records(site.base)
    total = len(records)
    first = "".join(f"<record><![CDATA[{r}]]></record>" for r, _ in records[:per_page])
    column = (
        '<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
        '<div class="main"><div id="38486"><script type="text/xml"><datastore>'
        f"{nextgroup}<recordset>{first}</recordset></datastore></script></div>"
        "<script>var param_38486={columnid:12377,unitid:'38486'};"
        f"$('#38486').jpage({{totalRecord:{total},perPage:{per_page}}});</script>"
        "</div></body></html>"
    )
    site.add("/col/col12377/index.html", column)

    def proxy(hit: Hit) -> Reply:
        query = parse_qs(urlsplit(hit.path).query)
        form = parse_qs(hit.body.decode("ascii"))
        if "referer" not in hit.headers or form.get("columnid") != ["12377"]:
            return Reply(404, b"no referer", etag=False)
        start = int(query["startrecord"][0])
        end = int(query["endrecord"][0])
        chunk = "".join(f"<record><![CDATA[{r}]]></record>" for r, _ in records[start - 1 : end])
        xml = (
            f"<datastore><totalrecord>{total}</totalrecord><recordset>{chunk}"
            "</recordset></datastore>"
        )
        return Reply(200, xml.encode(), {"Content-Type": "text/xml; charset=utf-8"}, etag=False)

    site.handle("/module/web/jpage/dataproxy.jsp", proxy)
    names = dict(HANWEB_REPORT_TITLES)
    for rec, path in records:
        if path is None:
            continue
        title = re.search(r'title="([^"]+)"', rec).group(1)  # type: ignore[union-attr]
        site.add(path, hanweb_article(title, corpus(names[title])))
    for rec, path in records:
        if path is None:
            match = re.search(r"href=\"(/art/[^\"]+)\"", rec)
            if match:
                site.add(match.group(1), hanweb_article("其他", "其他内容"))
    return site


def hanweb_report_paths(site: Site) -> list[str]:
    return [p for _, p in hanweb_records(site.base) if p is not None]
