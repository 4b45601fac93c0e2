"""``python -m pipeline COMMAND`` loads what COMMAND needs: ``--help`` lists every command
from the command table, and a command's module, with the libraries of its work, is
imported only when that command runs."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pipeline.cli
from pipeline.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "tests" / "fixtures" / "corpus" / "raw" / "043.html"
#: Modules ``extract FILE`` has no use for: the crawler, staging, the HTTP client, DuckDB,
#: the other commands, and rich off a terminal (these runs' stderr is a pipe).
NOT_FOR_EXTRACT = [
    "duckdb",
    "rich",
    "httpx",
    "pipeline.crawl",
    "pipeline.stage",
    "pipeline.flows.oneoff_staging",
    *(c.module for c in COMMANDS if c.name != "extract"),
]


def loaded_after(
    argv: list[str], tmp_path: Path, modules: list[str] = NOT_FOR_EXTRACT
) -> tuple[int, list[str], str]:
    """Run ``main(argv)`` in a fresh interpreter: its exit code, which of ``modules`` it
    imported, and what it printed (stdout, then stderr)."""
    out = tmp_path / "loaded.json"
    code = (
        "import json, sys\n"
        "from pipeline.cli import main\n"
        f"rc = main({argv!r})\n"
        f"loaded = [m for m in {modules!r} if m in sys.modules]\n"
        f"open({str(out)!r}, 'w').write(json.dumps([rc, loaded]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    rc, loaded = json.loads(out.read_text())
    return rc, loaded, done.stdout + done.stderr


def test_extract_of_a_file_loads_no_crawler_staging_or_http_client(tmp_path: Path) -> None:
    rc, loaded, printed = loaded_after(["extract", str(REPORT)], tmp_path)
    assert rc == 0 and loaded == []
    assert "findings:" in printed  # the report's tables were printed


def test_extract_stage_loads_staging_and_nothing_of_the_crawler(tmp_path: Path) -> None:
    argv = ["extract", str(REPORT), "--stage", "--data-dir", str(tmp_path / "data")]
    rc, loaded, _ = loaded_after(argv, tmp_path)
    assert rc == 0 and "pipeline.stage" in loaded and "pipeline.crawl" not in loaded
    assert (tmp_path / "data" / "parquet").is_dir()


def test_status_loads_no_crawl_engine(tmp_path: Path) -> None:
    """``status`` reads the crawl state: the engine, the HTTP client and the browser tier
    stay unloaded (``pipeline.crawl`` imports its engine on first use)."""
    engine = ["pipeline.crawl.engine", "pipeline.crawl.fetch", "pipeline.crawl.browser", "httpx"]
    argv = ["status", "--data-dir", str(tmp_path / "data")]
    rc, loaded, printed = loaded_after(argv, tmp_path, engine)
    assert rc == 1 and loaded == []  # read the state, found none
    assert "no crawl state here" in printed


def test_help_lists_every_command_with_its_help_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per command
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for command in COMMANDS:
        assert f"{command.name} {command.help}" in out


def test_every_command_module_is_in_the_table() -> None:
    """A command module left out of :data:`COMMANDS` would be a command nobody can run."""
    with_arguments = {
        f"pipeline.cli.{m.name}"
        for m in pkgutil.iter_modules(pipeline.cli.__path__)
        if hasattr(importlib.import_module(f"pipeline.cli.{m.name}"), "add_arguments")
    }
    assert with_arguments == {c.module for c in COMMANDS}
    assert len(COMMANDS) == 8
