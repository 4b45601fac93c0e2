"""Crawl benchmark at farm scale: N loopback portals, each its own host, politeness on.

Each portal is a TRS-style site (``bench_crawl.build_pages``) on its own port of 127.0.0.1,
so the crawler keeps one politeness gate per portal: robots.txt (404), 2 listing pages and
9 report pages, i.e. 12 requests per host by default. Report bodies are the corpus pages in
tests/fixtures/corpus/raw, each portal starting at another one. One asyncio server in a
child process (spawned, so its CPU and memory are not the crawler's) serves every port,
optionally waits ``--latency`` seconds before each answer, and records what the crawler
cannot see of itself: the arrival time of every request per host, and the TCP connections
opened.

    .venv/bin/python benchmarks/bench_crawl_farm.py [--portals 200] [--delay 0.2]
        [--latency 0,0.1] [--concurrency 8,32,200] [--repeats 1]

Prints, per run (runs interleave the configurations; asserts nothing timed):

* first crawl and unchanged re-crawl (every page 304) through ``pipeline.flows.nightly``:
  wall time, requests/s, the crawling process's CPU, the extraction workers' CPU;
* the floors: politeness (max over hosts of requests x delay; and strict, requests x
  (latency + delay x the mean jitter 1.1), what the crawler really waits), extraction (CPU of
  ``extract_document`` on the same report bodies, measured in a child process, / cores)
  and the global cap (requests x latency / concurrency), and the crawl's ratio to them;
* from the server: same-host request pairs that arrived closer than the delay (must be
  0) and the shortest gap, each host's span (first to last request: median and max),
  TCP connections opened against requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_crawl import CORPUS, build_pages, peak_rss_mib, show  # noqa: E402

from pipeline.crawl import Politeness, PortalConfig  # noqa: E402
from pipeline.flows.nightly import nightly  # noqa: E402

CONTROL = "/__stats"  # on the control port: the counts since the last call, then reset
SETTINGS = "/__latency"  # on the control port: ?seconds=0.1 sets the added latency


# ---------------------------------------------------------------------------- the farm


def serve_farm(portals: int, reports: int, per_page: int, ready: mp.Queue) -> None:  # type: ignore[type-arg]
    """Child process: every portal's pages on its own port, one asyncio loop for all."""
    asyncio.run(_farm(portals, reports, per_page, ready))


async def _farm(portals: int, reports: int, per_page: int, ready: mp.Queue) -> None:  # type: ignore[type-arg]
    import hashlib

    sites = [build_pages(reports, per_page, offset=p * reports) for p in range(portals)]
    etags = [{k: '"' + hashlib.sha1(v).hexdigest()[:16] + '"' for k, v in s.items()} for s in sites]
    arrivals: dict[int, list[float]] = defaultdict(list)  # site -> request arrival times
    connections: Counter[int] = Counter()
    answers: Counter[int] = Counter()
    latency = [0.0]

    def stats(query: str) -> bytes:
        delay = float(parse_qs(query).get("delay", ["0"])[0])
        close, gaps = 0, []
        for times in arrivals.values():
            times.sort()
            pairs = [b - a for a, b in pairwise(times)]
            close += sum(1 for g in pairs if g < delay)
            gaps.extend(pairs)
        out = {
            "answers": dict(answers),
            "requests": sum(len(t) for t in arrivals.values()),
            "max_per_host": max((len(t) for t in arrivals.values()), default=0),
            "connections": sum(connections.values()),
            "close_pairs": close,
            "min_gap": min(gaps, default=None),
            # a host's first to last request: what the crawl took for it, against its
            # politeness (requests - 1 spacings)
            "spans": [t[-1] - t[0] for t in arrivals.values() if t],
        }
        arrivals.clear()
        connections.clear()
        answers.clear()
        return json.dumps(out).encode()

    async def handle(
        site: int | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if site is not None:
            connections[site] += 1
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    return
                arrived = time.monotonic()
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                target = line.decode("latin-1").split(" ")[1]
                path, _, query = target.partition("?")
                if site is None:  # the control port
                    if path == SETTINGS:
                        latency[0] = float(parse_qs(query)["seconds"][0])
                    body, status, etag = stats(query) if path == CONTROL else b"{}", 200, None
                else:
                    arrivals[site].append(arrived)
                    if latency[0]:
                        await asyncio.sleep(latency[0])
                    body, etag = sites[site].get(path, b""), etags[site].get(path)
                    status = 200 if etag else 404
                    if etag and headers.get("if-none-match") == etag:
                        body, status = b"", 304
                    answers[status] += 1
                head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
                if etag:
                    head.append(f"ETag: {etag}")
                if status == 200:
                    head.append("Content-Type: text/html; charset=utf-8")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (ConnectionError, IndexError, ValueError):
            return
        finally:
            writer.close()

    def handler(site: int | None):  # type: ignore[no-untyped-def]
        return lambda r, w: handle(site, r, w)

    servers = [
        await asyncio.start_server(handler(p), "127.0.0.1", 0, backlog=512) for p in range(portals)
    ]
    control = await asyncio.start_server(handler(None), "127.0.0.1", 0)
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    ready.put((ports, control.sockets[0].getsockname()[1]))
    await asyncio.Event().wait()  # until terminated


def control(port: int, path: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------- floors


def extraction_seconds(portals: int, reports: int, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    """Child process: CPU seconds of ``extract_document`` over the farm's report bodies
    (each distinct body timed, best of 2, times the number of portals serving it)."""
    from pipeline.extract import extract_document

    distinct = len([p for p in CORPUS.iterdir() if p.is_file()])
    pages = build_pages(distinct, distinct)
    bodies = [pages[p] for p in pages if "/index" not in p]  # in report order
    uses = Counter((i + p * reports) % distinct for p in range(portals) for i in range(reports))
    total = 0.0
    for index, body in enumerate(bodies):
        best = float("inf")
        for _ in range(2):
            started = time.process_time()
            extract_document(body, source=f"http://x/{index}.html", content_type="text/html")
            best = min(best, time.process_time() - started)
        total += best * uses[index]
    queue.put(total)


# ---------------------------------------------------------------------------- CPU


class WorkerCpu:
    """CPU of this process's descendants (the extraction workers), sampled every 0.2 s
    because they are reaped by the fork server, not by us. ``skip``: the farm's server."""

    def __init__(self, skip: int | None) -> None:
        import psutil

        self.me = psutil.Process()
        self.skip = skip
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        for child in self.me.children(recursive=True):
            if child.pid == self.skip:
                continue
            try:
                t = child.cpu_times()
                self.seen[child.pid] = t.user + t.system
            except Exception:  # gone meanwhile
                pass

    def __enter__(self) -> WorkerCpu:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------- runs


@dataclass
class Farm:
    ports: list[int]
    control: int
    pid: int | None


@dataclass
class Run:
    latency: float
    concurrency: int
    kind: str  # first | again
    seconds: float  # the whole nightly call
    crawling: float  # of which the crawl (the rest: opening, the run record, compaction)
    requests: int
    cpu: float
    workers_cpu: float
    close_pairs: int
    min_gap: float | None
    connections: int
    max_per_host: int
    answers: dict[str, int]
    spans: list[float]  # per host, first to last request (s)


def crawl_once(
    farm: Farm, data_dir: Path, politeness: Politeness, kind: str, latency: float
) -> Run:
    ports, control_port = farm.ports, farm.control
    portals = [
        PortalConfig(
            name=f"p{i:03d}", start_urls=(f"http://127.0.0.1:{port}/nb/index.html",), family="trs"
        )
        for i, port in enumerate(ports)
    ]
    with WorkerCpu(farm.pid) as workers:
        cpu, started = own_cpu(), time.perf_counter()
        summary = nightly(portals, data_dir, politeness_override=politeness)
        seconds, cpu = time.perf_counter() - started, own_cpu() - cpu
    server = control(control_port, f"{CONTROL}?delay={politeness.delay}")
    failed = sum(s.failed for s in summary.portals)
    if failed:
        print(f"  !! {failed} failed fetches: {summary.portals[0].reasons}")
    return Run(
        latency=latency,
        concurrency=politeness.concurrency,
        kind=kind,
        seconds=seconds,
        crawling=summary.seconds,
        requests=server["requests"],
        cpu=cpu,
        workers_cpu=workers.seconds,
        close_pairs=server["close_pairs"],
        min_gap=server["min_gap"],
        connections=server["connections"],
        max_per_host=server["max_per_host"],
        answers=server["answers"],
        spans=server["spans"],
    )


#: Mean of the crawler's spacing jitter (``delay`` x uniform(1.0, 1.2), pipeline.crawl.fetch).
MEAN_JITTER = 1.1


def line(run: Run, delay: float, extraction: float, cores: int) -> str:
    """One run: wall time against the floors. ``politeness`` is requests x delay; the strict
    floor counts what the crawler really waits: each request after the first goes out
    the jittered delay after the previous answer began (``_Turn.answered``), that is
    (requests - 1) x (latency + delay x 1.1), and the last answer takes its latency."""
    politeness = run.max_per_host * delay
    strict = (run.max_per_host - 1) * (run.latency + delay * MEAN_JITTER) + run.latency
    cap = run.requests * run.latency / run.concurrency
    floor = max(politeness, extraction / cores) if run.kind == "first" else politeness
    floor_strict = max(strict, extraction / cores) if run.kind == "first" else strict
    gap = "-" if run.min_gap is None else f"{run.min_gap:.3f}"
    spans = sorted(run.spans) or [0.0]
    return (
        f"{run.kind:5} lat {run.latency:.2f} conc {run.concurrency:3}: {run.seconds:6.2f} s "
        f"(crawl {run.crawling:5.2f} s), "
        f"{run.requests / run.seconds:5.0f} req/s, cpu {run.cpu:5.1f} s + workers "
        f"{run.workers_cpu:4.1f} s | floor {floor:5.2f} s -> {run.seconds / floor:5.2f}x "
        f"(crawl {run.crawling / floor:4.2f}x), strict floor {floor_strict:5.2f} s -> "
        f"{run.seconds / floor_strict:4.2f}x (crawl {run.crawling / floor_strict:4.2f}x) "
        f"(politeness {politeness:.2f} s: {run.seconds / politeness:5.2f}x; cap {cap:.2f} s) | "
        f"host spans median {statistics.median(spans):5.2f} s, max {spans[-1]:5.2f} s | "
        f"close pairs {run.close_pairs} (min gap {gap} s) | {run.connections} conns / "
        f"{run.requests} req | {show({int(k): v for k, v in run.answers.items()})}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--reports", type=int, default=9, help="report pages per portal")
    parser.add_argument("--per-page", type=int, default=5, help="reports per listing page")
    parser.add_argument("--delay", type=float, default=0.2, help="politeness delay per host")
    parser.add_argument("--latency", default="0,0.1", help="added seconds per answer, a list")
    parser.add_argument("--concurrency", default="8,32,200", help="global limits, a list")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-recrawl", action="store_true")
    args = parser.parse_args()
    latencies = [float(x) for x in args.latency.split(",")]
    limits = [int(x) for x in args.concurrency.split(",")]
    cores = os.cpu_count() or 1

    context = mp.get_context("spawn")
    queue: mp.Queue = context.Queue()  # type: ignore[type-arg]
    measure = context.Process(target=extraction_seconds, args=(args.portals, args.reports, queue))
    measure.start()
    extraction = queue.get(timeout=600)
    measure.join()
    ready: mp.Queue = context.Queue()  # type: ignore[type-arg]
    server = context.Process(
        target=serve_farm, args=(args.portals, args.reports, args.per_page, ready), daemon=True
    )
    server.start()
    ports, control_port = ready.get(timeout=300)
    farm = Farm(ports, control_port, server.pid)
    print(
        f"farm: {args.portals} portals x ({args.reports} reports on "
        f"{-(-args.reports // args.per_page)} listing pages + robots.txt), delay {args.delay} s, "
        f"server pid {server.pid}; extraction CPU of the {args.portals * args.reports} report "
        f"bodies {extraction:.2f} s, / {cores} cores = {extraction / cores:.2f} s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    runs: list[Run] = []
    imported = peak_rss_mib()  # the interpreter and the pipeline's imports
    try:
        for _ in range(args.repeats):
            for latency in latencies:
                control(control_port, f"{SETTINGS}?seconds={latency}")
                for limit in limits:
                    politeness = Politeness(delay=args.delay, concurrency=limit, timeout=20.0)
                    with tempfile.TemporaryDirectory() as tmp:
                        first = crawl_once(farm, Path(tmp), politeness, "first", latency)
                        print(line(first, args.delay, extraction, cores), flush=True)
                        runs.append(first)
                        if not args.no_recrawl:
                            again = crawl_once(farm, Path(tmp), politeness, "again", latency)
                            print(line(again, args.delay, extraction, cores), flush=True)
                            runs.append(again)
    finally:
        server.terminate()
        server.join(5)
    print(
        f"peak RSS of the crawling process: {peak_rss_mib():.0f} MiB "
        f"({imported:.0f} MiB before the first crawl)"
    )
    if args.repeats > 1:
        groups: dict[tuple[str, float, int], list[Run]] = defaultdict(list)
        for run in runs:
            groups[(run.kind, run.latency, run.concurrency)].append(run)
        print("medians:")
        for (kind, latency, limit), group in groups.items():
            seconds = statistics.median(r.seconds for r in group)
            print(
                f"  {kind:5} lat {latency:.2f} conc {limit:3}: {seconds:6.2f} s "
                f"(runs {', '.join(f'{r.seconds:.2f}' for r in group)}), close pairs "
                f"{sum(r.close_pairs for r in group)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
