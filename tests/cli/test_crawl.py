"""The ``crawl`` command: exit codes and the closing summary."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main as pipeline_main
from pipeline.crawl.__main__ import main
from tests.portals import Site, build_trs_site


def config(tmp_path: Path, *urls: str) -> Path:
    path = tmp_path / "portals.toml"
    entries = "".join(
        f'[[portal]]\nname = "p{i}"\nregion_code = "330802"\nstart_urls = ["{u}"]\n'
        for i, u in enumerate(urls)
    )
    path.write_text(
        "[defaults]\ndelay = 0\nbackoff = 0.01\nbackoff_max = 0.02\nretries = 2\ntimeout = 2\n"
        + entries,
        encoding="utf-8",
    )
    return path


def test_crawl_command_prints_a_summary_per_portal(serve, tmp_path, capsys) -> None:
    site = serve(build_trs_site(Site()))
    cfg = config(tmp_path, site.url("/"), site.url("/zfxxgknb/"))
    code = main(["--config", str(cfg), "--data-dir", str(tmp_path / "d"), "--portal", "p0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "p0: listing pages 3, reports new 6" in out
    assert "p1:" not in out


def test_pipeline_cli_has_the_crawl_command(serve, tmp_path, capsys) -> None:
    site = serve(build_trs_site(Site()))
    cfg = config(tmp_path, site.url("/zfxxgknb/"))
    code = pipeline_main(
        ["crawl", "--config", str(cfg), "--data-dir", str(tmp_path / "d"), "--max-pages", "2"]
    )
    assert code == 0
    assert "incomplete: resumes next run" in capsys.readouterr().out


def test_bad_config_exits_2_with_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portal]]\nname = "柯城区"\nstart_urls = ["kecheng.gov.cn"]\n')
    assert main(["--config", str(bad), "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "portal '柯城区': field 'start_urls'" in err
    assert main(["--config", str(bad.with_name("none.toml"))]) == 2
    ok = config(tmp_path, "http://127.0.0.1:1/")
    assert main(["--config", str(ok), "--portal", "nope", "--data-dir", str(tmp_path)]) == 2


def test_nothing_fetched_exits_1(tmp_path, capsys) -> None:
    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = config(tmp_path, f"http://127.0.0.1:{port}/nb/")
    assert main(["--config", str(cfg), "--data-dir", str(tmp_path / "d")]) == 1
    captured = capsys.readouterr()
    assert "nothing at all could be fetched" in captured.err
    assert "failed 1" in captured.out


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_pages_must_be_positive(tmp_path, value, capsys) -> None:
    cfg = config(tmp_path, "http://127.0.0.1:1/")
    assert main(["--config", str(cfg), "--max-pages", value, "--data-dir", str(tmp_path)]) == 2


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.parametrize("where", ["file", "under-file", "state-is-file"])
def test_unusable_data_dir_is_one_line_not_a_traceback(tmp_path, where) -> None:
    cfg = config(tmp_path, "http://127.0.0.1:1/")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    data_dirs = {"file": blocker, "under-file": blocker / "data", "state-is-file": tmp_path / "d"}
    data_dir = data_dirs[where]
    if where == "state-is-file":  # the directory exists but its state/ cannot be made
        data_dir.mkdir()
        (data_dir / "state").write_text("")
    result = run_module("pipeline", "crawl", "--config", str(cfg), "--data-dir", str(data_dir))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("crawl:")]
    assert len(lines) == 1 and str(data_dir) in lines[0]


@pytest.mark.parametrize("verbose_at", [0, 2, None])
def test_python_m_pipeline_crawl_takes_the_crawl_options(serve, tmp_path, verbose_at) -> None:
    site = serve(build_trs_site(Site()))
    cfg = config(tmp_path, site.url("/zfxxgknb/"))
    args = ["--config", str(cfg), "--data-dir", str(tmp_path / "d"), "--max-pages", "2"]
    if verbose_at is not None:
        args.insert(verbose_at, "-v")
    result = run_module("pipeline.crawl", *args)
    assert result.returncode == 0, result.stderr
    assert "p0: listing pages" in result.stdout
    assert ("DEBUG" in result.stderr) == (verbose_at is not None)
