"""The opt-in browser tier: a 年报 list built by a script, read through headless Chromium
(Debian's /usr/bin/chromium driven by Playwright) on loopback portals.

Without ``browser = true`` the page stays ``blocked: js-gate``; with it every report is
found, fetched, extracted and staged. The browser never requests another origin, and the
requests it sends to the portal keep the crawl's spacing (measured where they arrive).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline.crawl import PortalConfig, State
from pipeline.crawl.browser import CHROMIUM, BrowserTier
from pipeline.crawl.config import Politeness
from pipeline.crawl.fetch import Fetcher
from pipeline.crawl.listing import Request
from pipeline.flows.nightly import nightly as crawl
from tests.family_portals import body, report_page
from tests.portals import Hit, Reply, Site, fast

HAVE_CHROMIUM = os.access(CHROMIUM, os.X_OK)
try:
    import playwright  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:
    HAVE_PLAYWRIGHT = False

needs_browser = pytest.mark.skipif(
    not (HAVE_CHROMIUM and HAVE_PLAYWRIGHT),
    reason=f"the browser tier needs Chromium at {CHROMIUM} (apt-get install chromium) "
    "and Playwright (pip install playwright)",
)

TITLES = [f"戊县{y}年政府信息公开工作年度报告" for y in (2023, 2022, 2021)]


class Staged(list[Any]):
    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend(items)


def js_list_site(site: Site, other: Site | None = None) -> list[str]:
    """A 年报 column whose list is an empty ``<ul id=list>`` filled by scripts: an inline
    one for two reports, a same-origin ``/js/more.js`` for the third. With ``other``, the
    page also asks another origin for a script, an image and a JSON list."""
    reports = [f"/nb/{2024 - i}/t{i}.html" for i in range(len(TITLES))]
    items = ",".join(f'["{p}","{t}"]' for p, t in zip(reports[:2], TITLES[:2], strict=True))
    foreign = ""
    if other is not None:
        foreign = (
            f'<script src="{other.url("/track.js")}"></script>'
            f'<img src="{other.url("/logo.png")}">'
            f"<script>fetch('{other.url('/api/list.json')}').catch(function(){{}});</script>"
        )
    site.add(
        "/nb/",
        "<html><head><title>政府信息公开年报</title></head><body>"
        '<ul id="list"></ul>'
        f"<script>var items=[{items}];var ul=document.getElementById('list');"
        "items.forEach(function(x){var li=document.createElement('li');"
        "li.innerHTML='<a href=\"'+x[0]+'\">'+x[1]+'</a>';ul.appendChild(li);});</script>"
        f'<script src="/js/more.js"></script>{foreign}'
        "</body></html>",
    )
    site.add(
        "/js/more.js",
        "document.getElementById('list').insertAdjacentHTML('beforeend',"
        f"'<li><a href=\"{reports[2]}\">{TITLES[2]}</a></li>');",
        content_type="application/javascript",
    )
    for i, (path, title) in enumerate(zip(reports, TITLES, strict=True)):
        site.add(
            path,
            report_page(title, body(i), index_no=f"330802/2024-0000{i}", agency="戊县人民政府"),
        )
    return reports


def portal(site: Site, **options: object) -> Any:
    return PortalConfig(
        name="戊县", start_urls=(site.url("/nb/"),), region_code="330802", **options
    )  # type: ignore[arg-type]


def test_without_the_browser_tier_a_js_list_is_blocked(serve, tmp_path) -> None:
    site = serve(Site())
    reports = js_list_site(site)
    (result,) = crawl(
        [portal(site)], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert result.blocked == 1 and result.reports_new == 0 and result.reports_listed == 0
    assert result.reasons == {"blocked: js-gate (no browser tier: set browser = true)": 1}
    assert all(site.hits(p) == [] for p in reports)
    assert site.hits("/js/more.js") == []  # plain HTTP runs no script


@needs_browser
def test_browser_tier_reads_a_js_built_list_and_stages_every_report(serve, tmp_path) -> None:
    site = serve(Site())
    reports = js_list_site(site)
    staged = Staged()
    summary = crawl(
        [portal(site, browser=True)], tmp_path, stage=staged.stage, politeness_override=fast()
    )
    (result,) = summary.portals
    assert result.blocked == 0 and result.failed == 0, result.line()
    assert result.reports_listed == len(reports) and result.reports_new == len(reports)
    assert result.reasons["note: listing pages rendered by the browser"] == 1
    for path in reports:
        assert len([h for h in site.hits(path) if h.status == 200]) == 1, path
    # the page twice (plain, then the browser) and its script once, by the browser
    assert len(site.hits("/nb/")) == 2 and len(site.hits("/js/more.js")) == 1
    assert len(staged) == len(reports)  # each one extracted and handed to staging
    state = State(tmp_path)
    try:
        rows = {r.url: r for r in state.rows(kind="report")}
    finally:
        state.close()
    assert {r.title for r in rows.values()} == set(TITLES)
    assert {r.extract_status for r in rows.values()} <= {"ok", "partial"}, rows
    assert all(r.stage_status == "staged" for r in rows.values()), rows


@needs_browser
def test_the_browser_requests_no_other_origin(serve, tmp_path) -> None:
    site, other = serve(Site()), serve(Site())
    other.add("/track.js", "document.title='x';", content_type="application/javascript")
    other.add("/logo.png", b"\x89PNG", content_type="image/png")
    other.add("/api/list.json", "[]", content_type="application/json")
    reports = js_list_site(site, other)
    (result,) = crawl(
        [portal(site, browser=True)], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert result.reports_new == len(reports), result.line()
    assert other.log == []  # not one request, robots.txt included


@needs_browser
def test_browser_requests_keep_the_hosts_spacing(serve, tmp_path) -> None:
    site = serve(Site())
    js_list_site(site)
    delay = 0.4
    politeness = fast(delay=delay, per_host=1)
    (result,) = crawl(
        [portal(site, browser=True)], tmp_path, stage=Staged().stage, politeness_override=politeness
    ).portals
    assert result.reports_new == len(TITLES), result.line()
    hits = sorted(site.log, key=lambda h: h.at)
    # robots.txt, the page, the page again (browser), its script, three reports
    assert len(hits) >= 7, site.paths()
    gaps = [(b.path, b.at - a.at) for a, b in itertools.pairwise(hits)]
    # as the server saw them: each turn is held until the answer begins (0.354 s was seen
    # when the browser's requests were released as soon as Chromium was told to send)
    assert min(gap for _, gap in gaps) >= delay, gaps


@needs_browser
def test_a_js_gate_that_sets_a_cookie_and_reloads_is_passed(serve, tmp_path) -> None:
    site = serve(Site())
    reports = js_list_site(site)
    links = "".join(f'<li><a href="{p}">{t}</a></li>' for p, t in zip(reports, TITLES, strict=True))

    def gate(hit: Hit) -> Reply:
        if "clearance=1" in hit.headers.get("cookie", ""):
            page = f"<html><body><h1>政府信息公开年报</h1><ul>{links}</ul></body></html>"
        else:
            script = "document.cookie='clearance=1; path=/';location.reload();"
            page = f"<html><script>{script}</script></html>"
        return Reply(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"}, etag=False)

    site.handle("/gate/", gate)
    cfg = PortalConfig(name="己县", start_urls=(site.url("/gate/"),), browser=True)
    (result,) = crawl([cfg], tmp_path, stage=Staged().stage, politeness_override=fast()).portals
    assert result.blocked == 0 and result.reports_new == len(reports), result.line()
    assert [h.headers.get("cookie") for h in site.hits("/gate/")] == [None, None, "clearance=1"]


@needs_browser
def test_robots_txt_holds_for_the_browsers_requests(serve, tmp_path) -> None:
    site = serve(Site())
    reports = js_list_site(site)
    site.add("/robots.txt", "User-agent: *\nDisallow: /js/\n", content_type="text/plain")
    (result,) = crawl(
        [portal(site, browser=True)], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert site.hits("/js/more.js") == []  # disallowed: the browser does not ask for it
    assert len(site.hits("/robots.txt")) == 1  # read once for the plain and browser requests
    assert result.reports_new == 2 and site.hits(reports[2]) == [], result.line()


def test_a_missing_chromium_is_an_answer_not_a_traceback(serve, tmp_path) -> None:
    site = serve(Site())
    site.add("/", "<html><script>boot()</script></html>")

    async def go() -> Any:
        fetcher = Fetcher(Politeness.off())
        tier = BrowserTier(fetcher, executable=str(tmp_path / "no-chromium"))
        try:
            first = await tier.fetch(
                Request(site.url("/")), Politeness.off(), allowed=lambda u: True
            )
            second = await tier.fetch(
                Request(site.url("/")), Politeness.off(), allowed=lambda u: True
            )
            return first, second
        finally:
            await tier.close()
            await fetcher.close()

    first, second = asyncio.run(go())
    for outcome in (first, second):
        assert outcome.status == "blocked"
        assert outcome.reason.startswith("js-gate (browser tier unavailable: ")
        assert "no Chromium at" in outcome.reason or "Playwright" in outcome.reason
    assert site.log == []


def test_browser_option_is_validated() -> None:
    from pipeline.crawl.config import parse_config
    from pipeline.errors import ConfigError

    ok = parse_config(
        {"portal": [{"name": "a", "start_urls": ["http://a.example/"], "browser": True}]}
    )
    assert ok[0].browser is True
    default = parse_config({"portal": [{"name": "a", "start_urls": ["http://a.example/"]}]})
    assert default[0].browser is False
    with pytest.raises(ConfigError, match="'browser'"):
        parse_config({"portal": [{"name": "a", "start_urls": ["http://a/"], "browser": "yes"}]})
