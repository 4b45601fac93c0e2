"""Extraction in worker processes: real figures, and a hostile document stopped by its budget."""

from __future__ import annotations

import threading

from pipeline.flows.bounded import BoundedExtractor
from tests.corpus import CORPUS


def test_workers_extract_the_real_figures_from_several_threads() -> None:
    seed = (CORPUS / "raw" / "000.txt").read_bytes()
    page = (CORPUS / "raw" / "043.html").read_bytes()
    results: dict[str, int | None] = {}
    with BoundedExtractor(workers=2) as extract:

        def one(name: str, content: bytes) -> None:
            report = extract(content, source=name)
            fact = report.fact("applications/new_received/total")
            results[name] = None if fact is None else fact.value

        threads = [
            threading.Thread(target=one, args=(f"{n}-{i}", body))
            for i in range(3)
            for n, body in (("seed", seed), ("043", page))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert {k.split("-")[0]: v for k, v in results.items()} == {"seed": 30, "043": 74}  # gold
    assert len(results) == 6


def test_a_document_over_its_time_budget_is_stopped_once_and_the_worker_replaced() -> None:
    # 2 MB of table cells (under the cap of table tags): a second or more of parsing, far
    # over a budget of a fifth of a second
    hostile = ("<table>" + "<tr><td>行政许可</td><td>1</td></tr>" * 60_000 + "</table>").encode()
    with BoundedExtractor(workers=1, seconds=0.2) as extract:
        report = extract(hostile, source="hostile.html")
        assert report.meta.status == "unreadable" and report.fact_list == []
        (finding,) = report.finding_list
        assert finding.check == "budget_exceeded" and "longer than" in finding.message
    with BoundedExtractor(workers=1) as extract:  # a fresh worker reads the next one
        again = extract((CORPUS / "raw" / "000.txt").read_bytes(), source="seed")
        assert again.meta.status == "ok"


def test_a_document_over_its_memory_budget_is_stopped() -> None:
    # 200 MB of text: reading it needs more than the 700 MiB this worker may use
    huge = b"<html><body><p>" + b"9" * 200_000_000 + b"</p></body></html>"
    with BoundedExtractor(workers=1, memory=700 * 2**20) as extract:
        report = extract(huge, source="huge.html")
    assert report.meta.status == "unreadable"
    assert report.finding_list[0].check == "budget_exceeded"
