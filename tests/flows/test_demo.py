"""The offline demo end to end (real crawler, real extractor), reextract, and the notebook."""

from __future__ import annotations

import os
import socket
from decimal import Decimal
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from pipeline.cli import main
from pipeline.flows import reextract
from pipeline.flows.demo import run_demo
from tests.gold_items import gold

ROOT = Path(__file__).resolve().parents[2]

#: Demo page path -> corpus document (see pipeline/demo/SOURCES.md).
PAGES = {
    "/pingtan/xxgknb/201801/t20180123_80506.txt": "056",
    "/pingtan/xxgknb/202103/t20210305_80595.html": "044",
    "/pingtan/xxgknb/202202/t20220208_80613.txt": "001",
    "/pingtan/xxgknb/202302/t20230220_80629.html": "043",
    "/kecheng/xxgknb/202401/t20240120_1.txt": "000",
    "/shuyang/xxgknb/202401/2ecfb31a335f4d689220a3a23e24a986.html": "042",
    "/shanghai/xxgknb/202003/t20200331_1.html": "021",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _counts(data_dir: Path) -> dict[str, int]:
    return {
        n: len(pd.read_parquet(data_dir / "parquet" / n))
        for n in ("reports", "facts", "findings", "pre2019")
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    data_dir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    run_demo(data_dir, port=port)
    return data_dir, port


def test_demo_stages_the_sample_reports_with_their_real_figures(demo: tuple[Path, int]) -> None:
    data_dir, _ = demo
    reports = pd.read_parquet(data_dir / "parquet" / "reports")
    paths = {url.split(":", 2)[2].split("/", 1)[1] for url in reports["url"]}
    assert {"/" + p for p in paths} == set(PAGES)
    facts = pd.read_parquet(data_dir / "parquet" / "facts").merge(
        reports[["report_id", "url"]], on="report_id"
    )
    wrong = []
    for url, mine in facts.groupby("url"):
        doc = PAGES["/" + url.split(":", 2)[2].split("/", 1)[1]]
        expected = gold(doc)["facts"]
        for t, r, c, v, a in zip(
            mine["table"], mine["row"], mine["column"], mine["value"], mine["amount"], strict=True
        ):
            key = f"{t}/{r}/{c}"
            number = a if a is not None else (None if pd.isna(v) else int(v))
            if number is not None and key in expected and Decimal(str(expected[key])) != number:
                wrong.append((doc, key, number, expected[key]))
    assert not wrong  # no staged figure differs from the hand-checked gold
    by_key = facts.set_index(["url", "table", "row", "column"])

    def figure(doc: str, key: str) -> object:
        url = next(
            u for u in reports["url"] if u.endswith(next(p for p, d in PAGES.items() if d == doc))
        )
        row = by_key.loc[(url, *key.split("/"))]
        return row["amount"] if row["amount"] is not None else row["value"]

    assert figure("043", "applications/new_received/total") == 74
    assert figure("000", "applications/carried_forward/total") == 10
    assert figure("044", "active_disclosure/procurement/amount") == Decimal("73802895.90")
    pingtan = reports[reports["region_code"] == "350128"]
    assert sorted(pingtan["report_year"].astype(int)) == [2017, 2020, 2021, 2022]
    # 2017: no national table, its 统计表 in the fourth dataset, every figure as the gold
    older = pd.read_parquet(data_dir / "parquet" / "pre2019")
    values = zip(older["label"], older["period"], older["value"], strict=True)
    got = {f"{k} [{p}]": (None if pd.isna(v) else int(v)) for k, p, v in values}
    assert got == gold("056")["pre2019_figures"]


def test_demo_and_reextract_again_leave_row_counts_unchanged(demo: tuple[Path, int]) -> None:
    data_dir, port = demo
    before = _counts(data_dir)
    run_demo(data_dir, port=port)
    assert _counts(data_dir) == before
    outcome = reextract.run(data_dir, workers=2)
    assert outcome.examined == before["reports"] and not outcome.failed
    assert outcome.changed == {}  # same extractor, same bodies: same figures
    assert _counts(data_dir) == before


def test_notebook_executes_against_demo_data(demo: tuple[Path, int]) -> None:
    data_dir, _ = demo
    notebook = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    os.environ["OGI_DATA_DIR"] = str(data_dir)  # the kernel inherits it
    try:
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT / "notebooks")}},
        ).execute()
    finally:
        del os.environ["OGI_DATA_DIR"]
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    images = [
        o
        for c in notebook.cells
        for o in c.get("outputs", [])
        if o.output_type == "display_data" and "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3


def test_reextract_command_prints_a_summary(demo: tuple[Path, int], capsys) -> None:
    data_dir, _ = demo
    assert main(["reextract", "--data-dir", str(data_dir), "--no-progress", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "re-extracted 7 documents" in out and "0 with changed figures" in out


def test_commands_fail_with_one_line(tmp_path: Path, capsys) -> None:
    assert main(["reextract", "--data-dir", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--data-dir", str(tmp_path / "d"), "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in use" in err


def test_demo_on_another_port_keeps_one_copy_of_each_report(tmp_path: Path) -> None:
    first, second = _free_port(), _free_port()
    run_demo(tmp_path, port=first)
    before = _counts(tmp_path)
    assert before["reports"] == len(PAGES)
    run_demo(tmp_path, port=second)
    assert _counts(tmp_path) == before
    reports = pd.read_parquet(tmp_path / "parquet" / "reports")
    assert all(f":{second}/" in url for url in reports["url"])  # the latest run's copies
    facts = pd.read_parquet(tmp_path / "parquet" / "facts")
    assert set(facts["report_id"].astype(str)) <= set(reports["report_id"])
    # Back on the first port: the crawler finds nothing new, and nothing is lost or doubled.
    run_demo(tmp_path, port=first)
    assert _counts(tmp_path) == before
