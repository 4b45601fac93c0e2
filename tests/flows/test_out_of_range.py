"""A figure too long for any column is a finding: staging, re-extraction and every output
go on (one bad report never stops the others)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.cli import main
from pipeline.flows import reextract
from pipeline.load import findings, reports
from tests.corpus import CORPUS

PAGE = (CORPUS / "raw" / "043.html").read_bytes()


def test_a_25_digit_figure_is_left_out_and_everything_else_works(tmp_path: Path) -> None:
    for digits in (25, 100_000):
        bad = tmp_path / f"bad{digits}.html"
        bad.write_bytes(PAGE.replace(b">10690<", b">" + b"9" * digits + b"<", 1))
        data = tmp_path / "data"
        args = ["extract", str(bad), "--data-dir", str(data)]
        assert main([*args, "--stage"]) == 0
        assert main([*args, "--format", "csv", "-o", str(tmp_path / "f.csv")]) == 0
        assert main([*args, "--format", "parquet", "-o", str(tmp_path / "f.parquet")]) == 0
        assert main([*args, "--format", "jsonl", "-o", str(tmp_path / "f.jsonl")]) == 0
        assert len(pd.read_csv(tmp_path / "f.csv")) == 199  # the figure left out, not wrong
    outcome = reextract.run(data, workers=1)
    assert not outcome.failed and outcome.staged == 2
    assert set(reports(data_dir=data)["status"]) == {"partial"}
    found = findings(data_dir=data, check="number_out_of_range")
    assert len(found) == 2 and set(found["row"]) == {"licensing"}
