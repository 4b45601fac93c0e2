"""A bad night never replaces good staged figures: error pages, challenges, cut bodies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.archive import list_bodies
from pipeline.crawl import State
from pipeline.flows.nightly import nightly
from pipeline.load import facts, pre2019, reports
from tests.corpus import CORPUS
from tests.portals import Reply, Site, fast, one_report_listing, portal

TITLE = "平潭综合实验区2022年政府信息公开工作年度报告"
PAGE = (CORPUS / "raw" / "043.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _bad_night(kind: str) -> Reply:
    if kind == "soft_404":
        return Reply(200, "<html><body>您访问的页面不存在或已被删除</body></html>".encode(), HTML)
    if kind == "challenge":
        body = b"<html><script>var acw_sc__v2='3f2a';document.cookie='acw_sc__v2='+x;</script>"
        return Reply(200, body + b" " * 9000 + b"</html>", HTML)
    if kind == "maintenance":
        return Reply(200, "<html><body><h1>系统维护中</h1>请稍后再试</body></html>".encode(), HTML)
    if kind == "empty":
        return Reply(200, b"", HTML)
    if kind == "cut":  # the first third of the page, as a short Content-Length leaves it
        return Reply(200, PAGE[: len(PAGE) // 3], HTML)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["soft_404", "challenge", "maintenance", "empty", "cut"])
def test_good_figures_stay_staged_when_the_page_goes_bad(serve, tmp_path: Path, kind) -> None:
    nights = iter(["good", kind, "good"])
    current = {"night": "good"}

    def report_page(_hit: object) -> Reply:
        if current["night"] == "good":
            return Reply(200, PAGE, HTML, etag=False)
        return _bad_night(current["night"])

    site = one_report_listing(Site(), TITLE, "2023-02-20")
    site.handle("/r/1.html", report_page)
    site = serve(site)
    summaries = []
    for night in nights:
        current["night"] = night
        summaries.append(nightly([portal(site, "/nb/")], tmp_path, politeness_override=fast()))
        staged = reports(data_dir=tmp_path)
        assert list(staged["status"]) == ["ok"]  # every night: the good version staged
        assert len(facts(data_dir=tmp_path)) == 200
    bad = summaries[1].portals[0]
    assert bad.reports_changed == 1 and bad.suspicious == 1
    assert "suspicious changes 1 (staged versions kept)" in bad.line()
    assert summaries[2].portals[0].suspicious == 0
    # the bad body is archived beside the good one, each with its fetch time
    versions = [b for b in list_bodies(tmp_path) if b.url.endswith("/r/1.html")]
    assert len({b.sha256 for b in versions}) == 2
    state = State(tmp_path)
    try:
        (row,) = [r for r in state.rows(kind="report")]
    finally:
        state.close()
    assert row.stage_status == "staged" and row.staged_status == "ok"


def test_a_single_invalid_byte_keeps_the_page_utf8(serve, tmp_path: Path) -> None:
    at = PAGE.index(b"<body")  # a stray byte in the page, outside the tables
    damaged = PAGE[:at] + b"\xff" + PAGE[at:]
    site = Site()
    site.add(
        "/nb/",
        f'<html><meta charset="utf-8"><body><a href="/r/1.html" title="{TITLE}">{TITLE}</a>'
        "</body></html>",
    )
    site.add("/r/1.html", damaged, content_type="text/html")  # no charset declared
    site = serve(site)
    nightly([portal(site, "/nb/")], tmp_path, politeness_override=fast())
    assert list(reports(data_dir=tmp_path)["status"]) == ["ok"]
    figures = facts(data_dir=tmp_path)
    assert len(figures) == 200
    from pipeline.load import findings

    found = findings(data_dir=tmp_path, check="invalid_bytes")
    assert len(found) == 1 and "not valid utf-8" in found["message"].iloc[0]


OLD_TITLE = "平潭县人民政府2012年政府信息公开工作年度报告"
OLD_PAGE = (CORPUS / "raw" / "051.html").read_bytes()


@pytest.mark.parametrize("kind", ["without_table", "maintenance"])
def test_a_pre2019_report_keeps_its_staged_table_when_a_new_version_lost_it(
    serve, tmp_path: Path, kind: str
) -> None:
    """051 (平潭县 2012) stages its 34 统计表 figures; a night whose page has lost the
    table (cut before it, or a maintenance page) reads worse: the figures stay staged."""
    cut = OLD_PAGE[: OLD_PAGE.index("政府信息公开情况统计表".encode())] + b"</body></html>"
    current = {"night": "good"}

    def report_page(_hit: object) -> Reply:
        if current["night"] == "good":
            return Reply(200, OLD_PAGE, HTML, etag=False)
        if current["night"] == "without_table":
            return Reply(200, cut, HTML, etag=False)
        return _bad_night(current["night"])

    site = one_report_listing(Site(), OLD_TITLE, "2013-01-17")
    site.handle("/r/1.html", report_page)
    site = serve(site)
    summaries = []
    for night in ["good", kind, "good"]:
        current["night"] = night
        summaries.append(nightly([portal(site, "/nb/")], tmp_path, politeness_override=fast()))
        staged = reports(data_dir=tmp_path)
        assert list(staged["national_format"]) == ["pre2019"]
        figures = pre2019(data_dir=tmp_path)
        assert len(figures) == 34 and len(pd.read_parquet(tmp_path / "parquet" / "pre2019")) == 34
        assert figures.loc[figures["key"] == "applications_received", "value"].tolist() == [21, 21]
    assert [s.portals[0].suspicious for s in summaries] == [0, 1, 0]
    assert not summaries[0].portals[0].unreadable  # read and staged: not a no_tables document
    state = State(tmp_path)
    try:
        (row,) = state.rows(kind="report")
        assert row.stage_status == "staged" and row.staged_status == "pre2019"
        assert state.attention() == []  # its figures are staged: nothing needs a look
    finally:
        state.close()
