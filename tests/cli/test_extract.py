"""``python -m pipeline extract SOURCE``: outputs, and one-line errors with non-zero exits."""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.datasets import FACTS_SCHEMA
from tests.corpus import CORPUS

SEED = CORPUS / "raw" / "000.txt"


@pytest.fixture(scope="module")
def corpus_server() -> Iterator[str]:
    """The corpus served over real HTTP on 127.0.0.1."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(CORPUS / "raw"))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, timeout=60
    )


def test_default_output_lays_out_the_three_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert "三、收到和处理政府信息公开申请情况" in out
    new_received = next(line for line in out.splitlines() if line.startswith("new_received"))
    assert new_received.split() == ["new_received", "30", "0", "0", "0", "0", "0", "30"]
    assert "findings: 42 pass" in out


def test_jsonl_has_one_object_per_fact(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(CORPUS / "raw" / "043.html"), "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 200
    by_key = {(r["table"], r["row"], r["column"]): r["value"] for r in records}
    assert by_key[("active_disclosure", "normative_documents", "in_force")] == 698
    assert by_key[("active_disclosure", "fees", "amount_10k_yuan")] is None  # money: amount
    fee = next(r for r in records if r["column"] == "amount_10k_yuan")
    assert fee["amount"] == "9116.36" and fee["unit"] == "万元"  # exact, as printed
    assert by_key[("reviews_lawsuits", "review", "total")] == 2
    staged_columns = [f.name for f in FACTS_SCHEMA] + ["report_year"]
    assert list(records[0]) == [*staged_columns, "source"]
    assert {r["source"] for r in records} == {str(CORPUS / "raw" / "043.html")}
    assert {r["report_year"] for r in records} == {2022}


def test_csv_and_parquet_files(tmp_path: Path) -> None:
    assert main(["extract", str(SEED), "--format", "csv", "-o", str(tmp_path / "f.csv")]) == 0
    assert main(["extract", str(SEED), "--format", "parquet", "-o", str(tmp_path / "f.pq")]) == 0
    csv = pd.read_csv(tmp_path / "f.csv")
    parquet = pd.read_parquet(tmp_path / "f.pq")
    assert len(csv) == len(parquet) == 200
    total = parquet[(parquet.row == "carried_forward") & (parquet.column == "total")]
    assert total.value.tolist() == [10]
    assert (
        list(csv.columns)
        == list(parquet.columns)
        == [
            *(f.name for f in FACTS_SCHEMA),
            "report_year",
            "source",
        ]
    )
    schema = pq.read_schema(tmp_path / "f.pq")
    assert schema.field("amount").type == FACTS_SCHEMA.field("amount").type  # decimal, as staged


def test_url_over_loopback(corpus_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", f"{corpus_server}/042.html", "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    totals = [r["value"] for r in records if r["row"] == "new_received" and r["column"] == "total"]
    assert totals == [26]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("source", "code", "reason"),
    [
        (str(CORPUS.parent / "portals" / "03-trs-article-meta.html"), 4, "no report tables found"),
        ("/no/such/report.html", 1, "cannot read file"),
        (f"http://127.0.0.1:{_closed_port()}/report.html", 1, "unreachable"),
    ],
)
def test_errors_are_one_line_and_non_zero(source: str, code: int, reason: str) -> None:
    result = run_cli("extract", source)
    assert result.returncode == code
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_http_error_status(corpus_server: str) -> None:
    result = run_cli("extract", f"{corpus_server}/missing.html")
    assert result.returncode == 1
    assert "HTTP 404" in result.stderr and "Traceback" not in result.stderr


def test_stage_then_reextract_reads_the_archived_body(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        main(["extract", str(CORPUS / "raw" / "043.html"), "--stage", "--data-dir", str(data)]) == 0
    )
    facts = pd.read_parquet(data / "parquet" / "facts")
    assert len(facts) == 200
    result = run_cli("reextract", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert len(pd.read_parquet(data / "parquet" / "facts")) == 200


def test_a_reader_that_stops_early_gets_no_error_and_the_report_is_staged(
    tmp_path: Path,
) -> None:
    """``extract ... | head``: the reader closes the pipe before the figures are printed.
    The rest of the output is dropped quietly, and the command still stages the report
    and exits as it would have (no "cannot write", no traceback)."""
    data = tmp_path / "data"
    argv = ["extract", str(CORPUS / "raw" / "043.html"), "--format", "jsonl", "--stage"]
    command = [sys.executable, "-m", "pipeline", *argv, "--data-dir", str(data)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # before the command has printed anything: it imports first
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert b"error" not in stderr and b"Traceback" not in stderr
    assert b"staged into" in stderr
    assert len(pd.read_parquet(data / "parquet" / "facts")) == 200


def test_stage_into_an_unusable_directory_is_one_line(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run_cli("extract", str(SEED), "--stage", "--data-dir", str(not_a_dir))
    assert result.returncode == 1
    assert "cannot stage" in result.stderr and "Traceback" not in result.stderr


def test_stage_waits_for_no_crawl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.datadir import WriterLock

    with WriterLock(tmp_path):  # a crawl is running on this data directory
        assert main(["extract", str(SEED), "--stage", "--data-dir", str(tmp_path)]) == 3  # locked
    assert "another crawl or re-extraction is writing" in capsys.readouterr().err
    assert not (tmp_path / "parquet").exists()
