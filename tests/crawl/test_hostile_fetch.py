"""Hostile servers on loopback (issue 8 §3, §4, §6): compression bombs, trickling bodies,
hosts asking for a day's pause, redirects to another port, escape sequences in URLs.
Every server is started by the test on 127.0.0.1; nothing is mocked."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import logging
import struct
import subprocess
import sys
import threading
import time
import tomllib
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pipeline.crawl import fetch
from pipeline.crawl.config import PortalConfig, parse_config
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.listing import Request
from pipeline.crawl.state import State
from pipeline.errors import ConfigError, SourceError
from pipeline.flows.nightly import nightly as crawl
from pipeline.flows.oneoff import read_source
from tests.portals import Hit, Reply, Site, article_page, corpus, fast, portal

# --------------------------------------------------------------------------- helpers


def rows(data_dir: object) -> dict[str, object]:
    state = State(data_dir)  # type: ignore[arg-type]
    try:
        return {r.url: r for r in state.rows()}
    finally:
        state.close()


def double_gzip_bomb(gib: float = 6.25) -> bytes:
    """``gib`` GiB of zeros, gzipped, gzipped again: about 15 KB on the wire.

    The inner stream repeats one full-flushed deflate block of 1 MiB of zeros, so it is
    built without compressing gigabytes; its CRC is left 0 (a decoder that honours its
    size cap never reaches it)."""
    mib = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    count = int(gib * 1024)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    inner = header + block * count + end + struct.pack("<II", 0, (count << 20) & 0xFFFFFFFF)
    return gzip.compress(inner, 9)


def fetch_one(url: str, politeness: object, allowed: object = None) -> Outcome:
    async def go() -> Outcome:
        fetcher = Fetcher(politeness)  # type: ignore[arg-type]
        try:
            return await fetcher.fetch(
                Request(url),
                politeness,  # type: ignore[arg-type]
                allowed=allowed or (lambda _u: True),  # type: ignore[arg-type]
            )
        finally:
            await fetcher.close()

    return asyncio.run(go())


_PEAK_FETCH = """
import asyncio, resource, sys
from pipeline.crawl.config import Politeness
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.listing import Request
from pipeline.errors import SourceError
from pipeline.flows.oneoff import read_source

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the interpreter and its imports
url, how = sys.argv[1], sys.argv[2]
if how == "crawler":
    async def go():
        politeness = Politeness.off(timeout=60.0, retries=1, robots=False)
        fetcher = Fetcher(politeness)
        outcome = await fetcher.fetch(Request(url), politeness, allowed=lambda u: True)
        await fetcher.close()
        return f"{outcome.status} {outcome.reason}"
    result = asyncio.run(go())
else:
    try:
        read_source(url, timeout=60.0)
        result = "read"
    except SourceError as exc:
        result = f"error {exc}"
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024, result)
"""


def peak_fetch(url: str, how: str) -> tuple[int, str]:
    """(peak RSS in MB above the interpreter with its imports, outcome) of one fetch in a
    fresh interpreter: what the fetch itself takes, whatever the imports weigh."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_FETCH, url, how],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    peak, result = out.stdout.strip().split(" ", 1)
    return int(peak), result


class _Trickle(BaseHTTPRequestHandler):
    """Promises 1000 bytes and sends one a second (at most 30: threads end on their own)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1.0)
        except OSError:
            pass


@pytest.fixture
def trickle() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/report.html"
    server.shutdown()
    server.server_close()


def listing(site: Site, paths: list[str]) -> None:
    title = "柯城区2023年政府信息公开工作年度报告"
    lis = "".join(f'<li><a href="{p}" title="{title}">{title}</a></li>' for p in paths)
    site.add("/nb/", f'<html><meta charset="utf-8"><body><ul>{lis}</ul></body></html>')


# --------------------------------------------------------------------------- §3 bombs


def test_double_gzip_bomb_is_refused_with_small_memory(serve) -> None:
    bomb = double_gzip_bomb()
    assert len(bomb) < 20_000
    site = serve(Site())
    site.add("/bomb.html", bomb, headers={"Content-Encoding": "gzip, gzip"}, etag=False)
    # in process: a clear reason
    outcome = fetch_one(site.url("/bomb.html"), fast(robots=False, max_bytes=50 * 2**20))
    assert outcome.status == "failed" and outcome.reason is not None
    assert outcome.reason.startswith("too-large") and outcome.body == b""
    # in a fresh interpreter: peak memory (it passed 7 GB before)
    peak, result = peak_fetch(site.url("/bomb.html"), "crawler")
    assert result.startswith("failed too-large"), result
    assert peak < 200, peak  # the 50 MiB cap and the decoder buffers
    peak, result = peak_fetch(site.url("/bomb.html"), "read_source")
    assert result == f"error {site.url('/bomb.html')}: larger than 20 MiB", result
    assert peak < 200, peak


def test_bodies_in_every_coding_we_ask_for_decode_in_full(serve) -> None:
    page = article_page("年报", corpus("000.txt")).encode()
    raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    site = serve(Site())
    bodies = {
        "gzip": gzip.compress(page),
        "deflate": zlib.compress(page),
        "deflate-raw": raw_deflate.compress(page) + raw_deflate.flush(),
        "gzip, gzip": gzip.compress(gzip.compress(page)),
        "identity": page,
    }
    for coding, body in bodies.items():
        path = "/" + coding.replace(", ", "-") + ".html"
        header = coding.replace("-raw", "")
        site.add(path, body, headers={"Content-Encoding": header}, etag=False)
        outcome = fetch_one(site.url(path), fast(robots=False))
        assert outcome.status == "ok" and outcome.body == page, coding
        assert read_source(site.url(path))[0] == page, coding
    sent = site.hits("/gzip.html")[0].headers["accept-encoding"]
    assert sent == "gzip, deflate"  # nothing we could not decode within the cap
    site.add("/br.html", b"\x8b\x03\x80", headers={"Content-Encoding": "br"}, etag=False)
    outcome = fetch_one(site.url("/br.html"), fast(robots=False))
    assert outcome.status == "failed" and "br was not asked for" in (outcome.reason or "")


def test_a_redirect_body_is_capped_too(serve) -> None:
    """httpx reads a redirect's body in full when it follows redirects itself."""
    site = serve(Site())
    site.add(
        "/moved.html",
        double_gzip_bomb(1),
        status=302,
        headers={"Content-Encoding": "gzip, gzip", "Location": "/report.html"},
        etag=False,
    )
    site.add("/report.html", article_page("年报", corpus("000.txt")))
    peak, result = peak_fetch(site.url("/moved.html"), "read_source")
    assert result == "read" and peak < 200


# --------------------------------------------------------------------------- §4 deadlines


def test_trickling_server_ends_within_the_timeout(trickle: str) -> None:
    started = time.monotonic()
    outcome = fetch_one(trickle, fast(robots=False, timeout=1.5, retries=1))
    assert outcome.status == "failed" and outcome.reason == "timeout"
    assert time.monotonic() - started < 6.0  # one 1.5 s attempt, generous bound
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"no complete answer within 1.5 s"):
        read_source(trickle, timeout=1.5)
    assert time.monotonic() - started < 6.0  # read timeouts alone never fired: 1 byte/s


def test_crawl_delay_of_a_day_defers_the_host(serve, tmp_path) -> None:
    site = serve(Site())
    site.add("/robots.txt", "User-agent: *\nCrawl-delay: 86400\n", content_type="text/plain")
    listing(site, ["/r/1.html"])
    started = time.monotonic()
    (result,) = crawl([portal(site, "/nb/")], tmp_path, politeness_override=fast(delay=0.1)).portals
    assert time.monotonic() - started < 10
    assert site.paths() == ["/robots.txt"]  # asked nothing else this run
    ((reason, count),) = result.reasons.items()
    assert reason.startswith("deferred: robots.txt Crawl-delay 86400 s over the 60 s cap")
    assert count == 1
    assert rows(tmp_path)[site.url("/nb/")].status == "deferred"


def test_an_unreachable_robots_txt_leaves_the_host_for_the_next_run(serve, tmp_path) -> None:
    """RFC 9309: robots.txt unreachable (5xx, no answer) means assume everything is
    disallowed. Asked twice, then nothing else of the host this run (before: no rules
    applied, so a Crawl-delay the host would have asked for was skipped)."""
    site = serve(Site())
    site.add("/robots.txt", "busy", status=503, content_type="text/plain", etag=False)
    listing(site, ["/r/1.html"])
    (result,) = crawl([portal(site, "/nb/")], tmp_path, politeness_override=fast()).portals
    assert site.paths() == ["/robots.txt", "/robots.txt"]
    assert result.reasons == {
        "deferred: robots.txt unreachable (HTTP 503): host left for the next run": 1
    }
    assert rows(tmp_path)[site.url("/nb/")].status == "deferred"


def test_retry_after_a_day_defers_the_host_not_each_url(serve, tmp_path) -> None:
    site = serve(Site())
    paths = [f"/r/{i}.html" for i in range(5)]
    listing(site, paths)
    for path in paths:
        site.add(path, "busy", status=429, headers={"Retry-After": "86400"}, etag=False)
    started = time.monotonic()
    (result,) = crawl(
        [portal(site, "/nb/")], tmp_path, politeness_override=fast(per_host=1)
    ).portals
    assert time.monotonic() - started < 10  # 1,808 s before
    asked = [p for p in site.paths() if p.startswith("/r/")]
    assert len(asked) == 1  # one answer is enough: the other four were never asked
    assert result.reasons == {
        "deferred: Retry-After 86400 s over the 2 s cap: host left for the next run": 5
    }
    assert {rows(tmp_path)[site.url(p)].status for p in paths} == {"deferred"}


def test_retry_after_holds_the_whole_host(serve) -> None:
    """A Retry-After within the cap is honoured for every URL of the host, not only for
    the URL that got it: another URL asked meanwhile waits too."""
    site = serve(Site())
    page = article_page("年报", corpus("000.txt")).encode()
    answered: list[int] = []

    def busy(hit: Hit) -> Reply:
        answered.append(1)
        if len(answered) == 1:
            return Reply(429, b"slow down", {"Retry-After": "1"}, etag=False)
        return Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})

    site.handle("/r/busy.html", busy)
    site.add("/r/other.html", page)
    politeness = fast(per_host=2, robots=False)

    async def go() -> tuple[Outcome, Outcome]:
        fetcher = Fetcher(politeness)
        try:
            first = asyncio.create_task(
                fetcher.fetch(
                    Request(site.url("/r/busy.html")), politeness, allowed=lambda _u: True
                )
            )
            while not answered:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the 429 has been read
            other = await fetcher.fetch(
                Request(site.url("/r/other.html")), politeness, allowed=bool
            )
            return await first, other
        finally:
            await fetcher.close()

    busy_outcome, other_outcome = asyncio.run(go())
    assert busy_outcome.status == other_outcome.status == "ok"
    told = site.hits("/r/busy.html")[0].at
    assert site.hits("/r/other.html")[0].at - told >= 1.0
    assert site.hits("/r/busy.html")[1].at - told >= 1.0


def test_spacing_counts_from_when_requests_were_sent(serve, tmp_path) -> None:
    """Two portals share one global slot; the slow one holds it, so the other's requests
    leave later than they were scheduled. Every request to a host still arrives at least
    ``delay`` after the previous one (the slot was computed from the scheduled start)."""
    delay = 0.3
    quick, slow = serve(Site()), serve(Site())
    paths = [f"/r/{i}.html" for i in range(4)]
    for site, pause in ((quick, 0.0), (slow, 0.5)):
        listing(site, paths)
        for path in paths:
            site.routes[path] = Reply(200, b"<html>x</html>", {"Content-Type": "text/html"}, pause)
    crawl(
        [portal(quick, "/nb/", name="快"), portal(slow, "/nb/", name="慢")],
        tmp_path,
        politeness_override=fast(delay=delay, per_host=2, concurrency=1),
    )
    for site in (quick, slow):
        times = sorted(h.at for h in site.log)
        assert len(times) == 6  # robots.txt, the listing, 4 pages
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= delay, gaps


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ("delay = inf", "delay", "finite"),
        ("delay = -1", "delay", "negative"),
        ("delay = 1e9", "delay", "at most"),
        ("timeout = nan", "timeout", "finite"),
        ("timeout = -inf", "timeout", "finite"),
        ("per_host = 1e8", "per_host", "expected a whole number"),
        ("per_host = 100000000", "per_host", "at most"),
        ("retries = 1000", "retries", "at most"),
        ("max_bytes = 99999999999999", "max_bytes", "at most"),
        ("max_retry_after = inf", "max_retry_after", "finite"),
        ("max_crawl_delay = -5", "max_crawl_delay", "negative"),
        ("backoff_max = nan", "backoff_max", "finite"),
        ("max_requests = 0", "max_requests", "greater than zero"),
        ("max_requests = 1e12", "max_requests", "expected a whole number"),
        ("max_requests = 10000000", "max_requests", "at most"),
        ("max_seconds = inf", "max_seconds", "finite"),
        ("max_seconds = 0", "max_seconds", "greater than zero"),
    ],
)
def test_config_rejects_absurd_numbers(line: str, key: str, message: str) -> None:
    data = tomllib.loads(f'[[portal]]\nname = "甲"\nstart_urls = ["http://a.gov.cn/"]\n{line}\n')
    with pytest.raises(ConfigError, match=rf"field '{key}': .*{message}"):
        parse_config(data)
    portal_table = '[[portal]]\nname = "甲"\nstart_urls = ["http://a.gov.cn/"]\n'
    defaults = tomllib.loads(f"[defaults]\n{line}\n{portal_table}")
    with pytest.raises(ConfigError, match=rf"\[defaults\]: field '{key}'"):
        parse_config(defaults)


# --------------------------------------------------------------------------- §6 origins, logs


def test_redirect_to_another_port_of_the_portal_host_is_not_followed(serve, tmp_path) -> None:
    site, other = serve(Site()), serve(Site())
    other.add("/secret/admin", "token accepted")
    secret = other.url("/secret/admin?token=1")
    listing(site, ["/r/away.html", secret])
    site.add("/r/away.html", "", status=302, headers={"Location": secret}, etag=False)
    crawl([portal(site, "/nb/")], tmp_path, politeness_override=fast())
    assert other.log == []  # neither the redirect nor the link reached the other port
    state = rows(tmp_path)
    assert state[site.url("/r/away.html")].status == "offsite"
    assert secret not in state  # an off-origin link is not even queued


def test_a_portal_origin_is_scheme_host_and_port() -> None:
    config = PortalConfig(
        name="甲",
        start_urls=("http://www.a.gov.cn/", "http://127.0.0.1:8080/nb/"),
        extra_hosts=("*.b.gov.cn", "xxgk.c.gov.cn:8443"),
    )
    allowed = [
        "http://www.a.gov.cn/x",
        "https://www.a.gov.cn/x",  # the http -> https move of one site
        "https://WWW.A.GOV.CN:443/x",
        "http://127.0.0.1:8080/other",
        "https://127.0.0.1:8080/nb/",  # the start URL's server under the other scheme
        "http://zwgk.b.gov.cn/x",
        "https://xxgk.c.gov.cn:8443/x",
    ]
    refused = [
        "http://www.a.gov.cn:8080/secret",
        "http://www.a.gov.cn:443/x",  # http on the https port: another service
        "https://www.a.gov.cn:80/x",
        "http://127.0.0.1/nb/",
        "http://127.0.0.1:18999/secret/admin?token=1",
        "http://zwgk.b.gov.cn:8080/x",
        "http://xxgk.c.gov.cn/x",  # only its port 8443 was named
        "http://www.a.gov.cn:99999/x",
        "http://www.a.gov.cn:abc/x",
        "ftp://www.a.gov.cn/x",
    ]
    assert [u for u in allowed if not config.allows(u)] == []
    assert [u for u in refused if config.allows(u)] == []


def test_escape_sequences_from_urls_never_reach_the_log(serve, caplog) -> None:
    """C1 CSI (an escape sequence on many terminals), bidi overrides and line separators
    pass httpx's URL check (ASCII controls do not): they are escaped in log lines."""
    site = serve(Site())
    url = site.url("/r/\x9b2J\u202eowned\u2028event=forged.html")
    site.add(httpx.URL(url).raw_path.decode(), "busy", status=503, etag=False)
    with caplog.at_level(logging.DEBUG, logger="pipeline.crawl"):
        outcome = fetch_one(url, fast(retries=2))
    assert outcome.status == "failed" and len(site.log) == 3  # robots.txt, two attempts
    messages = [r.getMessage() for r in caplog.records]
    assert any("\\x9b2J\\u202eowned\\u2028event=forged" in m for m in messages), messages
    assert not any(c in m for m in messages for c in "\x9b\u202e\u2028\x1b\n")


def test_read_source_keeps_its_deadline_inside_a_running_event_loop(trickle: str) -> None:
    """A notebook runs an event loop: read_source still works there, deadline included."""

    async def in_notebook() -> None:
        with pytest.raises(SourceError, match=r"no complete answer within 1 s"):
            read_source(trickle, timeout=1.0)

    started = time.monotonic()
    asyncio.run(in_notebook())
    assert time.monotonic() - started < 6.0


# --------------------------------------------------------------------------- connections


def test_each_host_keeps_its_connection_however_many_hosts(serve) -> None:
    """Keep-alive per host: 12 hosts, 3 pages each, at most 2 requests in flight. With one
    pool of 2 × concurrency connections for every host, each request opened its own
    connection (3 per host); a pool per host opens one per host."""
    sites = []
    for _ in range(12):
        site = Site()
        for page in range(3):
            site.add(f"/p{page}.html", f"<html><body>page {page}</body></html>")
        sites.append(serve(site))
    politeness = fast(concurrency=2, per_host=1, robots=False)

    async def crawl_all() -> list[Outcome]:
        fetcher = Fetcher(politeness)
        try:

            async def host(site: Site) -> list[Outcome]:
                return [
                    await fetcher.fetch(
                        Request(site.url(f"/p{page}.html")), politeness, allowed=lambda u: True
                    )
                    for page in range(3)
                ]

            done = await asyncio.gather(*(host(site) for site in sites))
            return [outcome for outcomes in done for outcome in outcomes]
        finally:
            await fetcher.close()

    outcomes = asyncio.run(crawl_all())
    assert [o.status for o in outcomes] == ["ok"] * 36
    assert [len(site.log) for site in sites] == [3] * 12
    assert [len({hit.client for hit in site.log}) for site in sites] == [1] * 12


def test_kept_connections_are_bounded(serve, monkeypatch) -> None:
    """Past MAX_KEPT_CONNECTIONS the least recently used idle pools are closed: their hosts
    connect again, and the crawl goes on."""
    monkeypatch.setattr(fetch, "MAX_KEPT_CONNECTIONS", 2)
    sites = [serve(Site()) for _ in range(4)]
    for site in sites:
        site.add("/a.html", "<html><body>a</body></html>")
    politeness = fast(per_host=1, robots=False)

    async def run() -> tuple[list[str], int]:
        fetcher = Fetcher(politeness)
        try:
            statuses = []
            for site in [*sites, sites[0]]:  # the first host again, after 3 others
                outcome = await fetcher.fetch(
                    Request(site.url("/a.html")), politeness, allowed=lambda u: True
                )
                statuses.append(outcome.status)
            pools = fetcher.client._transport.pools  # type: ignore[attr-defined]
            return statuses, len(pools)
        finally:
            await fetcher.close()

    statuses, pools = asyncio.run(run())
    assert statuses == ["ok"] * 5 and pools == 2
    assert len({hit.client for hit in sites[0].log}) == 2  # its pool was closed in between
    assert [len({hit.client for hit in site.log}) for site in sites[1:]] == [1, 1, 1]


class SetsCookie(Site):
    """Sets a session cookie on its first answer only (as a JSP list does), then expects it."""

    def respond(self, hit: Hit) -> Reply:
        reply = super().respond(hit)
        if hit.path != "/a":
            return reply
        return Reply(reply.status, reply.body, {**reply.headers, "Set-Cookie": "JSESSIONID=s1"})


def test_a_cookie_set_by_one_answer_is_sent_with_the_next_requests(serve) -> None:
    site = serve(SetsCookie())
    for path in ("/a", "/b", "/c"):
        site.add(path, article_page("页", "<p>x</p>"))

    async def go() -> list[str]:
        fetcher = Fetcher(fast())
        try:
            for path in ("/a", "/b", "/c"):
                outcome = await fetcher.fetch(
                    Request(site.url(path)), fast(), allowed=lambda _u: True
                )
                assert outcome.status == "ok", outcome.reason
        finally:
            await fetcher.close()
        return [h.headers.get("cookie") for h in site.log if h.path != "/robots.txt"]

    # the answers without Set-Cookie (b, c) do not clear or skip the jar
    assert asyncio.run(go()) == [None, "JSESSIONID=s1", "JSESSIONID=s1"]


class _LaterHttpx(httpx.AsyncClient):
    """A client as a later httpx might lay it out: the jar under another name, behind the
    same public ``cookies``, and no ``_cookies`` to set (as in a slotted class)."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self.__dict__["_jar"] = self.__dict__.pop("_cookies")

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self.__dict__["_jar"]

    def __setattr__(self, name: str, value: object) -> None:
        if name == "_cookies" and "_jar" in self.__dict__:
            raise AttributeError(name)
        super().__setattr__(name, value)


@pytest.mark.parametrize("client", [httpx.AsyncClient, _LaterHttpx])
def test_cookies_work_with_the_quiet_jar_and_without_it(serve, client: type) -> None:
    """The crawler's jar reads only answers that set cookies; where httpx keeps its jar
    elsewhere, the client keeps httpx's own, and cookies are sent back all the same."""
    site = serve(SetsCookie())
    for path in ("/a", "/b"):
        site.add(path, article_page("页", "<p>x</p>"))

    async def go() -> bool:
        async with client() as http:
            installed = fetch.quiet_cookie_jar(http)
            for path in ("/a", "/b"):
                assert (await http.get(site.url(path))).status_code == 200
        return installed

    assert asyncio.run(go()) is (client is httpx.AsyncClient)
    assert [h.headers.get("cookie") for h in site.log] == [None, "JSESSIONID=s1"]


def test_the_fetcher_reads_only_answers_that_set_cookies() -> None:
    fetcher = Fetcher(fast())
    asyncio.run(fetcher.close())
    assert type(fetcher.client.cookies) is fetch._Cookies
