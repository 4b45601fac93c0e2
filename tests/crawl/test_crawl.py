"""The crawler against real loopback servers serving fixture portals of each CMS family."""

from __future__ import annotations

import itertools
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.archive import list_bodies, read_body
from pipeline.crawl import State
from pipeline.datadir import WriterLock
from pipeline.errors import LockedError
from pipeline.extract import extract_document
from pipeline.flows.nightly import MAX_EXTRACT_ATTEMPTS
from pipeline.flows.nightly import nightly as crawl
from tests.portals import (
    TRS_NON_REPORTS,
    Hit,
    Reply,
    Site,
    article_page,
    build_hanweb_site,
    build_trs_site,
    corpus,
    fast,
    hanweb_report_paths,
    one_report_listing,
    portal,
    trs_report_paths,
)


class Staged(list[dict[str, Any]]):
    """What the nightly flow staged: its ``stage`` records instead of writing tables."""

    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend({"report": i.report, "url": i.url, "region_code": i.region_code} for i in items)


@pytest.fixture
def staged() -> Staged:
    return Staged()


def rows(data_dir: Path, kind: str | None = None) -> dict[str, Any]:
    state = State(data_dir)
    try:
        return {r.url: r for r in state.rows(kind=kind)}
    finally:
        state.close()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_trs_portal_from_hub_with_pagination(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    summary = crawl([portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast())
    (result,) = summary.portals
    assert result.completed and result.reports_new == 6 and result.failed == 0
    assert result.listing_pages == 3  # hub, column, index_1
    for path in trs_report_paths():
        assert len(site.hits(path)) == 1, path
    for path in TRS_NON_REPORTS:
        assert site.hits(path) == []  # 会议 / 通知 rows are not reports
    reports = rows(tmp_path, "report")
    assert len(reports) == 6
    kecheng = next(r for r in reports.values() if r.title.startswith("柯城区"))
    assert (kecheng.report_year, kecheng.agency, kecheng.listed_date) == (
        2023,
        "柯城区",
        "2024-01-29",
    )
    # every report body is in the archive, readable without the network
    archived = {b.url: b for b in list_bodies(tmp_path)}
    assert set(archived) == set(reports)
    body = read_body(tmp_path, archived[site.url(trs_report_paths()[0])].sha256)
    assert body == corpus("043.html")
    # extracted and staged, with the region and the title's year/agency
    assert len(staged) == 6
    assert {c["region_code"] for c in staged} == {"330802"}
    assert all(c["report"].meta.report_year for c in staged)
    con = sqlite3.connect(tmp_path / "state" / "crawl.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    roots = con.execute("SELECT url, how FROM roots").fetchall()
    assert (site.url("/zfxxgknb/"), "link-text") in roots


def test_second_run_gets_304s_and_adds_nothing(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    crawl([portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast())
    files = sorted(p.name for p in (tmp_path / "raw").rglob("*.gz"))
    first_calls = len(staged)
    site.log.clear()
    summary = crawl([portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast())
    (result,) = summary.portals
    assert result.reports_unchanged == 6
    assert result.reports_new == result.reports_changed == 0
    pages = [h for h in site.log if h.path != "/robots.txt"]
    assert pages and all(h.status == 304 for h in pages)
    assert all("if-none-match" in h.headers for h in pages)
    assert sorted(p.name for p in (tmp_path / "raw").rglob("*.gz")) == files
    assert len(staged) == first_calls  # nothing re-extracted or re-staged


def test_changed_report_is_fetched_and_restaged(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    crawl([portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast())
    path = trs_report_paths()[-1]
    site.add(
        path,
        article_page("平潭综合实验区2022年度政府信息公开工作年度报告（更正）", corpus("044.html")),
    )
    before = len(staged)
    (result,) = crawl(
        [portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert result.reports_changed == 1 and result.reports_unchanged == 5
    assert len(staged) == before + 1


def test_hanweb_portal_pages_through_dataproxy(serve, tmp_path, staged) -> None:
    site = Site()
    serve(site)
    build_hanweb_site(site)
    (result,) = crawl(
        [portal(site, "/col/col12377/index.html")],
        tmp_path,
        stage=staged.stage,
        politeness_override=fast(),
    ).portals
    proxy = site.hits("/module/web/jpage/dataproxy.jsp", "POST")
    assert len(proxy) >= 2
    assert all(h.headers.get("x-requested-with") == "XMLHttpRequest" for h in proxy)
    assert b"webname=%25E5%25AE%259A" in proxy[0].body  # double-encoded name passed through
    assert result.reports_new == len(hanweb_report_paths(site)) == 6
    for path in hanweb_report_paths(site):
        assert len(site.hits(path)) == 1
    # the 政府网站年度工作报表 look-alike and other news are not fetched
    assert site.hits("/art/2022/1/14/art_12377_1485549.html") == []
    assert site.hits("/art/2022/1/14/art_12377_1485138.html") == []
    titles = {r.title for r in rows(tmp_path, "report").values()}
    assert "柯城区人民政府办公室2022年政府信息公开工作年度报告" in titles  # title= not "..."
    assert not any("外站" in t for t in titles)  # off-site link never followed


def gbk_listing(items: list[tuple[str, str]], next_href: str | None, declare: bool) -> bytes:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' if declare else ""
    rows = "".join(
        f'<li><a href="{h}">{t}</a><span>2024-01-2{i}</span></li>' for i, (h, t) in enumerate(items)
    )
    pager = f'<a href="{next_href}">下一页</a>' if next_href else ""
    page = (
        f"<html><head>{head}<title>信息公开年报</title></head><body><ul>{rows}</ul>"
        f"<div class='page'>{pager}</div></body></html>"
    )
    return page.encode("gbk")


def test_static_gbk_pages_with_and_without_charset(serve, tmp_path, staged) -> None:
    site = serve(Site())
    site.add(
        "/nb/list.html",
        gbk_listing(
            [("r1.html", "柯城区2023年政府信息公开工作年度报告"), ("x.html", "柯城区召开会议")],
            "list_2.html",
            declare=True,
        ),
        content_type="text/html",
    )
    site.add(
        "/nb/list_2.html",
        gbk_listing(
            [("r2.html", "柯城区2022年政府信息公开工作年度报告")], "list_3.html", declare=False
        ),
        content_type="text/html",
    )
    # list_3 repeats list_2: adds nothing new, so pagination stops there
    site.add(
        "/nb/list_3.html",
        gbk_listing(
            [("r2.html", "柯城区2022年政府信息公开工作年度报告")], "list_4.html", declare=False
        ),
        content_type=None,
    )
    for name, file in (("r1", "000.txt"), ("r2", "004.txt")):
        site.add(
            f"/nb/{name}.html",
            article_page("年报", corpus(file)).encode("gbk"),
            content_type="text/html; charset=GBK",
        )
    (result,) = crawl(
        [portal(site, "/nb/list.html")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert result.reports_new == 2
    assert site.hits("/nb/x.html") == [] and site.hits("/nb/list_4.html") == []
    titles = sorted(r.title for r in rows(tmp_path, "report").values())
    assert titles == [
        "柯城区2022年政府信息公开工作年度报告",
        "柯城区2023年政府信息公开工作年度报告",
    ]


def hostile_site(site: Site) -> Site:
    """A listing whose reports each misbehave in one way."""
    items = {
        "ok": "甲2023年政府信息公开工作年度报告",
        "flaky": "乙2023年政府信息公开工作年度报告",
        "busy": "丙2023年政府信息公开工作年度报告",
        "slow": "丁2023年政府信息公开工作年度报告",
        "moved": "戊2023年政府信息公开工作年度报告",
        "away": "己2023年政府信息公开工作年度报告",
        "private/secret": "庚2023年政府信息公开工作年度报告",
        "challenge": "辛2023年政府信息公开工作年度报告",
        "jsl": "壬2023年政府信息公开工作年度报告",
        "huge": "癸2023年政府信息公开工作年度报告",
        "gone": "子2023年政府信息公开工作年度报告",
        "attach": "丑2023年政府信息公开工作年度报告",
    }
    lis = "".join(
        f'<li><a href="/r/{k}.html" title="{t}">{t}</a><span>2024-01-29</span></li>'
        for k, t in items.items()
    )
    site.add("/nb/", f'<html><meta charset="utf-8"><body><ul>{lis}</ul></body></html>')
    site.add("/robots.txt", "User-agent: *\nDisallow: /r/private/\n", content_type="text/plain")
    page = article_page("年报", corpus("000.txt"))
    site.add("/r/ok.html", page)
    state = {"flaky": 0, "busy": 0}

    def flaky(hit: Hit) -> Reply:
        state["flaky"] += 1
        if state["flaky"] == 1:
            return Reply(503, b"busy", {"Content-Type": "text/plain"})
        return Reply(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def busy(hit: Hit) -> Reply:
        state["busy"] += 1
        if state["busy"] == 1:
            return Reply(429, b"slow down", {"Retry-After": "1"})
        return Reply(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    site.handle("/r/flaky.html", flaky)
    site.handle("/r/busy.html", busy)
    site.routes["/r/slow.html"] = Reply(
        200, page.encode(), {"Content-Type": "text/html"}, delay=1.5
    )
    site.add("/r/moved.html", "", status=301, headers={"Location": "/r/ok-moved.html"}, etag=False)
    site.add("/r/ok-moved.html", article_page("年报", corpus("001.txt")))
    port = site.base.rsplit(":", 1)[1]
    site.add(
        "/r/away.html",
        "",
        status=302,
        headers={"Location": f"http://localhost:{port}/r/ok.html"},
        etag=False,
    )
    site.add("/r/private/secret.html", page)
    site.add(
        "/r/challenge.html",
        "<html><head><meta id='FSSBB' content='x' r='m'><script>var $_ts=window['$_ts'];"
        "if(!$_ts)$_ts={};$_ts.cd='qqq';</script></head><body></body></html>",
        status=412,
        etag=False,
    )
    site.add(
        "/r/jsl.html",
        "<script>document.cookie=('__jsl_clearance_s=1')</script>",
        status=521,
        headers={"Set-Cookie": "__jsluid_s=abc; path=/"},
        etag=False,
    )
    site.add("/r/huge.html", b"<html>" + b"x" * 300_000 + b"</html>")
    site.add(
        "/r/attach.html",
        article_page(
            "年报",
            '<p>详见附件：<a href="/files/P020240129.pdf">年报.pdf</a></p>'
            "<script>var file_appendix='<a href=\"/files/P020240129.xls\">统计表</a>';</script>",
        ),
    )
    site.add("/files/P020240129.pdf", b"%PDF-1.4\n% fixture\n", content_type="application/pdf")
    site.add(
        "/files/P020240129.xls", b"\xd0\xcf\x11\xe0fixture", content_type="application/vnd.ms-excel"
    )
    return site


def test_hostile_portal_retries_blocks_and_failures(serve, tmp_path, staged) -> None:
    site = serve(Site())
    hostile_site(site)
    started = time.monotonic()
    (result,) = crawl(
        [portal(site, "/nb/")],
        tmp_path,
        stage=staged.stage,
        politeness_override=fast(timeout=0.5, retries=3, max_bytes=200_000),
    ).portals
    elapsed = time.monotonic() - started
    state = {path_of(url): row for url, row in rows(tmp_path).items()}

    def status(name: str) -> tuple[str, str | None]:
        row = state[f"/r/{name}.html"]
        return row.status, row.last_error

    assert status("ok")[0] == "ok"
    # 503 then 200: retried
    assert status("flaky")[0] == "ok" and len(site.hits("/r/flaky.html")) == 2
    # 429 with Retry-After: 1 is honoured before the retry
    busy = site.hits("/r/busy.html")
    assert status("busy")[0] == "ok" and len(busy) == 2
    assert busy[1].at - busy[0].at >= 0.9
    # slower than the timeout: every attempt times out, recorded as failed
    assert status("slow") == ("failed", "timeout")
    assert len(site.hits("/r/slow.html")) == 3
    # same-host redirect followed; off-host redirect not followed
    assert status("moved")[0] == "ok" and state["/r/moved.html"].final_url.endswith("ok-moved.html")
    assert status("away")[0] == "offsite"
    # robots.txt Disallow: recorded, never requested
    assert status("private/secret") == ("disallowed", "robots.txt")
    assert site.hits("/r/private/secret.html") == []
    # anti-bot challenges: blocked with the reason, not retried, not extracted
    assert status("challenge") == ("blocked", "rs-challenge")
    assert len(site.hits("/r/challenge.html")) == 1
    assert status("jsl") == ("blocked", "jsl-challenge")
    assert len(site.hits("/r/jsl.html")) == 1
    # oversized body refused; a 404 is not retried
    assert status("huge")[0] == "failed" and "too-large" in status("huge")[1]
    assert status("gone")[0] == "not_found" and len(site.hits("/r/gone.html")) == 1
    # attachments (link and script-only) fetched into the archive; report marked
    assert state["/r/attach.html"].tables_in_attachment == 1
    assert state["/files/P020240129.pdf"].status == "ok"
    assert state["/files/P020240129.xls"].kind == "attachment"
    kinds = {b.url.rsplit("/", 1)[1]: b.kind for b in list_bodies(tmp_path)}
    assert kinds["P020240129.pdf"] == "attachment"
    assert result.blocked == 2 and result.disallowed == 1
    assert result.attachments == 2
    assert elapsed < 10
    staged_urls = {path_of(c["url"]) for c in staged}
    assert "/r/challenge.html" not in staged_urls and "/r/ok.html" in staged_urls


def test_extraction_errors_are_recorded_not_raised(serve, tmp_path, staged) -> None:
    def broken(content: bytes, *, source: str, content_type: str | None = None) -> Any:
        raise ValueError("table 3 has no header row")

    site = serve(build_trs_site(Site()))
    (result,) = crawl(
        [portal(site, "/")],
        tmp_path,
        extract=broken,
        stage=staged.stage,
        politeness_override=fast(),
    ).portals
    assert result.reports_new == 6 and result.extract_errors == 6 and result.completed
    errors = {r.extract_error for r in rows(tmp_path, "report").values()}
    assert errors == {"ValueError: table 3 has no header row"}
    assert staged == []


def test_max_pages_stops_and_next_run_resumes(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    first = crawl(
        [portal(site, "/")], tmp_path, max_pages=4, stage=staged.stage, politeness_override=fast()
    )
    assert not first.portals[0].completed
    done = {u for u, r in rows(tmp_path).items() if r.status == "ok"}
    assert len(done) == 4
    site.log.clear()
    (second,) = crawl(
        [portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert second.resumed and second.completed
    assert not any(site.url(h.path) in done for h in site.log)  # finished work not re-fetched
    assert second.reports_new + second.reports_resumed == 6


def test_lock_stops_a_second_crawl(serve, tmp_path) -> None:
    site = serve(build_trs_site(Site()))
    with WriterLock(tmp_path), pytest.raises(LockedError, match="another crawl"):
        crawl([portal(site, "/")], tmp_path, politeness_override=fast())
    assert site.log == []


def test_politeness_spaces_requests_to_one_host(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    crawl(
        [portal(site, "/zfxxgknb/")],
        tmp_path,
        max_pages=4,
        stage=staged.stage,
        politeness_override=fast(delay=0.2, per_host=1),
    )
    times = sorted(h.at for h in site.log)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) >= 4 and min(gaps) >= 0.15  # 0.2 s ± 20 % jitter
    assert all("gov-ogi-pipeline" in h.headers["user-agent"] for h in site.log)


def test_a_report_that_breaks_staging_is_isolated(serve, tmp_path) -> None:
    staged_urls: list[str] = []

    def stage(data_dir: Path, items: list[Any]) -> None:
        if any("t20240129_3001" in i.url for i in items):
            raise RuntimeError("bad report")
        staged_urls.extend(i.url for i in items)

    site = serve(build_trs_site(Site()))
    (result,) = crawl(
        [portal(site, "/")], tmp_path, stage=stage, politeness_override=fast()
    ).portals
    assert result.stage_errors == 1 and result.extract_errors == 0 and len(staged_urls) == 5
    assert "extraction errors 0, staging errors 1," in result.line()
    status = {
        path_of(u): (r.stage_status, r.extract_error) for u, r in rows(tmp_path, "report").items()
    }
    assert status["/zfxxgknb/202401/t20240129_3001.html"] == (
        "error",
        "staging: RuntimeError: bad report",
    )
    assert sum(1 for s, _ in status.values() if s == "staged") == 5


def test_dead_column_redirecting_to_home_is_not_found(serve, tmp_path, staged) -> None:
    site = serve(Site())
    site.add("/", '<html><body><a href="/xxgk/">政府信息公开</a></body></html>')
    site.add("/xxgk/", '<html><body><a href="/xxgk/nb/">政府信息公开年报</a></body></html>')
    site.add("/xxgk/nb/", "", status=301, headers={"Location": "/"}, etag=False)
    (result,) = crawl(
        [portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    state = {path_of(u): r for u, r in rows(tmp_path, "listing").items()}
    assert state["/xxgk/nb/"].status == "not_found"  # 门头沟-style redirect trap
    assert state["/xxgk/"].status == "ok"  # found from the home page by link text
    assert result.reports_new == 0 and len(site.hits("/")) == 2


def test_https_start_url_falls_back_to_http(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(Site()))
    https_url = site.url("/zfxxgknb/").replace("http://", "https://")
    config = portal(site, "/zfxxgknb/")
    config = type(config)(name=config.name, start_urls=(https_url,))
    (result,) = crawl(
        [config], tmp_path, stage=staged.stage, politeness_override=fast(retries=1)
    ).portals
    assert result.reports_new == 6

    # next night: straight to the scheme that worked, with the start page's ETag
    site.log.clear()
    (again,) = crawl(
        [config], tmp_path, stage=staged.stage, politeness_override=fast(retries=1)
    ).portals
    assert again.reports_unchanged == 6 and again.failed == 0
    (start,) = site.hits("/zfxxgknb/")
    assert start.headers.get("if-none-match") and start.status == 304
    assert again.requests == len(site.log)  # no request lost on https
    assert {h.status for h in site.log if h.path != "/robots.txt"} == {304}


def test_failed_staging_is_retried_from_the_archive_next_run(serve, tmp_path) -> None:
    def full_disk(data_dir: Path, items: list[Any]) -> None:
        raise OSError(28, "No space left on device")

    site = serve(build_trs_site(Site()))
    (first,) = crawl(
        [portal(site, "/")], tmp_path, stage=full_disk, politeness_override=fast()
    ).portals
    assert first.reports_new == 6 and first.stage_errors == 6 and first.extract_errors == 0
    assert {r.stage_status for r in rows(tmp_path, "report").values()} == {"error"}

    staged_urls: list[str] = []
    site.log.clear()
    (second,) = crawl(
        [portal(site, "/")],
        tmp_path,
        stage=lambda d, items: staged_urls.extend(i.url for i in items),
        politeness_override=fast(),
    ).portals
    assert second.reports_unchanged == 6 and second.reports_new == second.reports_changed == 0
    for path in trs_report_paths():  # nothing re-downloaded: the archive is enough
        assert [h.status for h in site.hits(path)] == [304], path
    assert second.retried == 6
    assert sorted(path_of(u) for u in staged_urls) == sorted(trs_report_paths())
    reports = rows(tmp_path, "report").values()
    assert {(r.stage_status, r.extract_error) for r in reports} == {("staged", None)}


def test_extraction_errors_are_retried_a_bounded_number_of_times(serve, tmp_path, staged) -> None:
    calls: list[str] = []

    def broken(content: bytes, *, source: str, content_type: str | None = None) -> Any:
        calls.append(source)
        raise ValueError("table 3 has no header row")

    site = serve(build_trs_site(Site()))
    for _ in range(MAX_EXTRACT_ATTEMPTS + 2):
        crawl(
            [portal(site, "/")],
            tmp_path,
            extract=broken,
            stage=staged.stage,
            politeness_override=fast(),
        )
    # each report tried MAX_EXTRACT_ATTEMPTS times in all, then left alone
    assert len(calls) == 6 * MAX_EXTRACT_ATTEMPTS
    assert {r.extract_attempts for r in rows(tmp_path, "report").values()} == {MAX_EXTRACT_ATTEMPTS}
    assert staged == []

    # a fixed extractor picks up, next run, a report that failed fewer times
    other = tmp_path / "other"
    crawl(
        [portal(site, "/")], other, extract=broken, stage=staged.stage, politeness_override=fast()
    )
    (result,) = crawl(
        [portal(site, "/")],
        other,
        extract=extract_document,
        stage=staged.stage,
        politeness_override=fast(),
    ).portals
    assert result.retried == 6 and result.reports_unchanged == 6
    assert len(staged) == 6
    assert {r.extract_status for r in rows(other, "report").values()} <= {"ok", "partial"}


class BehindJsl(Site):
    """A site fronted by 加速乐: every answer (200, 304, 404) carries its header and cookie."""

    def respond(self, hit: Hit) -> Reply:
        reply = super().respond(hit)
        headers = {
            **reply.headers,
            "X-Via-JSL": "1d9e5f0,-",
            "Set-Cookie": "__jsluid_h=0123456789abcdef; max-age=31536000; path=/; HttpOnly",
        }
        return Reply(reply.status, reply.body, headers, reply.delay, etag=False)


def test_site_behind_jsl_serving_normal_pages_is_not_blocked(serve, tmp_path, staged) -> None:
    site = serve(build_trs_site(BehindJsl()))
    (first,) = crawl(
        [portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert first.blocked == 0 and first.reports_new == 6 and first.listing_pages == 3
    assert len(staged) == 6
    site.log.clear()
    (second,) = crawl(
        [portal(site, "/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert second.blocked == 0 and second.failed == 0
    # the remembered 年报 column is asked directly: the hub is not needed again
    assert second.reports_unchanged == 6 and second.listing_pages == 2
    assert {h.status for h in site.log if h.path != "/robots.txt"} == {304}
    assert {r.status for r in rows(tmp_path).values()} == {"ok"}


def test_attachment_keeps_its_listing_title_when_staged_later(serve, tmp_path) -> None:
    title = "柯城区人民政府办公室2023年政府信息公开工作年度报告"
    site = one_report_listing(serve(Site()), title, "2024-01-29")
    site.add("/r/1.html", article_page(title, '<p>详见附件：<a href="/files/nb.doc">年报</a></p>'))
    site.add("/files/nb.doc", corpus("000.txt"), content_type="application/msword")

    def full_disk(data_dir: Path, items: list[Any]) -> None:
        raise OSError(28, "No space left on device")

    crawl([portal(site, "/nb/")], tmp_path, stage=full_disk, politeness_override=fast())
    attachment = rows(tmp_path, "attachment")[site.url("/files/nb.doc")]
    assert (attachment.title, attachment.report_year, attachment.agency) == (
        title,
        2023,
        "柯城区人民政府办公室",
    )
    assert attachment.listed_date == "2024-01-29" and attachment.stage_status == "error"
    assert rows(tmp_path, "report")[site.url("/r/1.html")].tables_in_attachment == 1

    items: list[Any] = []
    (result,) = crawl(
        [portal(site, "/nb/")],
        tmp_path,
        stage=lambda d, batch: items.extend(batch),
        politeness_override=fast(),
    ).portals
    assert result.retried == 1
    (item,) = items  # staged from the archive with the title the listing gave it
    assert item.url == site.url("/files/nb.doc")
    assert item.report.meta.title == title and item.report.meta.report_year == 2023


def test_a_portal_timeout_longer_than_the_first_portals_applies(serve, tmp_path, staged) -> None:
    quick = serve(Site())
    quick.add("/nb/", '<html><meta charset="utf-8"><body>空</body></html>')
    patient = serve(Site())
    title = "甲2023年政府信息公开工作年度报告"
    patient.add(
        "/nb/", f'<html><body><a href="/r/1.html" title="{title}">{title}</a></body></html>'
    )
    page = article_page(title, corpus("000.txt")).encode()
    patient.routes["/r/1.html"] = Reply(200, page, {"Content-Type": "text/html"}, delay=1.0)
    base = fast(timeout=0.4, retries=1)
    portals = [
        portal(quick, "/nb/", name="快", politeness=base),
        portal(patient, "/nb/", name="慢", politeness=replace(base, timeout=4.0)),
    ]
    summary = crawl(portals, tmp_path)
    slow = summary.portals[1]
    assert slow.reports_new == 1 and slow.failed == 0, slow.reasons
