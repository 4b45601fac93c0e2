"""Staging: real gold figures round-trip; idempotent, crash-safe, append-only writes;
compaction publishes them for plain Parquet readers; schemas."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import load
from pipeline.datasets import AMOUNT_TYPE
from pipeline.stage import (
    SCHEMA_VERSION,
    StageItem,
    compact,
    report_id_for,
    stage_report,
    stage_reports,
)
from tests.conftest import DOCS
from tests.gold_items import FETCHED, gold, gold_item, gold_report, url_of
from tests.synthetic import synthetic_pre2019_report, synthetic_report, synthetic_url

ROOT = Path(__file__).resolve().parents[2]


def _facts(data_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "parquet" / "facts")


def _counts(data_dir: Path) -> tuple[int, int, int]:
    """Rows a plain Parquet reader sees (the published files)."""
    return tuple(  # type: ignore[return-value]
        len(pd.read_parquet(data_dir / "parquet" / name))
        for name in ("reports", "facts", "findings")
    )


def _live_counts(data_dir: Path) -> tuple[int, int, int]:
    """Rows ``pipeline.load`` sees (published files and pending writes)."""
    return (
        len(load.reports(data_dir=data_dir)),
        len(load.facts(data_dir=data_dir)),
        len(load.findings(data_dir=data_dir)),
    )


def test_read_parquet_returns_every_gold_figure(staged: Path) -> None:
    facts = _facts(staged)
    for doc in DOCS:
        rid = report_id_for(url_of(doc))
        mine = facts[facts["report_id"] == rid]
        expected = gold(doc)["facts"]
        assert len(mine) == len(expected), doc
        got = {
            f"{t}/{r}/{c}": (a if a is not None else (None if pd.isna(v) else int(v)))
            for t, r, c, v, a in zip(
                mine["table"],
                mine["row"],
                mine["column"],
                mine["value"],
                mine["amount"],
                strict=True,
            )
        }
        for key, number in expected.items():
            if number is None:
                assert got[key] is None, (doc, key)
            else:
                assert got[key] == Decimal(str(number)), (doc, key)


def test_specific_figures_and_types(staged: Path) -> None:
    facts = _facts(staged)
    pingtan_2022 = facts[facts["report_id"] == report_id_for(url_of("043"))]
    row = pingtan_2022.set_index(["table", "row", "column"])
    assert row.loc[("applications", "new_received", "total"), "value"] == 74
    assert row.loc[("applications", "unavailable_not_held", "total"), "value"] == 37
    fee = row.loc[("active_disclosure", "fees", "amount_10k_yuan")]
    assert fee["amount"] == Decimal("9116.36") and fee["unit"] == "万元"
    assert str(facts["value"].dtype) == "Int64"
    assert isinstance(facts["table"].dtype, pd.CategoricalDtype)
    procurement = facts[(facts["row"] == "procurement") & (facts["column"] == "amount")]
    assert sorted(procurement["amount"]) == [Decimal("251000"), Decimal("73802895.90")]


def test_partitioned_by_year_with_explicit_schema_and_metadata(staged: Path) -> None:
    years = sorted(p.name for p in (staged / "parquet" / "facts").iterdir())
    assert years == [f"report_year={y}" for y in (0, 2019, 2020, 2021, 2022, 2023)]
    path = next((staged / "parquet" / "facts" / "report_year=2022").glob("part-*.parquet"))
    meta = pq.ParquetFile(path)
    schema = meta.schema_arrow
    assert schema.field("value").type == pa.int64()
    assert schema.field("amount").type == AMOUNT_TYPE
    assert pa.types.is_dictionary(schema.field("row").type)
    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"
    assert schema.metadata[b"ogi.schema_version"] == SCHEMA_VERSION.encode()
    assert schema.metadata[b"ogi.extractor_version"] == b"gold"
    reports = pd.read_parquet(staged / "parquet" / "reports")
    assert set(reports.columns) >= {
        "report_id",
        "url",
        "title",
        "agency",
        "region",
        "report_year",
        "published",
        "national_format",
        "status",
        "sha256",
        "fetched_at",
        "extracted_at",
    }
    assert reports["fetched_at"].iloc[0] == pd.Timestamp(FETCHED)


def test_staging_twice_leaves_one_copy(staged: Path) -> None:
    before = _counts(staged)
    assert _live_counts(staged) == before
    stage_reports(staged, [gold_item(doc) for doc in DOCS])
    for doc in DOCS[:2]:
        item = gold_item(doc)
        stage_report(
            staged,
            item.report,
            url=item.url,
            region=item.region,
            region_code=None,
            fetched_at=datetime(2026, 1, 2),  # naive: taken as UTC
        )
    # pipeline.load sees the writes at once, one copy of each report ...
    assert _live_counts(staged)[:2] == before[:2]
    assert load.reports(data_dir=staged)["report_id"].is_unique
    # ... plain readers after the compaction, the same.
    compact(staged)
    assert _counts(staged) == before
    reports = pd.read_parquet(staged / "parquet" / "reports")
    assert reports["report_id"].is_unique


def test_a_staging_write_appends_only_its_own_rows(staged: Path) -> None:
    published = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (staged / "parquet").rglob("*.parquet")
    }
    report = gold_report("043")
    stage_report(
        staged, report, url=url_of("043"), region=None, region_code=None, fetched_at=FETCHED
    )
    after = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (staged / "parquet").rglob("*.parquet")
        if "_pending" not in p.parts
    }
    assert after == published  # no published file rewritten, none added
    (write,) = (staged / "parquet" / "_pending").iterdir()
    new = {p.name.split("_")[0]: pq.read_table(p) for p in write.iterdir()}
    assert set(new) == {"reports", "facts", "findings"}
    rid = report_id_for(url_of("043"))
    assert new["reports"].column("report_id").to_pylist() == [rid]
    assert new["facts"].num_rows == len(report.fact_list)
    assert set(new["facts"].column("report_id").cast(pa.string()).to_pylist()) == {rid}


def test_restaging_replaces_changed_figures(staged: Path) -> None:
    report = synthetic_report(7, 2022)
    stage_report(
        staged, report, url="http://x.test/7", region=None, region_code=None, fetched_at=FETCHED
    )
    changed = synthetic_report(7, 2022, bump=1000)
    stage_report(
        staged, changed, url="http://x.test/7", region=None, region_code=None, fetched_at=FETCHED
    )
    rid = report_id_for("http://x.test/7")
    live = load.facts(data_dir=staged)
    assert live.loc[live["report_id"] == rid, "value"].dropna().min() >= 1000
    assert rid not in set(_facts(staged)["report_id"].astype(str))  # not published yet
    compact(staged)
    facts = _facts(staged)
    mine = facts[facts["report_id"] == rid]
    assert len(mine) == len(changed.fact_list)
    assert mine["value"].dropna().min() >= 1000


def test_year_change_moves_the_report(staged: Path) -> None:
    before = _counts(staged)
    report = gold_report("016")
    report.meta.report_year = 2023  # a later extractor finds the year
    stage_report(
        staged, report, url=url_of("016"), region=None, region_code=None, fetched_at=FETCHED
    )
    rid = report_id_for(url_of("016"))
    live = load.facts(data_dir=staged)
    assert set(live.loc[live["report_id"] == rid, "report_year"].astype(int)) == {2023}
    compact(staged)
    assert _counts(staged) == before
    facts = _facts(staged)
    assert set(facts.loc[facts["report_id"] == rid, "report_year"].astype(int)) == {2023}


def test_large_batch_in_chunks_matches_small_batches(tmp_path: Path) -> None:
    items = [
        StageItem(synthetic_report(i, 2020 + i % 3), synthetic_url(i), None, None, FETCHED)
        for i in range(30)
    ]
    # A later copy of report 0 in the same write (another chunk, another year) wins.
    items.append(
        StageItem(synthetic_report(0, 2021, bump=500), synthetic_url(0), None, None, FETCHED)
    )
    chunked, plain = tmp_path / "a", tmp_path / "b"
    stage_reports(chunked, items, chunk_size=7)
    for item in items:
        stage_reports(plain, [item])
    assert len(list((chunked / "parquet" / "_pending").iterdir())) == 1  # one write
    key = ["report_id", "table", "row", "column"]

    def frame(facts: pd.DataFrame) -> pd.DataFrame:
        out = facts.astype({"report_id": str, "table": str, "row": str, "column": str})
        return out.sort_values(key).reset_index(drop=True)[[*key, "value", "report_year"]]

    live = frame(load.facts(data_dir=chunked)).astype({"report_year": int})
    pd.testing.assert_frame_equal(live, frame(load.facts(data_dir=plain)).astype(live.dtypes))
    zero = live[live["report_id"] == report_id_for(synthetic_url(0))]
    assert zero["value"].min() >= 500 and set(zero["report_year"]) == {2021}
    assert len(live) == 30 * 200
    compact(chunked)
    compact(plain)
    published = frame(_facts(chunked)).astype({"report_year": int})
    pd.testing.assert_frame_equal(published, live)
    pd.testing.assert_frame_equal(frame(_facts(plain)).astype({"report_year": int}), live)


def test_cross_year_carry_findings(staged: Path) -> None:
    findings = pd.read_parquet(staged / "parquet" / "findings")
    cross = findings[findings["check"] == "cross_year_carry"]
    totals = cross[cross["column"] == "total"].set_index("report_year")
    # 平潭: 2021 上年结转 0 = 2020 结转 0; 2022 上年结转 1 = 2021 结转 1.
    assert set(totals.index.astype(int)) == {2021, 2022}
    assert (totals["status"] == "pass").all()
    assert totals.loc[2022, "printed"] == 1 and totals.loc[2022, "expected"] == 1
    # A 2022 report that no longer matches last year's carried_forward fails the check.
    report = gold_report("043")
    report.fact_list = [
        f
        if f.key != "applications/carried_over/total"
        else type(f)(
            f.table, f.row, f.column, 5, None, None, "5", "number", f.row_label, f.column_label
        )
        for f in report.fact_list
    ]
    stage_report(
        staged,
        report,
        url=url_of("043"),
        region=gold_item("043").region,
        region_code=None,
        fetched_at=FETCHED,
    )
    compact(staged)  # cross-year checks are recomputed when a compaction publishes
    findings = pd.read_parquet(staged / "parquet" / "findings")
    row = findings[
        (findings["check"] == "cross_year_carry")
        & (findings["column"] == "total")
        & (findings["report_year"].astype(int) == 2022)
    ]
    assert len(row) == 1 and row["status"].iloc[0] == "fail"
    assert row["expected"].iloc[0] == 1 and row["printed"].iloc[0] == 5


_WRITER = """
import sys
from pathlib import Path
from pipeline.stage import StageItem, compact, stage_reports
from tests.synthetic import synthetic_pre2019_report, synthetic_report, synthetic_url
data_dir, compacting = Path(sys.argv[1]), sys.argv[2] == "compact"
round = 0
while True:
    round += 1
    year = 2021 + round % 2  # every round moves the reports to the other year
    stage_reports(data_dir, (
        StageItem(synthetic_report(i, year, bump=round), synthetic_url(i), None, None, None)
        for i in range(600)
    ))
    if compacting:
        compact(data_dir)
"""


def _killed_when(data_dir: Path, mode: str, seen: Callable[[], bool]) -> None:
    """Run the writer until ``seen()``, then kill -9 it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data_dir), mode],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    caught = False
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if seen():
                proc.send_signal(signal.SIGKILL)
                caught = True
                break
            time.sleep(0.0005)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert caught, proc.stderr.read().decode() if proc.stderr else "writer ended"


def _assert_consistent(
    facts: pd.DataFrame, reports: pd.DataFrame, before: pd.DataFrame, old_ids: set[str]
) -> None:
    """The earlier reports whole and identical; every other report whole or absent, once;
    no fact without its report."""
    key = ["report_id", "table", "row", "column"]

    def norm(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({c: str for c in key}).sort_values(key).reset_index(drop=True)
        return frame[[*key, "value", "raw"]]

    ids = facts["report_id"].astype(str)
    pd.testing.assert_frame_equal(norm(facts[ids.isin(old_ids)]), norm(before))
    sizes = facts[~ids.isin(old_ids)].groupby(ids[~ids.isin(old_ids)]).size()
    assert (sizes == 200).all()
    assert reports["report_id"].is_unique
    assert set(ids) <= set(reports["report_id"].astype(str))


def test_killed_writer_leaves_previous_data_whole(staged: Path) -> None:
    before = _facts(staged)
    old_ids = set(before["report_id"].astype(str))
    published = {p: p.read_bytes() for p in (staged / "parquet").rglob("*.parquet")}
    pending = staged / "parquet" / "_pending"
    _killed_when(
        staged, "append", lambda: any(n.startswith(".w-") for n in os.listdir(pending))
    )
    # Plain readers: nothing changed. pipeline.load: whole writes only.
    assert {p: p.read_bytes() for p in published} == published
    facts, reports = load.facts(data_dir=staged), load.reports(data_dir=staged)
    _assert_consistent(facts, reports, before, old_ids)
    # The next compaction clears the dead writer's files and publishes what was committed.
    compact(staged)
    assert not any(p.name.startswith((".w-", ".tmp")) for p in (staged / "parquet").rglob("*"))
    raw = _facts(staged)
    _assert_consistent(raw, pd.read_parquet(staged / "parquet" / "reports"), before, old_ids)
    assert len(raw) == len(facts)


def test_killed_compaction_leaves_published_data_whole(staged: Path) -> None:
    before = _facts(staged)
    old_ids = set(before["report_id"].astype(str))
    partitions = [staged / "parquet" / d / f"report_year={y}" for d in ("facts", "reports")
                  for y in (2021, 2022)]

    def compacting() -> bool:
        return any(".tmp-" in n for d in partitions if d.is_dir() for n in os.listdir(d))

    _killed_when(staged, "compact", compacting)
    # Killed halfway through a compaction that moves reports between years.
    _assert_consistent(
        _facts(staged), pd.read_parquet(staged / "parquet" / "reports"), before, old_ids
    )
    live = load.facts(data_dir=staged)
    _assert_consistent(live, load.reports(data_dir=staged), before, old_ids)
    compact(staged)  # finishes the job from the same pending writes
    raw = _facts(staged)
    _assert_consistent(raw, pd.read_parquet(staged / "parquet" / "reports"), before, old_ids)
    assert len(raw) == len(live)
    assert not list((staged / "parquet" / "_pending").iterdir())


def test_plain_readers_never_see_a_report_twice_while_writes_go_on(staged: Path) -> None:
    """The uninterrupted case: a writer stages and compacts in a loop, moving 600 reports
    between two years every round, while a plain reader (holding the shared lock, as the
    README says) reads facts and reports again and again."""
    import fcntl

    before = _facts(staged)
    old_ids = set(before["report_id"].astype(str))
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(staged), "compact"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    reads, years = 0, set()
    try:
        # until the reports were seen moved (seconds; a loaded machine may need far more)
        deadline = time.monotonic() + 90
        moved = False
        while time.monotonic() < deadline and proc.poll() is None and not moved:
            with open(staged / "parquet" / ".compact.lock", "rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_SH)
                facts = _facts(staged)
                reports = pd.read_parquet(staged / "parquet" / "reports")
                fcntl.flock(lock, fcntl.LOCK_UN)
            _assert_consistent(facts, reports, before, old_ids)
            reads += 1
            years |= set(reports.loc[~reports["report_id"].isin(old_ids), "report_year"])
            moved = reads >= 5 and {2021, 2022} <= {int(y) for y in years}
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert reads >= 5 and {2021, 2022} <= {int(y) for y in years}  # the reports did move


def test_duckdb_and_polars_read_the_datasets(staged: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    polars = pytest.importorskip("polars")
    pattern = str(staged / "parquet" / "facts" / "**" / "*.parquet")
    total = duckdb.sql(
        f"select sum(value) from read_parquet('{pattern}', hive_partitioning=true) "
        "where \"table\" = 'applications' and \"row\" = 'new_received' and \"column\" = 'total' "
        "and report_year = 2022"
    ).fetchall()[0][0]
    assert total == 74
    frame = polars.read_parquet(pattern, hive_partitioning=True)
    assert frame.height == len(_facts(staged))


def test_report_without_facts_or_findings_is_staged(tmp_path: Path) -> None:
    report = gold_report("033")  # pre-2019 format: no canonical figures
    report.finding_list = []
    stage_report(
        tmp_path, report, url=url_of("033"), region=None, region_code=None, fetched_at=FETCHED
    )
    compact(tmp_path)
    reports = pd.read_parquet(tmp_path / "parquet" / "reports")
    assert list(reports["report_year"].astype(int)) == [2011]
    assert (reports["fact_rows"].iloc[0], reports["number_facts"].iloc[0]) == (0, 0)
    assert not (tmp_path / "parquet" / "facts").exists() or _facts(tmp_path).empty


def test_restaging_without_region_keeps_the_crawled_one(staged: Path) -> None:
    # `python -m pipeline extract URL --stage` knows no region: the crawled one stays.
    stage_report(
        staged,
        gold_report("043"),
        url=url_of("043"),
        region=None,
        region_code=None,
        fetched_at=FETCHED,
    )
    rid = report_id_for(url_of("043"))
    live = load.reports(data_dir=staged).set_index("report_id")
    assert live.loc[rid, "region"] == "福建省平潭综合实验区"
    compact(staged)
    reports = pd.read_parquet(staged / "parquet" / "reports").set_index("report_id")
    assert reports.loc[rid, "region"] == "福建省平潭综合实验区"


def test_remove_reports_drops_every_row_and_their_cross_year_checks(staged: Path) -> None:
    from pipeline.stage import remove_reports

    rid = report_id_for(url_of("001"))  # 平潭 2021: the 2022 report is checked against it
    assert remove_reports(staged, [rid, "0" * 16]) == [rid]
    for name in ("reports", "facts", "findings"):
        frame = pd.read_parquet(staged / "parquet" / name)
        assert rid not in set(frame["report_id"].astype(str)), name
    findings = pd.read_parquet(staged / "parquet" / "findings")
    cross = findings[findings["check"] == "cross_year_carry"]
    assert set(cross["report_year"].astype(int)) == set()  # 2020 -> (2021 gone) -> 2022
    assert remove_reports(staged, [rid]) == []


@pytest.mark.parametrize(
    "crash_at",
    [
        ("report_year=2022", "facts"),  # taking it out of the old year, facts first
        ("report_year=2022", "reports"),  # its old facts gone, its reports row not yet
        ("report_year=2023", "reports"),  # out of the old year, not yet in the new one
        ("report_year=2023", "facts"),  # its reports row in the new year, its facts not yet
    ],
)
def test_compaction_killed_while_moving_a_report_never_shows_it_twice(
    staged: Path, monkeypatch: pytest.MonkeyPatch, crash_at: tuple[str, str]
) -> None:
    import pipeline.stage.compaction as compaction

    before = _counts(staged)
    rid = report_id_for(url_of("043"))  # staged in 2022
    report = gold_report("043")
    report.meta.report_year = 2023
    stage_report(
        staged, report, url=url_of("043"), region=None, region_code=None, fetched_at=FETCHED
    )

    class Killed(Exception):
        pass

    def dying(real):  # type: ignore[no-untyped-def]
        def write(table, path, dataset, versions, **kwargs):  # type: ignore[no-untyped-def]
            if (path.parent.name, dataset) == crash_at:
                raise Killed
            return real(table, path, dataset, versions, **kwargs)

        return write

    # a report leaves a file through write_atomic, arrives through prepare (the files of
    # a dataset are written, then flushed and renamed together)
    for seam in ("write_atomic", "prepare"):
        monkeypatch.setattr(compaction, seam, dying(getattr(compaction, seam)))
    with pytest.raises(Killed):
        compact(staged)
    monkeypatch.undo()

    # Plain readers: the report once at most, and its facts only with its reports row.
    facts = _facts(staged)
    reports = pd.read_parquet(staged / "parquet" / "reports")
    assert reports["report_id"].is_unique
    mine = facts[facts["report_id"] == rid]
    assert len(mine) in (0, len(report.fact_list))
    assert set(facts["report_id"].astype(str)) <= set(reports["report_id"])
    # pipeline.load: the new version, whole.
    live = load.facts(data_dir=staged)
    assert set(live.loc[live["report_id"] == rid, "report_year"]) == {2023}
    assert (live["report_id"] == rid).sum() == len(report.fact_list)

    stage_reports(staged, [gold_item("000")])  # the next write, of another report
    compact(staged)

    assert _counts(staged)[:2] == before[:2]
    reports = pd.read_parquet(staged / "parquet" / "reports")
    assert reports["report_id"].is_unique
    assert int(reports.set_index("report_id").loc[rid, "report_year"]) == 2023
    facts = _facts(staged)
    mine = facts[facts["report_id"] == rid]
    assert len(mine) == len(report.fact_list)
    assert set(mine["report_year"].astype(int)) == {2023}
    findings = pd.read_parquet(staged / "parquet" / "findings")
    gold_rows = findings[(findings["report_id"] == rid) & (findings["check"] == "gold")]
    assert set(gold_rows["report_year"].astype(int)) == {2023} and len(gold_rows) == 1
    assert not list((staged / "parquet" / "_pending").iterdir())


def test_agency_change_drops_the_old_agencys_cross_year_findings(tmp_path: Path) -> None:
    def item(doc: str, agency: str) -> StageItem:
        report = gold_report(doc)
        report.meta.agency = agency
        return StageItem(report, url_of(doc), "福建省平潭综合实验区", "350128", FETCHED)

    def carries() -> pd.DataFrame:
        findings = pd.read_parquet(tmp_path / "parquet" / "findings")
        return findings[findings["check"] == "cross_year_carry"]

    # 平潭 2021 (001) and 2022 (043), both as 甲局: 2022 is checked against 2021.
    stage_reports(tmp_path, [item("001", "甲局"), item("043", "甲局")])
    compact(tmp_path)
    assert len(carries()) > 0
    stage_reports(tmp_path, [item("001", "乙局")])  # re-staged under another agency
    compact(tmp_path)
    assert carries().empty


def test_dict_equals_compares_dictionary_indices_per_chunk() -> None:
    from pipeline.datasets import dict_equals

    key = pa.dictionary(pa.int32(), pa.string())
    column = pa.chunked_array(
        [
            pa.array(["applications", None, "fees"]).cast(key),
            pa.array(["fees", "fees"]).cast(key),  # the key is not in this chunk's dictionary
            pa.array([], type=pa.string()).cast(key),
        ]
    )
    assert dict_equals(column, "applications").to_pylist() == [True, False, False, False, False]
    assert dict_equals(column, "fees").to_pylist() == [False, False, True, True, True]


def test_datapackage_json_describes_the_files_as_they_are(staged: Path) -> None:
    import json

    from pipeline.datasets import DATASETS
    from pipeline.extract import extract_document
    from tests.corpus import CORPUS

    pre2019 = extract_document((CORPUS / "raw" / "056.txt").read_bytes(), source="056.txt")
    stage_report(
        staged, pre2019, url=url_of("056"), region=None, region_code=None, fetched_at=FETCHED
    )
    compact(staged)
    root = staged / "parquet"
    package = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == SCHEMA_VERSION and package["licenses"]
    by_name = {r["name"]: r for r in package["resources"]}
    assert set(by_name) == set(DATASETS)
    for name, schema in DATASETS.items():
        resource = by_name[name]
        on_disk = sorted(str(p.relative_to(root)) for p in (root / name).glob("*/*.parquet"))
        assert resource["path"] == on_disk and on_disk
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == [*schema.names, "report_year"]
        assert all(f["description"] and f["type"] != "any" for f in fields)
    facts = {f["name"]: f for f in by_name["facts"]["schema"]["fields"]}
    assert facts["value"]["type"] == "integer" and facts["amount"]["type"] == "number"
    assert by_name["facts"]["schema"]["primaryKey"] == ["report_id", "table", "row", "column"]
    assert by_name["pre2019"]["schema"]["primaryKey"] == ["report_id", "position"]
    assert by_name["pre2019"]["path"] == ["pre2019/report_year=2017/part-5.parquet"]
    # a report removed: the descriptor follows
    from pipeline.stage import remove_reports

    remove_reports(staged, [report_id_for(url_of("021"))])
    package = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    paths = {p for r in package["resources"] for p in r["path"]}
    assert all((root / p).exists() for p in paths)
    assert not any("report_year=2019" in p for p in paths)


def test_compaction_on_worker_processes_publishes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.stage.compaction as compaction

    items = [
        StageItem(synthetic_report(i, 2020 + i % 3), synthetic_url(i), "合成省", None, FETCHED)
        for i in range(40)
    ] + [  # and reports before 2019: their figures in the fourth dataset
        StageItem(synthetic_pre2019_report(i, 2012 + i % 3), synthetic_url(i), None, None, None)
        for i in range(40, 50)
    ]
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    for data_dir in (serial, parallel):
        stage_reports(data_dir, items, now=FETCHED)
    monkeypatch.setattr(compaction, "PARALLEL_FROM", 0)  # worth it from the first report
    done = compact(serial, workers=1)
    assert done.files > 3 * 3 and compact(parallel, workers=2) == done
    assert len(pd.read_parquet(parallel / "parquet" / "pre2019")) == 10 * 50
    for name in ("reports", "facts", "findings", "pre2019"):
        files = sorted(p.relative_to(serial) for p in serial.rglob(f"{name}/*/*.parquet"))
        assert files == sorted(
            p.relative_to(parallel) for p in parallel.rglob(f"{name}/*/*.parquet")
        )
        for path in files:
            assert pq.read_table(serial / path).equals(pq.read_table(parallel / path)), path


def test_prepared_files_are_hidden_until_flushed_and_renamed_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.stage import store
    from pipeline.stage.convert import facts_table
    from pipeline.stage.store import prepare, read_ids, replace_all

    items = [gold_item("043"), gold_item("000")]
    old, new = facts_table(items[:1]), facts_table(items[1:])
    kept, gone = tmp_path / "part-1.parquet", tmp_path / "part-2.parquet"
    for path in (kept, gone):
        prepare(old, path, "facts", ["v1"]).tmp.rename(path)  # type: ignore[union-attr]

    def listed() -> list[str]:  # what a reader lists (temporaries are hidden)
        return sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))

    def prepared() -> list[store.Replacement]:
        return [
            prepare(new, kept, "facts", ["v2"]),
            prepare(new.slice(0, 0), gone, "facts", ["v2"]),  # no rows left: removed
            prepare(new, tmp_path / "part-3.parquet", "facts", ["v2"]),
        ]

    # a flush that fails: the old files stay as they were, no temporary is left
    def failing(path: Path) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(store, "fsync_path", failing)
    with pytest.raises(OSError):
        replace_all(prepared())
    assert listed() == ["part-1.parquet", "part-2.parquet"] and len(list(tmp_path.iterdir())) == 2
    assert set(read_ids(kept).to_pylist()) == {items[0].report_id}
    monkeypatch.undo()

    replacements = prepared()
    assert listed() == ["part-1.parquet", "part-2.parquet"]  # prepared, not yet visible
    replace_all(replacements)
    assert listed() == ["part-1.parquet", "part-3.parquet"] and len(list(tmp_path.iterdir())) == 2
    assert set(read_ids(kept).to_pylist()) == {items[1].report_id}
    assert len(pq.read_table(tmp_path / "part-3.parquet")) == len(new)
