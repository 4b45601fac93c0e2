"""``python -m pipeline compact``: pending writes published for plain Parquet readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.stage import report_id_for, stage_reports
from tests.gold_items import gold_item, url_of


def test_compact_publishes_the_pending_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stage_reports(tmp_path, [gold_item("043")])
    stage_reports(tmp_path, [gold_item("000")])
    assert not (tmp_path / "parquet" / "reports").exists()  # pending only
    assert main(["compact", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("compacted 2 pending writes") and "2 reports published" in out
    reports = pd.read_parquet(tmp_path / "parquet" / "reports")
    assert set(reports["report_id"]) == {report_id_for(url_of(d)) for d in ("043", "000")}
    assert main(["compact", "--data-dir", str(tmp_path)]) == 0  # nothing left: a no-op
    assert capsys.readouterr().out.startswith("compacted 0 pending writes")


def test_compact_without_staged_data_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compact", "--data-dir", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
