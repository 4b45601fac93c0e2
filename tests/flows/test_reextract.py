"""reextract: the current extractor over the raw archive; changed figures are reported."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pandas as pd

from pipeline.archive import write_body
from pipeline.extract import EXTRACTOR_VERSION, extract_document
from pipeline.flows import reextract
from pipeline.model import Fact
from pipeline.stage import report_id_for, stage_report
from tests.gold_items import CORPUS, FETCHED, gold_report

URL = "http://127.0.0.1/pingtan/2022.html"
NEW_URL = "http://127.0.0.1/kecheng/2023.txt"


def _archive(data_dir: Path, doc: str, url: str, content_type: str) -> str:
    body = next((CORPUS / "raw").glob(f"{doc}.*")).read_bytes()
    write_body(
        data_dir, body, url=url, kind="report", content_type=content_type, fetched_at=FETCHED
    )
    return hashlib.sha256(body).hexdigest()


def test_reextract_reports_changed_figures_and_stages_new_pages(tmp_path: Path) -> None:
    sha = _archive(tmp_path, "043", URL, "text/html; charset=utf-8")
    _archive(tmp_path, "000", NEW_URL, "text/plain; charset=utf-8")  # archived, never staged
    # Staged by an "old extractor" that misread one figure.
    old = gold_report("043", extractor_version="0.0.1")
    old.meta.sha256 = sha
    old.fact_list = [
        replace(f, value=999, raw="999") if f.key == "applications/new_received/total" else f
        for f in old.fact_list
    ]
    stage_report(
        tmp_path,
        old,
        url=URL,
        region="福建省平潭综合实验区",
        region_code="350128",
        fetched_at=FETCHED,
    )

    outcome = reextract.run(tmp_path, workers=1)

    rid = report_id_for(URL)
    assert outcome.examined == 2 and not outcome.failed
    assert "applications/new_received/total: 999 -> 74" in outcome.changed[rid]
    assert outcome.added == [report_id_for(NEW_URL)]
    facts = pd.read_parquet(tmp_path / "parquet" / "facts")
    mine = facts[
        (facts["report_id"] == rid)
        & (facts["row"] == "new_received")
        & (facts["column"] == "total")
    ]
    assert list(mine["value"]) == [74]
    reports = pd.read_parquet(tmp_path / "parquet" / "reports").set_index("report_id")
    assert reports.loc[rid, "extractor_version"] == EXTRACTOR_VERSION
    assert reports.loc[rid, "region_code"] == "350128"  # kept from the crawl
    assert reports.loc[report_id_for(NEW_URL), "agency"] == "衢州市柯城区人民政府办公室"

    # Everything is now at the current version: --since it re-extracts nothing staged.
    again = reextract.run(tmp_path, since=EXTRACTOR_VERSION, workers=1)
    assert again.examined == 0 and again.changed == {}


def test_version_order() -> None:
    assert reextract.older_than("0.1.9", "0.2.0")
    assert not reextract.older_than("0.10.0", "0.9.1")
    assert reextract.older_than(None, "0.1.0")


def test_unreadable_body_is_reported_not_raised(tmp_path: Path) -> None:
    report = gold_report("043", extractor_version="0.0.1")
    report.meta.sha256 = "0" * 64  # not in the archive
    stage_report(tmp_path, report, url=URL, region=None, region_code=None, fetched_at=FETCHED)
    outcome = reextract.run(tmp_path, workers=1)
    assert len(outcome.failed) == 1 and "ArchiveError" in outcome.failed[0][1]
    assert len(pd.read_parquet(tmp_path / "parquet" / "facts")) == len(report.fact_list)
    assert isinstance(report.fact_list[0], Fact)


def test_reextract_waits_for_no_crawl(tmp_path: Path, capsys) -> None:
    import pytest

    from pipeline.cli import main
    from pipeline.datadir import WriterLock
    from pipeline.errors import LockedError

    report = gold_report("043", extractor_version="0.0.1")
    stage_report(tmp_path, report, url=URL, region=None, region_code=None, fetched_at=FETCHED)
    with WriterLock(tmp_path):  # a crawl is running on this data directory
        with pytest.raises(LockedError):
            reextract.run(tmp_path, workers=1)
        assert main(["reextract", "--data-dir", str(tmp_path), "--no-progress"]) == 3
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "crawl" in err
    assert main(["reextract", "--data-dir", str(tmp_path), "--no-progress", "--workers", "1"]) == 1


def test_since_reads_only_the_facts_of_the_reports_it_reextracts(tmp_path: Path) -> None:
    from pipeline.stage import bucket_of, compact

    sha = _archive(tmp_path, "043", URL, "text/html; charset=utf-8")
    old = gold_report("043", extractor_version="0.0.1")
    old.meta.sha256 = sha
    old.fact_list = [
        replace(f, amount=f.amount + 1) if f.key == "active_disclosure/fees/amount_10k_yuan" else f
        for f in old.fact_list
    ]
    stage_report(tmp_path, old, url=URL, region=None, region_code=None, fetched_at=FETCHED)
    current = gold_report("000", extractor_version=EXTRACTOR_VERSION)  # 2023, up to date
    current_url = "http://127.0.0.1/kecheng/current.txt"
    stage_report(
        tmp_path, current, url=current_url, region=None, region_code=None, fetched_at=FETCHED
    )
    compact(tmp_path)
    # The up-to-date report's facts file is unreadable: a --since run must not need it.
    bucket = bucket_of(report_id_for(current_url))
    (tmp_path / "parquet" / "facts" / "report_year=2023" / f"part-{bucket}.parquet").write_bytes(
        b"not parquet"
    )

    outcome = reextract.run(tmp_path, since=EXTRACTOR_VERSION, workers=1)

    assert outcome.examined == 1 and not outcome.failed
    assert outcome.changed[report_id_for(URL)] == [
        "active_disclosure/fees/amount_10k_yuan: 9117.36 -> 9116.36"
    ]


def test_reextract_moves_reports_staged_under_old_ids_to_their_canonical_id(
    tmp_path: Path,
) -> None:
    from pipeline.load import reports
    from pipeline.stage import StageItem, stage_reports

    legacy_url = "HTTP://127.0.0.1:80/pingtan/2022.html;jsessionid=ABC123DEF456GHI789#top"

    class LegacyItem(StageItem):
        """A report staged before ids were made from canonical URLs."""

        @property
        def report_id(self) -> str:
            return hashlib.sha256(legacy_url.split("#")[0].encode()).hexdigest()[:16]

    sha = _archive(tmp_path, "043", legacy_url, "text/html; charset=utf-8")
    report = gold_report("043")
    report.meta.sha256 = sha
    item = LegacyItem(report=report, url=legacy_url, region=None, region_code=None,
                      fetched_at=FETCHED)  # fmt: skip
    stage_reports(tmp_path, [item])
    assert list(reports(data_dir=tmp_path)["report_id"]) == [item.report_id]

    reextract.run(tmp_path, workers=1)

    staged = reports(data_dir=tmp_path)
    assert list(staged["report_id"]) == [report_id_for(URL)]  # one report, its canonical id
    assert report_id_for(legacy_url) == report_id_for(URL)
    facts = pd.read_parquet(tmp_path / "parquet" / "facts")
    assert set(facts["report_id"]) == {report_id_for(URL)}


def test_two_workers_stage_what_one_does(tmp_path: Path) -> None:
    """Enough reports for several tasks: workers write their rows themselves, the parent
    commits once; the outcome and the staged data match a one-worker run."""
    one, two = tmp_path / "one", tmp_path / "two"
    docs = ("043", "000", "044", "021")
    for data_dir in (one, two):
        for number in range(reextract.TASK_SIZE + 9):
            doc = docs[number % len(docs)]
            _archive(data_dir, doc, f"http://127.0.0.1/r/{number}.html", "text/html")
    first = reextract.run(one, workers=1)
    second = reextract.run(two, workers=2)
    assert first.examined == second.examined == reextract.TASK_SIZE + 9
    assert sorted(first.added) == sorted(second.added) and len(first.added) > 30
    assert not first.failed and not second.failed

    def staged(data_dir: Path) -> pd.DataFrame:
        facts = pd.read_parquet(data_dir / "parquet" / "facts")
        facts = facts.astype({c: str for c in ("report_id", "table", "row", "column")})
        key = ["report_id", "table", "row", "column"]
        return facts.sort_values(key).reset_index(drop=True)[[*key, "value"]]

    pd.testing.assert_frame_equal(staged(one), staged(two))
    assert not list((two / "parquet" / "_pending").iterdir())  # committed and compacted


def test_reextract_compares_and_stages_pre2019_figures(tmp_path: Path) -> None:
    """055 (平潭 2016) staged by an "old extractor" that misread 主动公开文件数; 051 (平潭县
    2012) archived but never staged: both come back with their 统计表 figures."""
    old_url, new_url = "http://127.0.0.1/pingtan/2016.txt", "http://127.0.0.1/pingtan/2012.html"
    sha = _archive(tmp_path, "055", old_url, "text/plain; charset=utf-8")
    _archive(tmp_path, "051", new_url, "text/html; charset=utf-8")
    old = extract_document(next((CORPUS / "raw").glob("055.*")).read_bytes(), source=old_url)
    old.meta.sha256, old.meta.extractor_version = sha, "0.0.1"
    misread = ("主动公开文件数", "2016年度")
    old.pre2019_list = [
        replace(f, value=999, raw="999") if (f.label, f.period) == misread else f
        for f in old.pre2019_list
    ]
    stage_report(tmp_path, old, url=old_url, region="平潭", region_code=None, fetched_at=FETCHED)

    outcome = reextract.run(tmp_path, workers=1)

    assert outcome.examined == 2 and not outcome.failed
    assert outcome.changed == {
        report_id_for(old_url): ["pre2019/主动公开文件数 [2016年度]: 999 -> 3460"]
    }
    assert outcome.added == [report_id_for(new_url)]
    figures = pd.read_parquet(tmp_path / "parquet" / "pre2019")
    counts = figures.groupby("report_id", observed=True).size().to_dict()
    assert counts == {report_id_for(old_url): 32, report_id_for(new_url): 34}
    assert 999 not in figures["value"].tolist()
    assert reextract.run(tmp_path, workers=1).changed == {}  # the same extractor again
