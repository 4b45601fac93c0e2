"""Command-line options shared by every command: --version, the logging options before
and after the command, $OGI_DATA_DIR, reextract --since, the demo's directory and port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import pipeline.cli.demo as demo_command
from pipeline.cli import main
from pipeline.datadir import ENV_VAR
from pipeline.extract import EXTRACTOR_VERSION
from pipeline.version import __version__
from tests.portals import Site, build_trs_site

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "portals.toml"
    path.write_text(
        "[defaults]\ndelay = 0\nbackoff = 0.01\nbackoff_max = 0.02\nretries = 2\ntimeout = 2\n"
        f'[[portal]]\nname = "p0"\nstart_urls = ["{url}"]\n',
        encoding="utf-8",
    )
    return path


def pipeline_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"gov-ogi-pipeline {__version__} (extractor {EXTRACTOR_VERSION})"
    )


@pytest.mark.parametrize(
    ("options", "debug", "info", "httpx"),
    [
        ([], False, True, False),  # default: INFO, no per-request httpx lines
        (["crawl", "-v"], True, True, True),  # -v after the command
        (["-q", "crawl"], False, False, False),  # -q before it: warnings and errors only
    ],
    ids=["default", "crawl -v", "-q crawl"],
)
def test_verbosity_before_or_after_the_command(
    serve, tmp_path, options, debug, info, httpx
) -> None:
    site = serve(build_trs_site(Site()))
    args = options if "crawl" in options else ["crawl", *options]
    result = pipeline_run(
        *args, "--config", str(config(tmp_path, site.url("/zfxxgknb/"))),
        "--data-dir", str(tmp_path / "d"), "--max-pages", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (" DEBUG " in result.stderr) == debug
    assert (" INFO pipeline" in result.stderr) == info
    assert ("HTTP Request:" in result.stderr) == httpx  # httpx's INFO line per request
    # not a terminal: no progress bar, no carriage returns or escape codes
    assert "\r" not in result.stderr and "\x1b[" not in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_json_log_lines_to_a_log_file(serve, tmp_path, where) -> None:
    site = serve(build_trs_site(Site()))
    log = tmp_path / "crawl.log"
    logging_options = ["--log-format", "json", "--log-file", str(log)]
    crawl = [
        "crawl", "--config", str(config(tmp_path, site.url("/zfxxgknb/"))),
        "--data-dir", str(tmp_path / "d"),
    ]  # fmt: skip
    args = [*logging_options, *crawl] if where == "before" else [*crawl, *logging_options]
    result = pipeline_run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # every log line went to the file
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records and {"time", "level", "logger", "message"} <= set(records[0])
    assert {r["event"] for r in records if "event" in r} >= {"portal_start", "portal_done"}
    assert all(r["time"].endswith("+00:00") for r in records)


def test_unwritable_log_file_is_a_usage_error(tmp_path, capsys) -> None:
    code = main(["status", "--log-file", str(tmp_path / "no" / "such" / "dir.log")])
    assert code == 2 and "--log-file" in capsys.readouterr().err


def test_every_command_honours_ogi_data_dir(tmp_path, monkeypatch, capsys) -> None:
    data_dir = tmp_path / "from-env"
    monkeypatch.setenv(ENV_VAR, str(data_dir))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["crawl", "--config", str(config(tmp_path, f"http://127.0.0.1:{port}/"))]) == 1
    assert (data_dir / "state" / "crawl.sqlite").is_file()
    assert (data_dir / "runs" / "latest.json").is_file()
    capsys.readouterr()
    assert main(["status"]) == 0
    assert f"Data directory: {data_dir}" in capsys.readouterr().out
    assert main(["reextract"]) == 1  # nothing archived there yet: says where it looked
    assert str(data_dir) in capsys.readouterr().err


@pytest.mark.parametrize("since", ["latest", "v1.0", "1..0", "", "1.0.0.0.0"])
def test_reextract_since_rejects_what_is_not_a_version(tmp_path, since, capsys) -> None:
    assert main(["reextract", "--data-dir", str(tmp_path), "--since", since]) == 2
    err = capsys.readouterr().err
    assert "is not an extractor version" in err and EXTRACTOR_VERSION in err
    assert err.startswith("usage:")


def test_reextract_since_takes_a_version(tmp_path, capsys) -> None:
    # a valid version gets past the command line (then: nothing to re-extract here)
    assert main(["reextract", "--data-dir", str(tmp_path), "--since", "1.0"]) == 1
    assert "no raw archive" in capsys.readouterr().err


def test_demo_writes_to_its_own_directory_on_a_free_port(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "production"))  # never the demo's
    with socket.socket() as busy:  # the default port is taken: the demo picks another
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setattr(demo_command, "DEFAULT_PORT", busy.getsockname()[1])
        assert main(["demo"]) == 0
    captured = capsys.readouterr()
    assert "is in use; serving on a free port" in captured.err
    assert (tmp_path / "data-demo" / "parquet" / "reports").is_dir()
    assert not (tmp_path / "production").exists()
    assert "data-demo/parquet/facts" in captured.out


def test_make_demo_passes_port() -> None:
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "demo", "PORT=9123"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    assert "-m pipeline demo --port 9123" in dry.stdout
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "demo"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    assert "--port" not in dry.stdout


def test_notebook_extra_has_jupyterlab_and_nbconvert() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {d.split(">")[0].split("=")[0] for d in project["optional-dependencies"]["notebook"]}
    assert {"jupyterlab", "nbconvert", "ipykernel", "matplotlib"} <= names
    assert any(d.startswith("rich") for d in project["dependencies"])
