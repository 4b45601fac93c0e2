"""A crawl killed with SIGKILL, or stopped by SIGTERM or SIGINT, mid-way resumes without
re-fetching what it finished; SIGTERM and SIGINT also leave the run's summary."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.archive import list_bodies
from pipeline.crawl.state import State
from pipeline.flows.nightly import nightly as crawl
from tests.portals import Reply, Site, article_page, corpus, fast, portal, trs_listing_page

REPORTS = 24


def build_slow_site(site: Site) -> Site:
    rows = [
        (f"./2024/t20240101_{i:04d}.html", f"第{i}乡镇2023年政府信息公开工作年度报告", "2024-01-01")
        for i in range(REPORTS)
    ]
    site.add("/nb/index.html", trs_listing_page(rows[:12], 0, 2))
    site.add("/nb/index_1.html", trs_listing_page(rows[12:], 1, 2))
    body = corpus("000.txt")
    for href, title, _ in rows:
        page = article_page(title, body).encode()
        site.routes["/nb/" + href[2:]] = Reply(
            200, page, {"Content-Type": "text/html; charset=utf-8"}, delay=0.08
        )
    return site


def ok_reports(data_dir: Path) -> set[str]:
    path = data_dir / "state" / "crawl.sqlite"
    if not path.exists():
        return set()
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            found = con.execute(
                "SELECT url FROM urls WHERE kind = 'report' AND status = 'ok'"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return set()
    return {u for (u,) in found}


def test_killed_crawl_resumes_without_refetching(serve, tmp_path: Path) -> None:
    site = serve(build_slow_site(Site()))
    data_dir = tmp_path / "data"
    config = tmp_path / "portals.toml"
    config.write_text(
        "[defaults]\ndelay = 0\nper_host = 1\nbackoff = 0.01\nretries = 2\ntimeout = 5\n"
        f'[[portal]]\nname = "测试区"\nstart_urls = ["{site.url("/nb/index.html")}"]\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.crawl",
            "--config",
            str(config),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 30
        while len(ok_reports(data_dir)) < 6 and time.monotonic() < deadline:
            assert proc.poll() is None, "crawl finished before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    finished = ok_reports(data_dir)
    assert 6 <= len(finished) < REPORTS

    site.log.clear()
    (result,) = crawl(
        [portal(site, "/nb/index.html")], data_dir, politeness_override=fast()
    ).portals
    assert result.resumed and result.completed
    refetched = {site.url(h.path) for h in site.log} & finished
    assert refetched == set()
    assert result.reports_resumed == len(finished)
    assert result.reports_new == REPORTS - len(finished)
    # no duplicate or half-written output
    state = State(data_dir)
    try:
        reports = state.rows(kind="report")
    finally:
        state.close()
    assert len(reports) == REPORTS and all(r.status == "ok" for r in reports)
    # reports extracted before the kill but not yet staged were staged on resume
    assert {r.stage_status for r in reports} == {"staged"}
    assert not list((data_dir / "raw").rglob("*.part"))
    urls = [b.url for b in list_bodies(data_dir, kinds=["report"])]
    assert sorted(urls) == sorted(set(urls)) and len(urls) == REPORTS


def start_crawl(site: Site, tmp_path: Path, data_dir: Path) -> subprocess.Popen[str]:
    config = tmp_path / "portals.toml"
    config.write_text(
        "[defaults]\ndelay = 0\nper_host = 1\nbackoff = 0.01\nretries = 2\ntimeout = 5\n"
        f'[[portal]]\nname = "测试区"\nstart_urls = ["{site.url("/nb/index.html")}"]\n',
        encoding="utf-8",
    )
    return subprocess.Popen(
        [
            sys.executable, "-m", "pipeline", "crawl", "--config", str(config),
            "--data-dir", str(data_dir), "--summary-json", str(tmp_path / "summary.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signalled_crawl_saves_state_and_summary_and_resumes(
    serve, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    site = serve(build_slow_site(Site()))
    data_dir = tmp_path / "data"
    proc = start_crawl(site, tmp_path, data_dir)
    try:
        deadline = time.monotonic() + 30
        while len(ok_reports(data_dir)) < 6 and time.monotonic() < deadline:
            assert proc.poll() is None, "crawl finished before it could be stopped"
            time.sleep(0.02)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert f"interrupted by {sig.name}: state saved, the next run resumes (exit {code})" in err
    assert "测试区: listing pages" in out and "(interrupted: resumes next run)" in out
    # the summary: in runs/, at --summary-json, and in the state
    doc = json.loads((data_dir / "runs" / "latest.json").read_text(encoding="utf-8"))
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8")) == doc
    assert (doc["exit_code"], doc["verdict"], doc["interrupted_by"]) == (
        code, "interrupted", sig.name,
    )  # fmt: skip
    (portal_doc,) = doc["portals"]
    assert portal_doc["outcome"] == "interrupted" and not portal_doc["completed"]
    finished = ok_reports(data_dir)
    assert 6 <= len(finished) < REPORTS
    state = State(data_dir)
    try:
        (last,) = state.crawls()
    finally:
        state.close()
    assert last.exit_code == code and last.finished_at

    # resumable: the next run completes and fetches none of the finished reports again
    site.log.clear()
    (result,) = crawl(
        [portal(site, "/nb/index.html")], data_dir, politeness_override=fast()
    ).portals
    assert result.resumed and result.completed and result.outcome == "ok"
    assert {site.url(h.path) for h in site.log} & finished == set()
    assert result.reports_resumed == len(finished)
    assert result.reports_new == REPORTS - len(finished)
    state = State(data_dir)
    try:
        reports = state.rows(kind="report")
    finally:
        state.close()
    assert len(reports) == REPORTS and {r.stage_status for r in reports} == {"staged"}
