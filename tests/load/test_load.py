"""pipeline.load on staged gold reports: real figures, wide tables, filters, rates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline import canonical, load
from pipeline.load import data_dictionary
from pipeline.stage import report_id_for
from tests.corpus import CORPUS
from tests.gold_items import FETCHED, gold_item, url_of

ROOT = Path(__file__).resolve().parents[2]


def test_facts_carry_report_context(staged: Path) -> None:
    facts = load.facts(data_dir=staged)
    assert len(facts) == len(pd.read_parquet(staged / "parquet" / "facts"))
    kecheng = facts[facts["agency"] == "衢州市柯城区人民政府办公室"]
    assert set(kecheng["report_year"]) == {2023}
    assert set(kecheng["region"]) == {"浙江省衢州市柯城区"}
    fee = facts[
        (facts["row"] == "fees")
        & (facts["column"] == "amount_10k_yuan")
        & (facts["report_year"] == 2022)
    ]
    assert fee["number"].iloc[0] == pytest.approx(9116.36)


def test_applications_wide_with_labels(staged: Path) -> None:
    apps = load.applications(data_dir=staged, year=2022)
    assert list(apps["applicant"]) == list(canonical.APPLICANT_COLUMNS)
    total = apps.set_index("applicant").loc["total"]
    # 平潭 2022: 新收 74 + 结转 1 = 办结 75; 予以公开 21, 部分公开 9, 不掌握 37.
    assert (total["new_received"], total["carried_over"], total["total_handled"]) == (74, 1, 75)
    assert (total["granted"], total["partially_granted"]) == (21, 9)
    assert total["unavailable_not_held"] == 37
    commercial = apps.set_index("applicant").loc["commercial"]
    assert commercial["new_received"] == 3
    zh = load.applications(data_dir=staged, year=2022, labels="zh")
    assert "一、本年新收政府信息公开申请数量" in zh.columns
    assert list(zh["applicant"])[:2] == ["自然人", "商业企业"]
    en = load.applications(data_dir=staged, year=2022, labels="en")
    assert "Disclosed in full" in en.columns and "Natural persons" in set(en["applicant"])


def test_reviews_lawsuits_wide(staged: Path) -> None:
    cases = load.reviews_lawsuits(data_dir=staged, year=2022).set_index("case_type")
    # 平潭 2022: 行政复议 2 (纠正 1, 其他 1); 直接起诉 1 (维持).
    assert cases.loc["review", ["corrected", "other", "total"]].tolist() == [1, 1, 2]
    assert cases.loc["lawsuit_direct", "upheld"] == 1


def test_filters(staged: Path) -> None:
    assert set(load.reports(data_dir=staged, region="平潭")["report_year"]) == {2020, 2021, 2022}
    assert len(load.reports(data_dir=staged, agency="柯城区")) == 1
    assert set(load.reports(data_dir=staged, year=[2019, 2023])["report_year"]) == {2019, 2023}
    only = load.facts(data_dir=staged, agency="上海", table="applications")
    assert set(only["table"]) == {"applications"} and set(only["report_year"]) == {2019}
    unknown = load.reports(data_dir=staged, year=[None])  # year not stated: partition 0
    assert list(unknown["report_id"]) == [report_id_for(url_of("016"))]


def test_rates(staged: Path) -> None:
    rates = load.rates(data_dir=staged).set_index("report_year")
    pingtan = rates.loc[2022]
    assert pingtan["grant_rate"] == pytest.approx(30 / 75)
    assert pingtan["not_held_rate"] == pytest.approx(37 / 75)
    assert pingtan["review_correction_rate"] == pytest.approx(1 / 2)
    assert pingtan["lawsuit_correction_rate"] == 0
    # 上海 2019 leaves 总计 blank in the outcome rows: the applicant columns are summed.
    shanghai = rates.loc[2019]
    assert shanghai["granted_or_partly"] == 258 + 12 + 1 + 1 + 3
    assert shanghai["handled"] == 805
    yearly = load.rates(data_dir=staged, by="report_year").set_index("report_year")
    assert yearly.loc[2022, "n_reports"] == 1
    assert yearly.loc[2022, "grant_rate"] == pytest.approx(30 / 75)


def test_a_rate_with_a_missing_part_is_na_and_pools_leave_the_report_out(tmp_path: Path) -> None:
    # 平潭 2021 (001) as the extractor read it before its glued rows were split: the
    # 予以公开 and 不掌握 rows not found, so the report is partial; 2020 and 2022 complete
    from dataclasses import replace

    from pipeline.stage import stage_report, stage_reports

    stage_reports(tmp_path, [gold_item("044"), gold_item("043")])
    report = pipeline.extract(CORPUS / "raw" / "001.txt")
    lost = ("granted", "unavailable_not_held")
    report = replace(report, fact_list=[f for f in report.fact_list if f.row not in lost])
    report.meta.status = "partial"
    stage_report(
        tmp_path,
        report,
        url=url_of("001"),
        region="福建省平潭综合实验区",
        region_code="350128",
        fetched_at=FETCHED,
    )
    staged = tmp_path
    rates = load.rates(data_dir=staged).set_index("report_year")
    partial = rates.loc[2021]
    assert pd.isna(partial["granted_or_partly"]) and pd.isna(partial["grant_rate"])
    assert pd.isna(partial["not_held_rate"])
    assert partial["handled"] == 69 and partial["review_correction_rate"] == 0
    pooled = load.rates(data_dir=staged, by="region", region="平潭").set_index("region").iloc[0]
    assert pooled["n_reports"] == 3 and pooled["grant_rate_reports"] == 2
    assert pooled["grant_rate"] == pytest.approx((13 + 30) / (21 + 75))  # 2020 and 2022 only
    assert pooled["review_correction_rate_reports"] == 3


def test_rates_by_any_report_column_else_a_clear_error(staged: Path) -> None:
    by_format = load.rates(data_dir=staged, by="national_format").set_index("national_format")
    assert (by_format.loc["2021", "n_reports"], by_format.loc["2019", "n_reports"]) == (4, 2)
    with pytest.raises(ValueError, match="'nope' is not a column of the reports; use any of"):
        load.rates(data_dir=staged, by="nope")


def test_empty_data_dir_gives_empty_frames_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(load.EmptyDataWarning) as caught:
        assert load.facts(data_dir=tmp_path).empty
    assert any("no staged facts yet" in str(w.message) for w in caught)
    with pytest.warns(load.EmptyDataWarning):
        assert load.applications(data_dir=tmp_path).empty
        assert load.rates(data_dir=tmp_path).empty


def test_a_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(pipeline.DataDirError, match="no such data directory"):
        load.facts(data_dir=tmp_path / "nope")
    with pytest.raises(pipeline.DataDirError, match="OGI_DATA_DIR"):
        load.rates(data_dir=tmp_path / "nope")


def test_bad_table_name_is_a_clear_error(staged: Path) -> None:
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        load.table("nope", data_dir=staged)


def test_data_dictionary_doc_is_generated() -> None:
    doc = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert doc == data_dictionary.render_markdown(), (
        "run: python -m pipeline.load.data_dictionary > docs/data-dictionary.md"
    )
    frame = load.dictionary()
    row = frame.set_index("key").loc["applications/unavailable_not_held/total"]
    assert "不掌握" in row["label_zh"] and row["format_2019"] and row["format_2021"]
    assert not frame.set_index("key").loc["active_disclosure/regulations/issued", "format_2019"]
    assert len(frame) == 29 + 26 * 7 + 15  # active_disclosure + applications + reviews
    keys = load.pre2019_dictionary()
    assert len(keys) == 25 and keys["label_en"].str.len().min() > 10
    for key, zh in zip(keys["key"], keys["label_zh"], strict=True):
        assert f"| `{key}` | {zh} |" in doc
    assert "### `pre2019`" in doc and "| `period_kind` |" in doc


def test_amounts_display_as_printed(tmp_path: Path) -> None:
    from dataclasses import replace
    from decimal import Decimal

    from pipeline.stage import stage_report
    from tests.gold_items import FETCHED, gold_report

    report = gold_report("043")
    report.fact_list = [
        replace(f, amount=Decimal("0"), raw="0") if f.row == "fees" else f for f in report.fact_list
    ]
    stage_report(
        tmp_path, report, url=url_of("043"), region=None, region_code=None, fetched_at=FETCHED
    )
    stage_report(
        tmp_path,
        gold_report("021"),
        url=url_of("021"),
        region=None,
        region_code=None,
        fetched_at=FETCHED,
    )
    facts = load.facts(data_dir=tmp_path)
    amounts = facts.set_index(["row", "column"])["amount"].dropna()
    shown = sorted(str(a) for a in amounts)
    assert shown == ["0", "251000"]  # not 0E-8, not 251000.00000000
    assert all(isinstance(a, Decimal) for a in amounts)
    assert facts.loc[facts["row"] == "fees", "number"].iloc[0] == 0


def test_loads_see_a_pending_write_over_the_published_data_once(staged: Path) -> None:
    """A report re-staged (pending, not yet compacted) replaces its published version in
    every loader: no double counting, the new figures."""
    from dataclasses import replace

    from pipeline.stage import stage_report
    from tests.gold_items import gold_report

    report = gold_report("043")  # 平潭 2022: 予以公开 21 of 75 handled
    report.fact_list = [
        replace(f, value=51, raw="51") if f.key == "applications/granted/total" else f
        for f in report.fact_list
    ]
    before = len(load.facts(data_dir=staged))
    stage_report(
        staged, report, url=url_of("043"), region=None, region_code=None, fetched_at=FETCHED
    )
    assert (staged / "parquet" / "_pending").is_dir()
    assert len(load.facts(data_dir=staged)) == before
    assert load.reports(data_dir=staged)["report_id"].is_unique
    yearly = load.rates(data_dir=staged, by="report_year").set_index("report_year")
    assert yearly.loc[2022, "n_reports"] == 1
    assert yearly.loc[2022, "grant_rate"] == pytest.approx((51 + 9) / 75)
    apps = load.applications(data_dir=staged, year=2022).set_index("applicant")
    assert apps.loc["total", "granted"] == 51 and len(apps) == len(canonical.APPLICANT_COLUMNS)
    pingtan = load.rates(data_dir=staged, region="平潭").set_index("report_year")
    assert pingtan.loc[2022, "region"] == "福建省平潭综合实验区"  # kept from the crawl
