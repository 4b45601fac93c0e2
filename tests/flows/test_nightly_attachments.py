"""Reports published as attached files: the nightly flow ties each file to its report page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import archive
from pipeline.flows.nightly import nightly
from tests.corpus import CORPUS, FIXTURES
from tests.flows.crawled import rows_by_name
from tests.portals import Site, article_page, fast, one_report_listing, portal

FORMATS = FIXTURES / "formats"
TITLE = "平潭综合实验区2022年政府信息公开工作年度报告"


class Staged(list[Any]):
    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend(items)


def _site(page_body: str, attachment: bytes, name: str, content_type: str) -> Site:
    """A 年报 column listing one report page, which links one attached file."""
    site = one_report_listing(Site(), TITLE, "2023-02-20")
    site.add("/r/1.html", article_page(TITLE, page_body))
    site.add(f"/files/{name}", attachment, content_type=content_type)
    return site


def test_a_page_that_only_links_its_pdf_becomes_the_pdfs_report(serve, tmp_path) -> None:
    link = '<p>附件：<a href="/files/report2023.pdf">平潭综合实验区2022年年报.pdf</a></p>'
    pdf = (FORMATS / "043.lo.pdf").read_bytes()
    site = serve(_site(link, pdf, "report2023.pdf", "application/octet-stream"))
    staged = Staged()
    (result,) = nightly(
        [portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert result.reports_new == 1 and result.attachments == 1
    (item,) = staged  # one report: the file's figures, tied to its page
    assert item.url == site.url("/files/report2023.pdf")
    assert item.page_url == site.url("/r/1.html")
    assert item.report.meta.document_format == "pdf" and item.report.meta.status == "ok"
    assert item.report.fact("applications/new_received/total").value == 74
    assert item.report.meta.title and item.report.meta.report_year == 2022
    rows = rows_by_name(tmp_path)
    assert rows["1.html"].tables_in_attachment == 1 and rows["1.html"].stage_status is None


def test_a_page_and_its_official_pdf_are_compared_figure_by_figure(serve, tmp_path) -> None:
    page = (CORPUS / "raw" / "043.html").read_text(encoding="utf-8")
    assert page.count(">10690<") == 1
    page = page.replace(">10690<", ">10609<")  # the page mistypes one figure
    link = '<p>全真版：<a href="/files/official.pdf">下载</a></p>'
    pdf = (FORMATS / "043.lo.pdf").read_bytes()
    site = serve(_site(page + link, pdf, "official.pdf", "application/pdf"))
    staged = Staged()
    nightly([portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast())
    urls = {item.url for item in staged}
    assert urls == {site.url("/r/1.html")}  # the page's figures; the file is not a 2nd report
    report = staged[-1].report
    assert report.fact("active_disclosure/licensing/decisions").value == 10609  # as printed
    checks = [f for f in report.finding_list if f.check.startswith("attachment_")]
    summary = next(f for f in checks if f.check == "attachment_compared")
    assert summary.status == "fail" and "200 figures compared" in summary.message
    (differs,) = [f for f in checks if f.check == "attachment_disagrees"]
    assert (differs.row, differs.column, differs.printed, differs.expected) == (
        "licensing",
        "decisions",
        10609,
        10690,
    )
    assert rows_by_name(tmp_path)["official.pdf"].stage_status == "compared"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("image-only.pdf", "image_only"), ("encrypted.pdf", "unreadable")],
)
def test_an_unreadable_only_document_is_staged_and_counted(serve, tmp_path, name, reason) -> None:
    link = f'<p>附件：<a href="/files/{name}">年报</a></p>'
    site = serve(_site(link, (FORMATS / name).read_bytes(), name, "application/pdf"))
    staged = Staged()
    (result,) = nightly(
        [portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    (item,) = staged
    assert item.report.meta.status == reason and item.report.fact_list == []
    assert sum(result.unreadable.values()) == 1
    assert next(iter(result.unreadable)).startswith(reason)
    assert "unreadable documents " + reason in result.line()


def test_a_pre2019_page_with_an_attachment_stages_its_own_table(serve, tmp_path) -> None:
    """051 (平潭县 2012) prints its 统计表 and links a file: the page's figures are staged
    (the file, which holds no table, is not taken for the report)."""
    page = (CORPUS / "raw" / "051.html").read_text(encoding="utf-8")
    link = '<p>附件：<a href="/files/notice.pdf">说明.pdf</a></p>'
    pdf = (FORMATS / "043.lo.pdf").read_bytes()[:2000]  # a cut file: nothing readable
    site = serve(_site(page + link, pdf, "notice.pdf", "application/pdf"))
    staged = Staged()
    nightly([portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast())
    (item,) = [i for i in staged if i.url == site.url("/r/1.html")]
    assert item.report.fact_list == [] and len(item.report.pre2019_list) == 34
    rows = rows_by_name(tmp_path)
    assert rows["1.html"].extract_status == "pre2019" and rows["1.html"].tables_in_attachment == 0


def test_an_unchanged_page_is_not_parsed_again_for_its_attachments(serve, tmp_path) -> None:
    """The attachment URLs found when the page was fetched are kept in the state: an
    unchanged page (304) leads to its file without its archived body being read."""
    link = '<p>附件：<a href="/files/report2023.pdf">平潭综合实验区2022年年报.pdf</a></p>'
    pdf = (FORMATS / "043.lo.pdf").read_bytes()
    site = serve(_site(link, pdf, "report2023.pdf", "application/pdf"))
    nightly([portal(site, "/nb/")], tmp_path, stage=Staged().stage, politeness_override=fast())
    page = rows_by_name(tmp_path)["1.html"]
    assert json.loads(page.attachments or "") == [site.url("/files/report2023.pdf")]
    archive.body_path(tmp_path, page.sha256 or "").unlink()  # the page is read from the state
    (again,) = nightly(
        [portal(site, "/nb/")], tmp_path, stage=Staged().stage, politeness_override=fast()
    ).portals
    assert again.reports_unchanged == 1
    assert [h.status for h in site.hits("/r/1.html")] == [200, 304]
    assert [h.status for h in site.hits("/files/report2023.pdf")] == [200, 304]
