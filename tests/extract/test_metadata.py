"""Report metadata printed on the page: the platforms' 索引号 / 发布机构 / dates block."""

from __future__ import annotations

from pipeline.extract.metadata import read_metadata

BLOCK = """索引号：11330802MB1234567X/2024-00012
发布机构：衢州市柯城区人民政府办公室
成文日期：2024-01-20
发布日期：2024-01-22
衢州市柯城区人民政府办公室2023年政府信息公开工作年度报告"""


def test_the_publication_date_is_the_published_one_not_the_written_one() -> None:
    page = read_metadata(BLOCK)
    assert page.published == "2024-01-22"  # 发布日期, though 成文日期 comes first
    assert page.index_no == "11330802MB1234567X/2024-00012"
    assert page.agency == "衢州市柯城区人民政府办公室" and page.report_year == 2023


def test_a_written_date_alone_still_dates_the_page() -> None:
    assert read_metadata("成文日期：2024年1月20日\n某县2023年政府信息公开年报").published == (
        "2024-01-20"
    )
