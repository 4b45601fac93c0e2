"""A crawl of five portals, two of them dead (a listing answering 500, a closed port):
exit 5, the JSON summary under runs/ and at --summary-json, the state's counters, and
``status`` showing what failed. Loopback servers only."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout

import pytest

from pipeline.cli import main
from pipeline.cli.exit_codes import ExitCode
from pipeline.crawl import State
from tests.portals import Reply, Site, article_page, build_trs_site, serving

NO_TABLES = "/zfxxgknb/202003/t20200311_2593126.html"  # p2's copy of this report: no tables


def closed_port() -> int:
    with socket.socket() as sock:  # bound, then closed: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """p0, p1 healthy TRS columns (6 reports each); p2 healthy but one report has no
    tables; p3 a listing answering 500; p4 a closed port. One crawl, shared below."""
    tmp_path = tmp_path_factory.mktemp("partial")
    with serving() as serve:
        good, other = serve(build_trs_site(Site())), serve(build_trs_site(Site()))
        notables = build_trs_site(Site())
        notables.add(NO_TABLES, article_page("柯城区2019年政府信息公开工作年度报告", "无表格"))
        notables = serve(notables)
        dead = Site()
        dead.routes["/nb/"] = Reply(500, b"<html>Internal Server Error</html>", etag=False)
        dead = serve(dead)
        urls = {
            "p0": good.url("/zfxxgknb/"),
            "p1": other.url("/zfxxgknb/"),
            "p2": notables.url("/zfxxgknb/"),
            "p3": dead.url("/nb/"),
            "p4": f"http://127.0.0.1:{closed_port()}/nb/",
        }
        config = tmp_path / "portals.toml"
        config.write_text(
            "[defaults]\ndelay = 0\nbackoff = 0.01\nbackoff_max = 0.02\nretries = 2\n"
            "timeout = 2\n"
            + "".join(
                f'[[portal]]\nname = "{n}"\nregion_code = "330802"\nstart_urls = ["{u}"]\n'
                for n, u in urls.items()
            ),
            encoding="utf-8",
        )
        data_dir = tmp_path / "data"
        extra = tmp_path / "monitor.json"
        code, out, err = run(
            "crawl", "--config", str(config), "--data-dir", str(data_dir),
            "--summary-json", str(extra),
        )  # fmt: skip
    yield {"code": code, "out": out, "err": err, "data_dir": data_dir, "extra": extra, "urls": urls}


def test_two_dead_portals_of_five_exit_with_the_partial_code(crawled) -> None:
    assert crawled["code"] == ExitCode.PARTIAL == 5
    assert "some portals failed or were blocked: p3, p4 (exit 5)" in crawled["err"]
    out = crawled["out"]
    assert "p3: listing pages 0" in out and "[FAILED]" in out
    assert "p0: listing pages 2, reports new 6" in out


def test_the_json_summary_is_under_runs_and_at_summary_json(crawled) -> None:
    runs = crawled["data_dir"] / "runs"
    (stamped,) = [p for p in runs.glob("*.json") if p.name != "latest.json"]
    assert stamped.name.endswith("Z.json") and f"summary: {stamped}" in crawled["out"]
    doc = json.loads(stamped.read_text(encoding="utf-8"))
    assert json.loads((runs / "latest.json").read_text(encoding="utf-8")) == doc
    assert json.loads(crawled["extra"].read_text(encoding="utf-8")) == doc
    assert not list(runs.glob(".*.tmp"))  # written atomically: no temporary file left
    assert doc["exit_code"] == 5 and doc["verdict"] == "partial"
    assert doc["interrupted_by"] is None
    assert doc["started_at"] <= doc["finished_at"]
    portals = {p["name"]: p for p in doc["portals"]}
    assert {n: p["outcome"] for n, p in portals.items()} == {
        "p0": "ok", "p1": "ok", "p2": "ok", "p3": "failed", "p4": "failed",
    }  # fmt: skip
    assert portals["p3"]["reasons"] == {"failed: HTTP 500": 1}
    assert portals["p3"]["outcomes"] == {"failed": 1}
    assert [p["url"] for p in portals["p3"]["problems"]] == [crawled["urls"]["p3"]]
    assert portals["p4"]["problems"][0]["error"].startswith("connect-error")
    assert portals["p0"]["reports"] == {"new": 6, "changed": 0, "unchanged": 0, "resumed": 0}
    assert portals["p0"]["counts"]["listing_pages"] == 2
    assert portals["p0"]["unreadable"] == {"no_tables": 0, "error": 0}
    assert portals["p2"]["unreadable"] == {"no_tables": 1, "error": 0}
    assert all(p["seconds"] > 0 for p in doc["portals"])
    totals = doc["totals"]
    assert (totals["portals"], totals["portals_ok"], totals["portals_failed"]) == (5, 3, 2)
    assert totals["reports_new"] == 18 and totals["unreadable_no_tables"] == 1


def test_the_state_keeps_the_runs_counters(crawled) -> None:
    state = State(crawled["data_dir"], readonly=True)
    try:
        (last,) = state.crawls(limit=5)
        counters = state.counters(last.id)
    finally:
        state.close()
    assert (last.exit_code, last.verdict) == (5, "partial") and last.finished_at
    assert json.loads(last.summary or "")["crawl_id"] == last.id
    assert counters["p0"]["reports_new"] == 6 and counters["p0"]["listing_pages"] == 2
    assert counters["p3"]["listing_failed"] == 1
    assert counters["p3"]["reason:failed: HTTP 500"] == 1
    assert counters["p2"]["unreadable:no_tables"] == 1


def test_status_shows_the_last_run_the_failures_and_the_reports_to_look_at(crawled) -> None:
    code, out, _ = run("status", "--data-dir", str(crawled["data_dir"]))
    assert code == 0
    assert "exit 5 (some portals failed or were blocked)" in out
    lines = out.splitlines()
    p3 = next(line for line in lines if line.startswith("p3 ") and "failed" in line)
    assert p3.split()[:2] == ["p3", "failed"]
    assert any(crawled["urls"]["p3"] in line and "HTTP 500" in line for line in lines)
    assert any(crawled["urls"]["p4"] in line and "connect-error" in line for line in lines)
    assert any("no_tables" in line and NO_TABLES in line for line in lines)
    # 平潭 2020 (corpus 044) prints an outcome total that its rows do not add up to
    assert any("outcome_sum" in line and "平潭" in line for line in lines)


def test_status_json_is_the_same_for_scripts(crawled) -> None:
    code, out, _ = run("status", "--json", "--data-dir", str(crawled["data_dir"]))
    assert code == 0
    doc = json.loads(out)
    assert doc["last_crawl"]["exit_code"] == 5 and doc["unfinished_crawl"] is None
    failing = {(r["portal"], r["url"]) for r in doc["failing_urls"]}
    assert failing == {("p3", crawled["urls"]["p3"]), ("p4", crawled["urls"]["p4"])}
    attention = doc["reports_needing_attention"]
    no_tables = [(r["portal"], r["url"]) for r in attention if r["extract_status"] == "no_tables"]
    assert no_tables == [("p2", crawled["urls"]["p2"].replace("/zfxxgknb/", NO_TABLES))]
    assert {r["extract_status"] for r in attention} == {"no_tables", "partial"}
    assert {i["check"] for i in doc["identities_failed"]} == {"outcome_sum"}
    assert all(i["url"] for i in doc["identities_failed"])


def test_status_limit_cuts_long_lists(crawled) -> None:
    code, out, _ = run("status", "--limit", "1", "--data-dir", str(crawled["data_dir"]))
    assert code == 0 and "... and 1 more (--limit 0 shows all)" in out


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_status_to_a_reader_that_stops_early_is_no_error(crawled, extra) -> None:
    """``status | head``: the reader closes the pipe before anything is printed; the
    command ends with its own exit code, and no traceback."""
    command = [sys.executable, "-m", "pipeline", "status", *extra]
    command += ["--data-dir", str(crawled["data_dir"])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # before the command has printed anything: it imports first
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and stderr == b""


def test_status_without_a_crawl_state_says_so(tmp_path) -> None:
    code, _, err = run("status", "--data-dir", str(tmp_path))
    assert code == ExitCode.FAILED and "no crawl has run" in err
