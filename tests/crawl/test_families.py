"""Each family replica crawled end to end: every report and nothing else, the list paged
to its end, and a second run that fetches nothing unchanged."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.crawl import PortalConfig, State
from pipeline.crawl.families import MAX_LISTING_PAGES
from pipeline.flows.nightly import nightly as crawl
from tests.family_portals import BUILDERS, LOOKALIKES, Replica, other_page
from tests.portals import Hit, Reply, Site, fast

EXPECTED_FAMILY = {
    "gkmlpt": "gkmlpt",
    "hanweb_xxgk_post": "hanweb_xxgk",
    "hanweb_xxgk_get": "hanweb_xxgk",
    "jpaas": "jpaas",
    "ucap": "ucap",
    "lonsun": "lonsun",
    "pclist": "pclist",
    "slugs": "trs",
}


class Staged(list[Any]):
    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend(items)


def report_rows(data_dir: Path) -> dict[str, Any]:
    state = State(data_dir)
    try:
        return {r.url: r for r in state.rows(kind="report")}
    finally:
        state.close()


def fetched(replica: Replica, path: str) -> int:
    return len([h for h in replica.site.hits(path) if h.status in (200, 304)])


@pytest.mark.parametrize("name", list(BUILDERS))
def test_replica_crawl_finds_every_report_and_nothing_else(serve, tmp_path, name) -> None:
    site = serve(Site())
    replica = BUILDERS[name](site)
    staged = Staged()
    (first,) = crawl(
        [replica.portal()], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert first.completed and first.failed == 0 and first.blocked == 0, first.line()
    assert first.family == EXPECTED_FAMILY[name], first.line()
    assert first.reports_new == len(replica.reports), first.line()
    assert first.reports_listed == len(replica.reports)
    for path in replica.reports:
        assert fetched(replica, path) == 1, path
    for path in replica.decoys:
        assert site.hits(path) == [], path  # look-alikes and other documents: never fetched
    paths = " ".join(f"{h.path} {h.body.decode('utf-8', 'replace')}" for h in site.log)
    for page in replica.listings:
        assert page in paths, page  # paged to the end
    assert {Path(u.split("?")[0]).name for u in report_rows(tmp_path)} == {
        Path(p).name for p in replica.reports
    }
    for path in replica.attachments:
        assert fetched(replica, path) == 1, path
    assert len(staged) >= len(replica.reports) - len(replica.attachments) // 2

    # second night: straight to the remembered 年报 entry; nothing new, nothing refetched
    site.log.clear()
    (second,) = crawl(
        [replica.portal()], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert second.completed and second.failed == 0, second.line()
    assert second.reports_new == second.reports_changed == 0, second.line()
    assert second.reports_unchanged == len(replica.reports)
    assert second.how == "remembered"
    gets = [h for h in site.log if h.method == "GET" and h.path != "/robots.txt"]
    assert gets and {h.status for h in gets} == {304}, [(h.path, h.status) for h in gets]
    assert all(h.method == "GET" or "search.jsp" in h.path for h in site.log)


def test_report_pages_metadata_and_region_check(serve, tmp_path) -> None:
    site = serve(Site())
    replica = BUILDERS["gkmlpt"](site)
    (result,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    # one report's 索引号 carries the city's code: noted, not a failure
    assert result.region_mismatches == 1 and result.failed == 0
    assert "note: 索引号 region 441400 is not the portal's 441423" in result.reasons
    rows = list(report_rows(tmp_path).values())
    assert all(r.index_no and r.page_agency == "某县人民政府办公室" for r in rows)
    assert {r.page_date for r in rows} == {"2024-01-22"}
    assert any(r.index_no == "11441423007235893X/2024-00000" for r in rows)


def moved_column(site: Site, replica: Replica, how: str) -> None:
    old = "/col/col1229564/index.html"
    page = site.routes[old].body  # type: ignore[union-attr]
    if how == "404":
        del site.routes[old]
    else:  # still there, but its list is gone
        site.add(old, "<html><body><p>本栏目已迁移</p><a href='/'>首页</a></body></html>")
    site.add("/col/col1300001/index.html", page)
    site.add(
        "/", '<html><body><a href="/col/col1300001/index.html">政府信息公开年报</a></body></html>'
    )


@pytest.mark.parametrize("how", ["404", "emptied"])
def test_a_moved_column_is_found_again(serve, tmp_path, how) -> None:
    site = serve(Site())
    replica = BUILDERS["jpaas"](site)
    crawl([replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast())
    moved_column(site, replica, how)
    (again,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert again.reasons["年报 entry moved: rediscovered"] == 1 and again.failed == (how == "404")
    assert again.reports_unchanged == len(replica.reports) and again.reports_new == 0
    state = State(tmp_path)
    try:
        entries = [r.entry for r in state.recipes(replica.portal().name)]
    finally:
        state.close()
    assert entries == [site.url("/col/col1300001/index.html")]
    # the night after: the new column is the remembered one
    site.log.clear()
    (third,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert third.how == "remembered" and not third.reasons and site.hits("/") == []


def test_hostile_list_api_claiming_a_million_pages_is_capped(serve, tmp_path) -> None:
    site = serve(Site())
    tree = [{"id": 7, "name": "政府信息公开年报", "children": [], "jump_url": ""}]
    site.add(
        "/gkmlpt/index",
        f"<html><script>window._CONFIG = {{SID: '1', TREE: {json.dumps(tree)}}};</script></html>",
    )

    def endless(hit: Hit) -> Reply:
        page = int(parse_qs(urlsplit(hit.path).query)["page"][0])
        articles = [
            {"id": page * 1000 + i, "title": f"通知{page}-{i}", "url": f"/n/{page}/{i}.html"}
            for i in range(100)
        ]
        data = {"total": 100_000_000, "offset": (page - 1) * 100, "articles": articles}
        return Reply(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

    site.handle("/gkmlpt/api/all/7", endless)
    started = time.monotonic()
    (result,) = crawl(
        [replica_portal(site, "/gkmlpt/index")],
        tmp_path,
        stage=Staged().stage,
        politeness_override=fast(),
    ).portals
    api_hits = site.hits("/gkmlpt/api/all/7")
    assert len(api_hits) == MAX_LISTING_PAGES
    assert result.capped == 1 and result.completed
    assert result.reasons[f"listing page cap {MAX_LISTING_PAGES} hit"] == 1
    assert "listing page cap hit 1" in result.line()
    assert time.monotonic() - started < 30


def replica_portal(site: Site, *paths: str) -> PortalConfig:
    return PortalConfig(name="测试", start_urls=tuple(site.url(p) for p in paths))


def test_list_inside_an_iframe_is_followed_on_the_portal_only(serve, tmp_path) -> None:
    site = serve(Site())
    site.add(
        "/nb/index.html",
        "<html><head><title>信息公开年报</title></head><body>"
        '<iframe src="/nb/list.html"></iframe><iframe src="http://other.example/x.html"></iframe>'
        "</body></html>",
    )
    site.add(
        "/nb/list.html",
        '<html><body><ul><li><a href="/nb/r1.html">甲县2023年政府信息公开工作年度报告</a></li>'
        f'<li><a href="/nb/x.html">{LOOKALIKES[0]}</a></li></ul></body></html>',
    )
    site.add("/nb/r1.html", other_page("甲县2023年政府信息公开工作年度报告"))
    (result,) = crawl(
        [replica_portal(site, "/nb/index.html")],
        tmp_path,
        stage=Staged().stage,
        politeness_override=fast(),
    ).portals
    assert result.reports_new == 1 and result.failed == 0 and site.hits("/nb/x.html") == []


def test_script_redirect_is_followed_and_a_js_shell_is_blocked(serve, tmp_path) -> None:
    site = serve(Site())
    site.add("/", "<html><script>window.location.href='/zwgk/';</script></html>")
    site.add(
        "/zwgk/",
        '<html><body><a href="/zwgk/r.html">乙县2023年政府信息公开工作年度报告</a></body></html>',
    )
    site.add("/zwgk/r.html", other_page("乙县2023年政府信息公开工作年度报告"))
    gated = serve(Site())
    gated.add("/", "<html><head><script src='/a.js'></script><script>boot()</script></head></html>")
    summary = crawl(
        [replica_portal(site, "/"), PortalConfig(name="gated", start_urls=(gated.url("/"),))],
        tmp_path,
        stage=Staged().stage,
        politeness_override=fast(),
    )
    ok, blocked = summary.portals
    assert ok.reports_new == 1 and ok.blocked == 0
    assert blocked.blocked == 1
    assert blocked.reasons == {"blocked: js-gate (no browser tier: set browser = true)": 1}


def test_year_subcolumns_of_a_start_column_are_followed(serve, tmp_path) -> None:
    site = serve(Site())
    years = "".join(f'<li><a href="/nb/{y}/">{y}年</a></li>' for y in (2023, 2022))
    site.add("/nb/", f"<html><body><ul>{years}</ul><a href='/'>首页</a></body></html>")
    for y in (2023, 2022):
        title = f"丙县{y - 1}年政府信息公开工作年度报告"
        site.add(f"/nb/{y}/", f'<html><body><a href="/nb/{y}/r.html">{title}</a></body></html>')
        site.add(f"/nb/{y}/r.html", other_page(title))
    (result,) = crawl(
        [replica_portal(site, "/nb/")], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert result.reports_new == 2 and result.failed == 0


def test_time_budget_stops_a_portal_and_the_next_run_resumes(serve, tmp_path) -> None:
    site = serve(Site())
    replica = BUILDERS["ucap"](site)
    slow = fast(delay=0.3, per_host=1)
    (first,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=slow, max_seconds=1
    ).portals
    assert not first.completed
    assert first.reasons == {"time budget hit (1 s): the rest is left for the next run": 1}
    assert first.requests <= 6
    (second,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert second.resumed and second.completed
    assert second.reports_new + second.reports_resumed == len(replica.reports)


def test_a_sibling_portal_of_the_prefecture_lends_its_folder(serve, tmp_path) -> None:
    first = serve(Site())
    first.add("/", "<html><body><a href='/gk/'>政务公开</a></body></html>")
    first.add("/gk/", "<html><body><a href='/gk/nb2/'>信息公开年报</a></body></html>")
    second = serve(Site())
    second.add("/", "<html><body><a href='/about.html'>概况</a></body></html>")
    for site, county in ((first, "丁县"), (second, "戊县")):
        title = f"{county}2023年政府信息公开工作年度报告"
        site.add("/gk/nb2/", f"<html><body><a href='/gk/nb2/r.html'>{title}</a></body></html>")
        site.add("/gk/nb2/r.html", other_page(title))
    a = PortalConfig(name="丁县", start_urls=(first.url("/"),), region_code="130102")
    b = PortalConfig(name="戊县", start_urls=(second.url("/"),), region_code="130104")
    crawl([a], tmp_path, stage=Staged().stage, politeness_override=fast())
    (result,) = crawl([b], tmp_path, stage=Staged().stage, politeness_override=fast()).portals
    # 戊县 names no 年报 column anywhere: 丁县's folder (same prefecture 1301) is tried first
    assert result.reports_new == 1 and result.how == "sibling-recipe" and result.failed == 0
    assert [h.path for h in second.log if h.path != "/robots.txt"][:2] == ["/", "/gk/nb2/"]


def test_remembered_portals_are_searched_again_after_a_while(serve, tmp_path) -> None:
    site = serve(Site())
    replica = BUILDERS["lonsun"](site)
    crawl([replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast())
    # the 民政局 opens its 年报 list: the remembered entries (two other organs) miss it ...
    title = "来安县民政局2023年政府信息公开工作年度报告"
    site.add(
        "/public/column/6596081?type=3&action=list",
        f'<html><body><div class="xxgk_navli"><a href="/public/6596081/1.html" title="{title}">'
        f"{title}</a></div></body></html>",
    )
    site.add("/public/6596081/1.html", other_page(title))
    (second,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert second.reports_new == 0 and second.how == "remembered"
    # ... until the recipes are a month old: then the portal is searched again
    con = sqlite3.connect(tmp_path / "state" / "crawl.sqlite")
    con.execute("UPDATE recipes SET found_at = '2020-01-01T00:00:00+00:00'")
    con.commit()
    con.close()
    (third,) = crawl(
        [replica.portal()], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert third.reports_new == 1 and third.failed == 0 and not third.reasons
    state = State(tmp_path)
    try:
        recipes = state.recipes(replica.portal().name)
    finally:
        state.close()
    assert len(recipes) == 3 and all(r.found_at > "2020-01-02" for r in recipes)
