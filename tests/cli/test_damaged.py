"""Damaged files under the data directory: one line saying what and how to recover."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_a_garbage_crawl_state_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "crawl.sqlite").write_bytes(b"this is not a database\x00" * 100)
    config = tmp_path / "portals.toml"
    config.write_text('[[portal]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    result = _run("crawl", "--config", str(config), "--data-dir", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "damaged" in line and "move state/crawl.sqlite" in line


def test_a_damaged_parquet_file_is_one_line(tmp_path: Path) -> None:
    seed = CORPUS / "raw" / "000.txt"
    assert _run("extract", str(seed), "--stage", "--data-dir", str(tmp_path)).returncode == 0
    (part,) = (tmp_path / "parquet" / "reports").glob("*/*.parquet")
    part.write_bytes(part.read_bytes()[:100])  # cut short
    result = _run("reextract", "--data-dir", str(tmp_path), "--no-progress")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "staged Parquet file is damaged" in result.stderr
    assert "reextract" in result.stderr
