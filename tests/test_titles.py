"""Report titles: one parser for the crawler's link titles and the extractor's page titles."""

from __future__ import annotations

import pytest

from pipeline.titles import is_report_title, title_agency, title_year

#: Real titles, from the corpus pages and the crawler's portal samples: (title, year, agency).
TITLES = [
    # corpus pages (the title the page prints)
    (
        "衢州市柯城区人民政府办公室2023年政府信息公开工作年度报告",
        2023,
        "衢州市柯城区人民政府办公室",
    ),
    ("平潭综合实验区2022年政府信息公开工作年度报告", 2022, "平潭综合实验区"),
    ("沭阳县发展和改革局2023年政府信息公开工作年度报告", 2023, "沭阳县发展和改革局"),
    ("上海市人民政府办公厅2019年政府信息公开工作年度报告", 2019, "上海市人民政府办公厅"),
    (
        "湛江市人民政府地方志办公室2023年政府信息公开工作年度报告",
        2023,
        "湛江市人民政府地方志办公室",
    ),
    (
        "石家庄市桥西区中山街道办事处2021年政府信息公开工作年度报告",
        2021,
        "石家庄市桥西区中山街道办事处",
    ),
    ("乌海市工业和信息化局2020年政府信息公开工作年度报告", 2020, "乌海市工业和信息化局"),
    ("2022年政府信息公开工作年度报告", 2022, None),  # 005: the agency is printed elsewhere
    # the crawler's portal samples (listing link titles)
    ("鄂尔多斯市2018年政府信息公开年度报告", 2018, "鄂尔多斯市"),
    ("鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告", 2019, "鄂尔多斯市人民政府办公室"),
    ("内蒙古自治区2018年政府信息公开工作年度报告", 2018, "内蒙古自治区"),
    ("2022年度柯城区政府信息公开工作年度报告", 2022, "柯城区"),
    ("区司法局2021年政府信息公开年报", 2021, "区司法局"),
    ("2023年政府信息公开工作年度报告", 2023, None),
    # the two old parsers disagreed here: the crawler's agency was the whole title
    ("XX县2021年度政府信息公开工作年度报告（更正版）", 2021, "XX县"),
    ("【2020年度】沭阳县人民政府政府信息公开工作年度报告", 2020, "沭阳县人民政府"),
    ("关于2021年度政府信息公开工作年度报告", 2021, None),
]


@pytest.mark.parametrize(("title", "year", "agency"), TITLES)
def test_one_answer_per_title(title: str, year: int, agency: str | None) -> None:
    assert (title_year(title), title_agency(title)) == (year, agency)
    assert is_report_title(title)


def test_lookalikes_are_not_reports() -> None:
    assert not is_report_title("2021年度政府网站年度工作报表")
    assert not is_report_title("2022年政务新媒体工作年度报告")
    assert not is_report_title("恩格贝生态示范区召开2020年度工作会暨党风廉政建设会议")
    assert not is_report_title("定西市人民政府办公室关于2021年度履行教育职责自查自评的报告")
