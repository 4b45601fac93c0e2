"""Crawl benchmark: a generated TRS-style portal of N reports on loopback, politeness off.

Prints figures, asserts nothing about time:

1. first crawl: pages fetched, seconds, pages/s, peak RSS of the crawling process;
2. the same portal re-crawled unchanged: requests made, how the server answered them
   (counted by the server: 304s, 200s, ...) and seconds.

    .venv/bin/python benchmarks/bench_crawl.py [--reports 2000] [--per-page 20] [--no-extract]

The fixture server runs in a child process, which builds the pages itself, so that neither
its CPU nor its memory (the page dict included) is counted in the crawling process.
Report bodies are the corpus reports in tests/fixtures/corpus/raw, cycled.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.crawl import Politeness, PortalConfig  # noqa: E402
from pipeline.flows.nightly import nightly as crawl  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "raw"
ROW = '<tr><td><a href="./{d}/t{d}01_{i}.html" title="{t}">{t}</a></td><td>{date}</td></tr>'


def build_pages(reports: int, per_page: int, offset: int = 0) -> dict[str, bytes]:
    """The portal's pages by path; ``offset`` shifts the cycle of corpus bodies (a farm of
    portals gives each its own reports)."""
    bodies = [p.read_bytes() for p in sorted(CORPUS.iterdir()) if p.is_file()]
    pages: dict[str, bytes] = {}
    count = -(-reports // per_page)
    for page in range(count):
        rows = []
        for i in range(page * per_page, min(reports, (page + 1) * per_page)):
            d = f"2024{(i % 12) + 1:02d}"
            title = f"第{i}号单位{2014 + i % 10}年政府信息公开工作年度报告"
            rows.append(ROW.format(d=d, i=i, t=title, date=f"{d[:4]}-{d[4:]}-01"))
            body = bodies[(i + offset) % len(bodies)]
            text = body.decode("utf-8", "replace")
            if not text.lstrip().startswith("<"):
                text = f"<pre>{html.escape(text)}</pre>"
            pages[f"/nb/{d}/t{d}01_{i}.html"] = (
                f'<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">'
                f"</head><body><div class=TRS_Editor>{text}</div></body></html>"
            ).encode()
        name = "index.html" if page == 0 else f"index_{page}.html"
        pages[f"/nb/{name}"] = (
            '<html><head><meta charset="utf-8"></head><body><table class="gl_list">'
            + "".join(rows)
            + f"</table><script>var currentPage = {page};var countPage = {count}//</script>"
            "</body></html>"
        ).encode()
    return pages


STATS = "/__stats"  # answer counts by status since the last call (not itself counted)


def serve(reports: int, per_page: int, port_queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """Child process: build the fixture pages here and serve them on loopback."""
    pages = build_pages(reports, per_page)
    etags = {p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in pages.items()}
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, body: bytes = b"", etag: str | None = None) -> None:
            if self.path != STATS:
                with lock:
                    answers[status] += 1
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if body:
                self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == STATS:
                with lock:
                    counts = dict(answers)
                    answers.clear()
                self.answer(200, json.dumps(counts).encode())
                return
            body = pages.get(self.path)
            if body is None:
                self.answer(404)
            elif self.headers.get("If-None-Match") == etags[self.path]:
                self.answer(304, etag=etags[self.path])
            else:
                self.answer(200, body, etags[self.path])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    listing = sum(1 for p in pages if "/index" in p)
    size = sum(len(b) for b in pages.values())
    port_queue.put((server.server_address[1], listing, size))
    server.serve_forever()


def answers(port: int) -> dict[int, int]:
    """How the fixture server answered since the last call, by HTTP status."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{STATS}", timeout=10) as response:
        return {int(k): v for k, v in json.loads(response.read()).items()}


def show(counts: dict[int, int]) -> str:
    return ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items())) or "none"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=4, help="requests in flight")
    parser.add_argument(
        "--no-extract",
        action="store_true",
        help="first crawl without extraction and staging (crawl and archive only); the "
        "re-crawl then extracts from the archive what the first crawl skipped",
    )
    args = parser.parse_args()
    if args.no_extract:
        # bodies are still archived (``keep``); only what the sink does with them is skipped
        from pipeline.flows.nightly import NightlySink

        async def _skip(self, doc, summary):  # type: ignore[no-untyped-def]
            return None

        NightlySink.take = _skip  # type: ignore[method-assign]

    context = mp.get_context("spawn")  # a fresh interpreter: nothing shared with this one
    queue: mp.Queue = context.Queue()  # type: ignore[type-arg]
    server = context.Process(target=serve, args=(args.reports, args.per_page, queue), daemon=True)
    server.start()
    port, listing_pages, size = queue.get(timeout=120)
    print(
        f"fixture portal: {args.reports} reports on {listing_pages} listing pages, "
        f"{size / 1e6:.1f} MB, server pid {server.pid}"
    )
    portal = PortalConfig(
        name="bench", start_urls=(f"http://127.0.0.1:{port}/nb/index.html",), family="trs"
    )
    politeness = Politeness.off(per_host=args.per_host, concurrency=args.per_host, timeout=30)
    baseline = peak_rss_mib()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp)
            started = time.perf_counter()
            first = crawl([portal], data_dir, politeness_override=politeness)
            seconds = time.perf_counter() - started
            (s,) = first.portals
            fetched = s.listing_pages + s.reports_new
            raw = sum(p.stat().st_size for p in (data_dir / "raw").rglob("*.gz"))
            print(
                f"first crawl: {fetched} pages ({s.listing_pages} listing + {s.reports_new} "
                f"reports), {first.requests} requests, {seconds:.2f} s, "
                f"{fetched / seconds:.0f} pages/s; extract+stage "
                f"{'off' if args.no_extract else 'on'}; failed {s.failed}; "
                f"server answered {show(answers(port))}"
            )
            print(
                f"peak RSS: {peak_rss_mib():.0f} MiB (before crawl {baseline:.0f} MiB); "
                f"raw archive {raw / 1e6:.1f} MB compressed"
            )
            started = time.perf_counter()
            second = crawl([portal], data_dir, politeness_override=politeness)
            seconds = time.perf_counter() - started
            (s2,) = second.portals
            print(
                f"re-crawl unchanged: {second.requests} requests, server answered "
                f"{show(answers(port))} ({s2.listing_pages} listing, {s2.reports_unchanged} "
                f"reports unchanged, new {s2.reports_new}, changed {s2.reports_changed}), "
                f"{seconds:.2f} s"
            )
    finally:
        server.terminate()
        server.join(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
