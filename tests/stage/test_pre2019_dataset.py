"""The fourth dataset, ``pre2019``: real pre-2019 reports staged through ``extract --stage``
load back exactly their gold figures; re-staging replaces them, never duplicates them."""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from pipeline import load
from pipeline.cli import main
from pipeline.extract import extract_document
from pipeline.flows.oneoff_staging import staged_url
from pipeline.model import Report
from pipeline.stage import compact, remove_reports, report_id_for, stage_report, stage_reports
from tests.conftest import DOCS
from tests.corpus import CORPUS, as_decimal, gold_documents
from tests.gold_items import gold_item

PRE2019 = [d for d in gold_documents() if "pre2019_figures" in d.gold]
URL = "http://example.test/pingtan/2016.html"
FETCHED = datetime(2026, 1, 2, tzinfo=UTC)


def _published(data_dir: Path) -> pd.DataFrame:
    """What a plain Parquet reader sees of ``pre2019``."""
    return pd.read_parquet(data_dir / "parquet" / "pre2019")


def _report(name: str) -> Report:
    path = CORPUS / "raw" / name
    return extract_document(path.read_bytes(), source=str(path))


def _stage(data_dir: Path, report: Report) -> None:
    stage_report(data_dir, report, url=URL, region="平潭", region_code=None, fetched_at=FETCHED)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seven pre-2019 gold reports staged by ``extract FILE --stage`` (the real flow:
    archive, stage, compact), and one 2021 report beside them."""
    data_dir = tmp_path_factory.mktemp("pre2019")
    for source in [*(d.path for d in PRE2019), CORPUS / "raw" / "043.html"]:
        code = main(["extract", str(source), "--stage", "--data-dir", str(data_dir)])
        assert code == 0, source
    return data_dir


def test_seven_reports_load_back_exactly_their_gold_figures(staged: Path) -> None:
    assert len(PRE2019) == 7
    figures = load.pre2019(data_dir=staged)
    assert len(figures) == sum(len(d.gold["pre2019_figures"]) for d in PRE2019) == 228
    assert len(_published(staged)) == 228  # compacted: plain readers see them too
    for document in PRE2019:
        rid = report_id_for(staged_url(document.path))
        mine = figures[figures["report_id"] == rid].sort_values("position")
        gold = document.gold["pre2019_figures"]
        keys = [
            f"{label} [{period}]"
            for label, period in zip(mine["label"], mine["period"], strict=True)
        ]
        assert keys == list(gold), document.id  # every figure, in printed order
        numbers = [
            None if pd.isna(v) and a is None else (Decimal(int(v)) if a is None else a)
            for v, a in zip(mine["value"], mine["amount"], strict=True)
        ]
        assert numbers == [as_decimal(v) for v in gold.values()], document.id
        units = dict(zip(mine["label"], mine["unit"], strict=True))
        assert units == document.gold["pre2019_units"], document.id
        assert set(mine["report_year"]) == {document.gold["report_year"]}


def test_the_054_blank_cell_and_the_keys_and_periods(staged: Path) -> None:
    figures = load.pre2019(year=2013, data_dir=staged)
    blank = figures[(figures["label"] == "2、政府公报公开") & (figures["period"] == "历年累计")]
    assert blank[["semantic", "raw"]].values.tolist() == [["blank", ""]]
    assert blank["value"].isna().all() and blank["number"].isna().all()
    received = load.pre2019(key="applications_received", period_kind="this_year", data_dir=staged)
    assert received[["report_year", "value"]].values.tolist() == [
        [2011, 0], [2012, 21], [2012, 0], [2013, 7], [2013, 0], [2016, 0], [2017, 0],
    ]  # fmt: skip
    assert list(received["agency"])[1:3] == ["平潭县人民政府", "平潭综合实验区"]


def test_filters_are_those_of_the_other_loaders(staged: Path) -> None:
    county = load.pre2019(agency="平潭县", year=[2012, 2013], data_dir=staged)
    assert set(county["agency"]) == {"平潭县人民政府"} and len(county) == 34 + 34
    cumulative = load.pre2019(key=["proactive_total"], period_kind="cumulative", data_dir=staged)
    assert cumulative["value"].tolist() == [1516, 3542, 4359, 5395, 76424, 85376, 10037]
    assert load.pre2019(year=2022, data_dir=staged).empty  # the 2021 report has none
    assert len(load.facts(data_dir=staged)) == 200  # and its facts are where they were
    with pytest.raises(ValueError, match="unknown pre-2019 key 'nope'"):
        load.pre2019(key="nope", data_dir=staged)
    with pytest.raises(ValueError, match="period_kind must be one of"):
        load.pre2019(period_kind="monthly", data_dir=staged)
    assert len(load.pre2019_dictionary()) == 25


def test_restaging_replaces_the_rows_and_a_version_without_them_removes_them(
    tmp_path: Path,
) -> None:
    report = _report("055.txt")
    _stage(tmp_path, report)
    _stage(tmp_path, report)  # twice, pending: one copy
    assert len(load.pre2019(data_dir=tmp_path)) == 32
    compact(tmp_path)
    assert len(_published(tmp_path)) == 32
    fewer = replace(report, pre2019_list=report.pre2019_list[:10])
    _stage(tmp_path, fewer)
    assert len(load.pre2019(data_dir=tmp_path)) == 10  # pending over published: replaced
    compact(tmp_path)
    assert len(_published(tmp_path)) == 10
    assert _published(tmp_path)["position"].tolist() == list(range(10))
    moved = replace(fewer, meta=replace(fewer.meta, report_year=2015))
    _stage(tmp_path, moved)  # another year: the old partition's rows go
    compact(tmp_path)
    assert _published(tmp_path)["report_year"].tolist() == [2015] * 10
    _stage(tmp_path, replace(report, pre2019_list=[]))
    assert load.pre2019(data_dir=tmp_path).empty
    compact(tmp_path)
    assert not list((tmp_path / "parquet" / "pre2019").rglob("part-*.parquet"))
    _stage(tmp_path, report)
    compact(tmp_path)
    assert remove_reports(tmp_path, [report_id_for(URL)]) == [report_id_for(URL)]
    with pytest.warns(load.EmptyDataWarning, match="no staged reports yet"):
        assert load.pre2019(data_dir=tmp_path).empty


def test_a_data_dir_staged_before_the_dataset_existed_still_loads(staged_3: Path) -> None:
    """A data directory of schema 2 has no ``pre2019`` directory: it reads empty, and a
    pre-2019 report staged into it later joins the reports staged before."""
    assert not (staged_3 / "parquet" / "pre2019").exists()
    reports = len(load.reports(data_dir=staged_3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reports are staged: no "empty data" warning
        empty = load.pre2019(data_dir=staged_3)
    assert empty.empty and {"label", "period", "value", "key", "agency"} <= set(empty.columns)
    _stage(staged_3, _report("056.txt"))
    assert len(load.pre2019(data_dir=staged_3)) == 30
    compact(staged_3)
    assert len(_published(staged_3)) == 30 and len(load.reports(data_dir=staged_3)) == reports + 1


@pytest.fixture()
def staged_3(tmp_path: Path) -> Path:
    """Six 2019-2023 gold reports staged and compacted, as before the fourth dataset."""
    stage_reports(tmp_path, [gold_item(doc) for doc in DOCS])
    compact(tmp_path)
    return tmp_path
