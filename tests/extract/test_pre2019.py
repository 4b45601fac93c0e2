"""Pre-2019 statistics tables (政府信息公开情况统计表): real figures of real pages."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.extract import extract_document
from pipeline.extract.pre2019 import indicator_key, key_specs, period_kind
from pipeline.model import PRE2019_COLUMNS, Pre2019Figure, Report
from tests.corpus import CORPUS


def _report(name: str) -> Report:
    path = CORPUS / "raw" / name
    return extract_document(path.read_bytes(), source=str(path))


def _figure(report: Report, label: str, period: str) -> Pre2019Figure:
    return next(f for f in report.pre2019_list if f.label == label and f.period == period)


def test_a_row_and_its_items_with_numbering_parent_unit_and_key() -> None:
    """055 (平潭 2016, one flattened line): '主动公开文件数条346085376' is 3460 | 85376."""
    report = _report("055.txt")
    total = _figure(report, "主动公开文件数", "2016年度")
    assert (total.value, total.unit, total.key, total.numbering, total.parent) == (
        3460, "条", "proactive_total", None, None,
    )
    assert total.period_kind == "this_year"
    cumulative = _figure(report, "主动公开文件数", "历年累计")
    assert (cumulative.value, cumulative.period_kind) == (85376, "cumulative")
    website = _figure(report, "其中：1、政府网站公开数", "历年累计")
    assert (website.value, website.numbering, website.parent, website.key) == (
        85376, "1、", "主动公开文件数", "proactive_website",
    )
    waived = _figure(report, "政府信息公开收费减免金额", "2016年度")
    assert (waived.value, waived.unit, waived.key) == (0, "元", "fees_waived")
    # Named like a lawsuit row beside its own 行政诉讼数 row: left unmapped, not guessed.
    assert _figure(report, "接受行政诉讼、举报数", "2016年度").key is None
    assert _figure(report, "行政诉讼数", "2016年度").key == "lawsuits"


def test_glued_figures_without_a_stated_figure_are_left_out() -> None:
    """Without its sentence '2016年全区主动公开政府信息3460条', 346085376 could be 3|46085376,
    34|6085376 or 3460|85376: the row and its 网站公开 item are left out, with findings."""
    content = (CORPUS / "raw" / "055.txt").read_text(encoding="utf-8")
    sentence = "2016年全区主动公开政府信息3460条。"
    assert sentence in content
    report = extract_document(content.replace(sentence, "").encode(), source="055-cut")
    labels = {f.label for f in report.pre2019_list}
    assert "主动公开文件数" not in labels and "其中：1、政府网站公开数" not in labels
    assert "2、政府公报公开数" in labels  # "00": one digit per period, no choice
    ambiguous = [f for f in report.finding_list if f.check == "row_ambiguous"]
    assert len(ambiguous) == 2 and "3460|85376" in ambiguous[0].message


def test_blank_cell_stays_blank() -> None:
    """054: '2、政府公报公开' prints 0 this year and nothing (&nbsp;) as 历年累计."""
    report = _report("054.html")
    assert _figure(report, "2、政府公报公开", "2013年度").value == 0
    blank = _figure(report, "2、政府公报公开", "历年累计")
    assert (blank.semantic, blank.value) == ("blank", None)


def test_header_split_over_paragraphs() -> None:
    """050: an old-IE Word paste prints '2011' and '年度' in two <P> of one cell."""
    report = _report("050.html")
    assert [f.period for f in report.pre2019_list[:2]] == ["2011年度", "历年累计"]
    assert _figure(report, "主动公开信息数", "2011年度").value == 425


def test_frame_columns() -> None:
    frame = _report("051.html").pre2019
    assert list(frame.columns) == list(PRE2019_COLUMNS)
    assert len(frame) == 34 and str(frame["value"].dtype) == "Int64"
    assert frame.loc[frame["key"] == "applications_received", "value"].tolist() == [21, 21]


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("主动公开信息数", "proactive_total"),
        ("主动公开政府信息数", "proactive_total"),
        ("其中：主动公开规范性文件数", "proactive_normative"),
        ("收到申请数", "applications_received"),
        ("受理政府信息依申请公开总数", "applications_received"),
        ("1.网络申请数", "applications_online"),
        ("3.否决公开答复数", "replies_denied"),
        ("不同意公开答复数", "replies_denied"),
        ("行政申诉、举报数", "complaints"),
        ("举报投诉数", "complaints"),
        ("收取的费用", "fees_collected"),
        ("专职人员数", "staff_full_time"),
        ("兼职人员数", "staff_part_time"),
        ("政府信息公开专项经费", "dedicated_funds"),
        ("接受行政诉讼、举报数", None),
        ("咨询数", None),
    ],
)
def test_indicator_keys(label: str, key: str | None) -> None:
    assert indicator_key(label) == key


def test_spec_keys_are_unique_and_periods_read() -> None:
    keys = [spec.key for spec in key_specs()]
    assert len(keys) == len(set(keys)) >= 20
    assert [period_kind(p) for p in ("2016年度", "本年度", "历年累计", "2012年")] == [
        "this_year", "this_year", "cumulative", "this_year",
    ]


def test_cli_shows_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(CORPUS / "raw" / "056.txt")
    assert main(["extract", source]) == 0  # no canonical table, but figures: not an error
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("主动公开文件数"))
    assert line.split() == ["主动公开文件数", "条", "2122", "10037", "proactive_total"]
    assert main(["extract", source, "--format", "jsonl"]) == 0
    records = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert len(records) == 30 and {r["table"] for r in records} == {"pre2019"}
    assert records[1] == {
        "table": "pre2019", "key": "proactive_total", "label": "主动公开文件数",
        "numbering": None, "parent": None, "period": "历年累计", "period_kind": "cumulative",
        "unit": "条", "value": 10037, "amount": None, "raw": "10037", "semantic": "number",
        "source": source,
    }
    csv_path, parquet_path = tmp_path / "f.csv", tmp_path / "f.parquet"
    assert main(["extract", source, "--format", "csv", "-o", str(csv_path)]) == 0
    assert main(["extract", source, "--format", "parquet", "-o", str(parquet_path)]) == 0
    for frame in (pd.read_csv(csv_path), pd.read_parquet(parquet_path)):
        assert list(frame.columns) == [*PRE2019_COLUMNS, "source"] and len(frame) == 30
        assert frame.loc[0, "label"] == "主动公开文件数" and frame.loc[0, "value"] == 2122


def test_a_fallback_reading_reads_the_old_table_only_with_national_figures() -> None:
    """``pre2019="with_facts"`` (the HTML text fallback, kept only when it finds national
    figures) skips the pre-2019 reader where no national figure was read (051's 34 figures
    are not read), and reads it where some were."""
    from pipeline.extract.html_cells import html_cells, parse_html
    from pipeline.extract.tables import parse_tables

    cells = html_cells(parse_html((CORPUS / "raw" / "051.html").read_bytes()))
    assert len(parse_tables(cells).pre2019) == 34
    skipped = parse_tables(cells, pre2019="with_facts")
    assert skipped.facts == [] and skipped.pre2019 == []
    # 032's national tables followed by 051's old table: both read
    national = html_cells(parse_html((CORPUS / "raw" / "032.html").read_bytes()))
    both = parse_tables(national + cells, pre2019="with_facts")
    assert len(both.facts) == 200 and len(both.pre2019) == 34
