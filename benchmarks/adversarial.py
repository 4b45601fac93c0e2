"""The adversarial suite of issue 8, run as a whole through the real CLI on loopback.

A farm of loopback portals (a child process; real corpus report bodies) holds a few good
portals and one portal per attack. The script then

1. crawls the good portals alone into a clean data directory (the reference);
2. crawls the whole farm twice ("two nights": the second turns some report pages bad),
   each run a ``python -m pipeline crawl`` subprocess with a hard timeout, its wall time
   and the peak RSS of its process tree measured, and checks per attack what the crawl
   did (exit code, server logs, staged figures, nothing written outside the data dir);
3. kills crawls and ``reextract`` runs with SIGKILL at seeded random moments, resumes each
   to completion and checks the staged datasets equal the reference exactly, the writer
   lock is free and ``status`` works; a second crawl started during a crawl exits 3.

It prints a table (attack / check, wall time, peak RSS, outcome) and exits 1 when any check
fails. Full run about 10 minutes on a loaded 2-core machine, ``--quick`` about 2::

    .venv/bin/python benchmarks/adversarial.py [--quick] [--seed 8] [--kills 40]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import psutil  # noqa: E402

from pipeline.datadir import WriterLock  # noqa: E402
from pipeline.errors import LockedError  # noqa: E402

GIB = 2**30
LOADING = threading.Lock()  # one pipeline.load at a time (kill cycles run in threads)
TITLE = "平潭综合实验区2022年政府信息公开工作年度报告"  # 043.html's own title
HTML = {"Content-Type": "text/html; charset=utf-8"}
#: columns that say when, not what: left out when staged datasets are compared
WHEN = ("fetched_at", "extracted_at")
#: the portals every comparison with the clean run is about
GOOD = ("good_trs", "good_hanweb", "good_many")
BAD_NIGHT_KINDS = ("soft_404", "challenge", "maintenance", "empty", "cut", "invalid_byte")


# --------------------------------------------------------------------------- the farm
# Runs in a child process (spawn): its memory and CPU are not the crawl's. Pages are built
# there with the fixture helpers of tests/portals.py, from the corpus in tests/fixtures.


def _listing(links: list[tuple[str, str]], extra: str = "") -> str:
    items = "".join(
        f'<li><a href="{href}" title="{title}">{title}</a><span>2023-02-20</span></li>'
        for href, title in links
    )
    return f'<html><meta charset="utf-8"><body><ul>{items}</ul>{extra}</body></html>'


def _farm(night: Any, queue: Any, quick: bool) -> None:

    from tests.crawl.test_hostile_fetch import double_gzip_bomb
    from tests.portals import (
        Hit,
        Reply,
        Site,
        _Handler,
        article_page,
        build_hanweb_site,
        build_trs_site,
        corpus,
        serving,
        trs_listing_page,
    )

    class Farm(Site):
        """A Site with a fallback for families of paths (``/r/123.html``, ``index_N``)."""

        def __init__(self, fallback: Callable[[Hit], Reply | None] | None = None) -> None:
            super().__init__()
            self.fallback = fallback

        def respond(self, hit: Hit) -> Reply:
            if self.fallback is not None and hit.path.split("?")[0] not in self.routes:
                reply = self.fallback(hit)
                if reply is not None:
                    return reply
            return super().respond(hit)

    class TrickleHandler(_Handler):
        """``/r/trickle.html`` promises 100,000 bytes and sends one a second."""

        def _serve(self) -> None:
            if not self.path.startswith("/r/trickle"):
                super()._serve()
                return
            with self.site.lock:
                self.site.log.append(Hit("GET", self.path, {}, b"", time.monotonic(), 200))
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(120):
                    self.wfile.write(b"<")
                    self.wfile.flush()
                    time.sleep(1.0)
            except OSError:
                pass

        do_GET = _serve

    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - http.server's reset-connection noise
    parent = os.getppid()

    def orphaned() -> None:  # the script was killed: no farm left behind
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    page043 = corpus("043.html")
    report = article_page(TITLE, page043).encode()
    sites: dict[str, Site] = {}

    with serving() as start:

        def add(name: str, site: Site | None = None) -> Site:
            sites[name] = start(site if site is not None else Farm())
            return sites[name]

        # good portals: TRS (6 reports), Hanweb (6), and a plain one of 12 corpus reports
        build_trs_site(add("good_trs"))
        build_hanweb_site(add("good_hanweb"))
        many = add("good_many")
        names = sorted(
            p.name for p in (ROOT / "tests/fixtures/corpus/raw").iterdir() if p.is_file()
        )[:12]
        many.add(
            "/nb/", _listing([(f"/r/{i}.html", f"测试区{2010 + i}年政府信息公开工作年度报告")
                              for i in range(len(names))])
        )  # fmt: skip
        for i, name in enumerate(names):
            many.add(
                f"/r/{i}.html",
                article_page(f"测试区{2010 + i}年政府信息公开工作年度报告", corpus(name)),
            )

        # a bad second night: each report page turns into something else
        bad = add("bad_night")
        bad.add("/nb/", _listing([(f"/r/{k}.html", TITLE) for k in BAD_NIGHT_KINDS]))
        at = page043.index(b"<body")
        bodies = {
            "soft_404": "<html><body>您访问的页面不存在或已被删除</body></html>".encode(),
            "challenge": b"<html><script>var acw_sc__v2='3f2a';document.cookie='acw_sc__v2='"
            b"+x;</script>" + b" " * 9000 + b"</html>",
            "maintenance": "<html><body><h1>系统维护中</h1>请稍后再试</body></html>".encode(),
            "empty": b"",
            "cut": page043[: len(page043) // 3],
            "invalid_byte": page043[:at] + b"\xff" + page043[at:],
        }

        def bad_page(kind: str) -> Callable[[Hit], Reply]:
            def serve(_hit: Hit) -> Reply:
                if night.value < 2:
                    return Reply(200, page043, HTML, etag=False)
                head = {"Content-Type": "text/html"} if kind == "invalid_byte" else HTML
                return Reply(200, bodies[kind], head, etag=False)

            return serve

        for kind in BAD_NIGHT_KINDS:
            bad.handle(f"/r/{kind}.html", bad_page(kind))

        # §3: gzip inside gzip, 6.25 GiB of zeros in about 15 KB
        bomb = add("gzip_bomb")
        bomb.add("/nb/", _listing([("/r/bomb.html", TITLE)]))
        bomb.routes["/r/bomb.html"] = Reply(
            200, double_gzip_bomb(), {**HTML, "Content-Encoding": "gzip, gzip"}, etag=False
        )

        # a 1-byte/s body: only a total deadline ends it
        trickle = Farm()
        sites["trickle"] = trickle
        handler = type("Handler", (TrickleHandler,), {"site": trickle})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()  # fmt: skip
        trickle.base = f"http://127.0.0.1:{server.server_address[1]}"
        trickle.add("/nb/", _listing([("/r/trickle.html", TITLE)]))

        # §4: a host asking for a day's pause, in robots.txt or in Retry-After
        delay = add("crawl_delay")
        delay.add("/robots.txt", "User-agent: *\nCrawl-delay: 86400\n", content_type="text/plain")
        delay.add("/nb/", _listing([("/r/1.html", TITLE)]))
        delay.add("/r/1.html", report)
        busy = add("retry_after")
        busy.add("/nb/", _listing([(f"/r/{i}.html", TITLE) for i in range(5)]))
        for i in range(5):
            busy.add(f"/r/{i}.html", "busy", status=429, headers={"Retry-After": "86400"},
                     etag=False)  # fmt: skip

        # a TRS pager claiming 1,000,000 pages, every page answering
        def trs_page(hit: Hit) -> Reply | None:
            found = re.fullmatch(r"/nb/index(?:_(\d+))?\.html", hit.path.split("?")[0])
            if found is None:
                return None
            n = int(found.group(1) or 0)
            rows = [(f"./202401/t20240101_{n}.html", f"关于第{n}号通知", "2024-01-01")]
            return Reply(200, trs_listing_page(rows, n, 1_000_000).encode(), HTML, etag=False)

        million = add("trs_million", Farm(trs_page))
        million.add("/nb/202401/t20240101_0.html", report)

        # a 下一页 chain: every page links a fresh next page
        def chain(hit: Hit) -> Reply | None:
            found = re.fullmatch(r"/list/(\d+)\.html", hit.path.split("?")[0])
            if found is None:
                return None
            n = int(found.group(1))
            page = _listing(
                [(f"/r/{n}.html", f"第{n}号通知")],
                f'<div class="page"><a href="/list/{n + 1}.html">下一页</a></div>',
            )
            return Reply(200, page.encode(), HTML, etag=False)

        add("next_chain", Farm(chain))

        # a listing of 40,000 unclosed <datastore> and 80,000 unclosed <div>
        parser_bomb = add("listing_bomb")
        parser_bomb.add("/nb/", _listing([("/r/1.html", TITLE)], "<datastore>" * 40_000
                                         + "<div>" * 80_000))  # fmt: skip
        parser_bomb.add("/r/1.html", report)

        # a listing of 20,000 report links (the budget cuts each run)
        def small_report(hit: Hit) -> Reply | None:
            if re.fullmatch(r"/r/\d+\.html", hit.path):
                return Reply(200, article_page(TITLE, "<p>正文</p>").encode(), HTML)
            return None

        links = add("many_links", Farm(small_report))
        links.add("/nb/", _listing([(f"/r/{i}.html", TITLE) for i in range(20_000)]))

        # §2: crafted documents
        html032 = corpus("032.html").decode("utf-8")
        first, last = html032.index("<table"), html032.rindex("</table>") + len("</table>")
        wrap = "<table><tr><td>访问量</td><td>1</td></tr><tr><td>首页</td><td>"
        nested = (html032[:first] + wrap * 7000 + html032[first:last]
                  + "</td></tr></table>" * 7000 + html032[last:])  # fmt: skip
        nest = add("nested_tables")
        nest.add("/nb/", _listing([("/r/1.html", "2022年政府信息公开工作年度报告")]))
        nest.add("/r/1.html", nested)

        glued_text = (
            corpus("001.txt")
            .decode("utf-8")
            .replace(
                "一、本年新收政府信息公开申请数量640020470",
                "一、本年新收政府信息公开申请数量" + "9876543210" * 10,
            )
        )
        glued = add("glued_digits")
        glued.add("/nb/", _listing([("/r/1.txt", TITLE)]))  # an innerText, as saved
        glued.add("/r/1.txt", glued_text, content_type="text/plain; charset=utf-8")

        row = "<tr>" + "".join(f"<td>{i}</td>" for i in range(10)) + "</tr>"
        megabytes = 8 if quick else 45
        cells = add("table_cells")
        cells.add("/nb/", _listing([("/r/1.html", TITLE)]))
        cells.add("/r/1.html", "<html><body><table>" + row * (megabytes * 10**6 // len(row))
                  + "</table></body></html>")  # fmt: skip

        big = add("big_figure")
        big.add("/nb/", _listing([("/r/1.html", TITLE)]))
        big.add("/r/1.html", page043.replace(b">10690<", b">" + b"9" * 25 + b"<", 1))

        # §6: a redirect to another port of the host; escapes in titles; fresh jsessionids
        other = add("other_port")
        other.add("/secret/admin", "token accepted")
        secret = other.url("/secret/admin?token=1")
        away = add("redirect_port")
        away.add("/nb/", _listing([("/r/away.html", TITLE), (secret, TITLE)]))
        away.add("/r/away.html", "", status=302, headers={"Location": secret}, etag=False)

        escapes = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e\u2028"
        ctrl = add("control_chars")
        ctrl.add("/nb/", _listing([("/r/1.html", TITLE + escapes)]))
        ctrl.add("/r/1.html", article_page(TITLE + escapes, page043))

        def session_listing(_hit: Hit) -> Reply:
            return Reply(200, _listing([(f"/r/1.html;jsessionid=A{night.value}F00D", TITLE)])
                         .encode(), HTML, etag=False)  # fmt: skip

        def session_report(hit: Hit) -> Reply | None:
            return Reply(200, report, HTML) if hit.path.startswith("/r/1.html") else None

        session = add("jsessionid", Farm(session_report))
        session.handle("/nb/", session_listing)

        # the control server: each site's request log, as JSON
        control = Farm()

        def logs(_hit: Hit) -> Reply:
            doc = {name: [[h.path, h.status] for h in site.log] for name, site in sites.items()}
            return Reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json"},
                         etag=False)  # fmt: skip

        control.handle("/logs", logs)
        start(control)
        queue.put(({name: site.base for name, site in sites.items()}, control.base))
        while True:
            time.sleep(3600)


# --------------------------------------------------------------------------- config


PER_HOST = 2  # requests in flight per host: as many answers can come before a deferral
START = {
    "good_trs": "/zfxxgknb/index.html",
    "good_hanweb": "/col/col12377/index.html",
    "trs_million": "/nb/index.html",
    "next_chain": "/list/0.html",
}


def write_config(path: Path, bases: dict[str, str], names: list[str], budget: int) -> Path:
    lines = [
        "[defaults]",
        "delay = 0",
        f"per_host = {PER_HOST}",
        "concurrency = 8",
        "timeout = 5.0",
        "retries = 2",
        "backoff = 0.01",
        "backoff_max = 0.05",
        f"max_requests = {budget}",
        "max_seconds = 90.0",
    ]
    for name in names:
        url = bases[name] + START.get(name, "/nb/")
        lines += ["", "[[portal]]", f'name = "{name}"', f'start_urls = ["{url}"]']
        if name.startswith("good_"):
            lines.append('region = "测试省测试市测试区"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- runs


@dataclass(slots=True)
class Run:
    code: int | None  # None: killed by the script (hard timeout or kill -9)
    seconds: float
    peak_rss: int  # bytes: the largest sum of the process tree's PSS seen (shared pages split)
    out: str
    err: str
    hung: bool = False
    orphans: int = 0  # processes of a killed run still alive 10 s after the kill
    peak_single: int = 0  # bytes: the largest RSS of one process of the tree
    peaks: dict[str, int] = field(default_factory=dict)  # "pid name" -> its largest PSS


def _tree_memory(proc: psutil.Process, peaks: dict[str, int]) -> tuple[int, int]:
    """(sum of PSS, largest RSS) over ``proc`` and its descendants. PSS, not RSS: the
    extraction workers are forked and share their parent's pages, which a sum of RSS would
    count once per worker."""
    total = largest = 0
    with contextlib.suppress(psutil.Error):
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                info = p.memory_full_info()
                total += info.pss
                label = f"{p.pid} {'main' if p.pid == proc.pid else p.name()}"
                peaks[label] = max(peaks.get(label, 0), info.pss)
                largest = max(largest, info.rss)
    return total, largest


def run_cli(
    args: list[str],
    scratch: Path,
    env: dict[str, str],
    *,
    timeout: float,
    kill_after: float | Callable[[float], bool] | None = None,
    during: Callable[[float], None] | None = None,
) -> Run:
    """``python -m pipeline ARGS`` in ``scratch``, polled for its tree's RSS every 50 ms;
    killed (SIGKILL to the main process only, as the OOM killer or an operator would)
    after ``kill_after`` seconds (or once ``kill_after(elapsed)`` is true), or at the hard
    ``timeout`` (then ``hung``)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=scratch,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=lambda s, b: b.append(s.read()), args=(stream, buf), daemon=True)
        for stream, buf in ((proc.stdout, out), (proc.stderr, err))
    ]
    for reader in readers:
        reader.start()
    watched = psutil.Process(proc.pid)
    peak, single, hung, killed = 0, 0, False, False
    children: list[psutil.Process] = []
    peaks: dict[str, int] = {}
    while proc.poll() is None:
        elapsed = time.monotonic() - started
        pss, rss = _tree_memory(watched, peaks)
        peak, single = max(peak, pss), max(single, rss)
        if during is not None:
            during(elapsed)
        due = kill_after(elapsed) if callable(kill_after) else elapsed >= (kill_after or 1e9)
        if kill_after is not None and due:
            with contextlib.suppress(psutil.Error):
                children = watched.children(recursive=True)
            killed = True
            proc.kill()
        elif elapsed > timeout:
            hung = killed = True
            for child in watched.children(recursive=True) if proc.poll() is None else []:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            proc.kill()
        time.sleep(0.05)
    seconds = time.monotonic() - started
    _gone, alive = psutil.wait_procs(children, timeout=10) if children else ([], [])
    for child in alive:  # ours: started by the run we killed
        with contextlib.suppress(psutil.Error):
            child.kill()
    for reader in readers:
        reader.join(10)
    text = (b"".join(out).decode("utf-8", "replace"), b"".join(err).decode("utf-8", "replace"))
    code = None if killed else proc.returncode
    return Run(code, seconds, peak, *text, hung=hung, orphans=len(alive), peak_single=single,
               peaks=peaks)  # fmt: skip


def listing_of(root: Path, skip: Path) -> set[str]:
    """Every path under ``root`` except under ``skip``, with its size and mtime."""
    seen = set()
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == skip:
            dirnames.clear()
            continue
        for name in filenames:
            path = Path(dirpath) / name
            with contextlib.suppress(OSError):
                stat = path.stat()
                seen.add(f"{path.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}")
        dirnames[:] = [d for d in dirnames if Path(dirpath) / d != skip]
        seen.update(str((Path(dirpath) / d).relative_to(root)) + "/" for d in dirnames)
    return seen


# --------------------------------------------------------------------------- staged data


def staged(data_dir: Path, prefixes: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """reports, facts and findings as plain sorted frames, without the "when" columns; only
    the reports whose URL starts with one of ``prefixes`` (all when None)."""
    from pipeline import load

    frames = {
        "reports": load.reports(data_dir=data_dir),
        "facts": load.facts(data_dir=data_dir),
        "findings": load.findings(data_dir=data_dir),
    }
    reports = frames["reports"]
    if prefixes is not None:
        reports = reports[reports["url"].astype(str).str.startswith(tuple(prefixes))]
    ids = set(reports["report_id"].astype(str))
    out = {}
    for name, frame in frames.items():
        frame = frame[frame["report_id"].astype(str).isin(ids)]
        frame = frame.drop(columns=[c for c in WHEN if c in frame]).astype(str)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def differences(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> list[str]:
    seen = []
    for name, frame in want.items():
        other = got[name]
        if list(other.columns) != list(frame.columns) or not other.equals(frame):
            seen.append(f"{name} {len(other)} rows vs {len(frame)}")
    return seen


def phase(data_dir: Path) -> str:
    """Where a killed crawl was: before taking the lock, fetching, or staging."""
    if not (data_dir / "state" / "writer.lock").exists():
        return "before the lock"
    if (data_dir / "parquet").exists():
        return "staging"
    return "fetching" if (data_dir / "raw").exists() else "after the lock"


def lock_held(data_dir: Path) -> bool:
    """Whether some process holds the writer lock, read from /proc/locks: probing with
    flock could take the lock from under a crawl that is about to."""
    try:
        inode = (data_dir / "state" / "writer.lock").stat().st_ino
        locks = Path("/proc/locks").read_text()
    except OSError:
        return False
    return any(
        line.split()[1] == "FLOCK" and line.split()[5].rsplit(":", 1)[-1] == str(inode)
        for line in locks.splitlines()
        if len(line.split()) > 5
    )


def locked_at(data_dir: Path, seen: list[float]) -> Callable[[float], None]:
    """A ``during`` callback noting when a run first held the writer lock."""

    def note(elapsed: float) -> None:
        if not seen and lock_held(data_dir):
            seen.append(elapsed)

    return note


def after_lock(data_dir: Path, seconds: float) -> Callable[[float], bool]:
    """A ``kill_after`` test: ``seconds`` after the run took the writer lock."""
    seen: list[float] = []
    note = locked_at(data_dir, seen)

    def due(elapsed: float) -> bool:
        note(elapsed)
        return bool(seen) and elapsed - seen[0] >= seconds

    return due


def lock_is_free(data_dir: Path) -> bool:
    lock = WriterLock(data_dir)
    try:
        lock.acquire()
    except LockedError:
        return False
    lock.release()
    return True


def rerun_problems(
    result: Run, data_dir: Path, reference: dict[str, pd.DataFrame], what: str
) -> list[str]:
    """What is wrong after the run that follows a kill: its exit code, staged data unlike
    the clean run's, a writer lock still held."""
    problems = []
    if result.code != 0:
        problems.append(f"{what} exit {result.code}: {result.err.strip()[-200:]}")
    with LOADING:
        diff = differences(staged(data_dir), reference)
    if diff:
        problems.append("staged data differs: " + ", ".join(diff))
    if not lock_is_free(data_dir):
        problems.append(f"lock held after the {what}")
    return problems


# --------------------------------------------------------------------------- the table


@dataclass(slots=True)
class Row:
    attack: str
    seconds: float | None
    rss: int | None
    ok: bool
    seen: str


@dataclass(slots=True)
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, attack: str, ok: bool, seen: str, run: Run | None = None) -> None:
        row = Row(attack, run.seconds if run else None, run.peak_rss if run else None, ok, seen)
        self.rows.append(row)
        print(f"  {'pass' if ok else 'FAIL'}  {attack}: {seen}", flush=True)

    def markdown(self) -> str:
        lines = ["| attack / check | wall s | peak PSS MiB | outcome |", "|---|---|---|---|"]
        for r in self.rows:
            secs = f"{r.seconds:.1f}" if r.seconds is not None else ""
            rss = f"{r.rss / 2**20:.0f}" if r.rss is not None else ""
            seen = r.seen.replace("|", "/")
            lines.append(f"| {r.attack} | {secs} | {rss} | {'pass' if r.ok else 'FAIL'}: {seen} |")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the suite


@dataclass(slots=True)
class Suite:
    root: Path
    bases: dict[str, str]
    control: str
    night: Any
    quick: bool
    parallel: int = 2
    table: Table = field(default_factory=Table)

    @property
    def scratch(self) -> Path:
        return self.root / "cwd"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "OGI_DATA_DIR"}
        env.update(
            PYTHONPATH=str(ROOT),
            HOME=str(self.root / "home"),
            TMPDIR=str(self.root / "tmp"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def crawl(self, config: Path, data: Path, *extra: str, **kw: Any) -> Run:
        args = ["crawl", "--config", str(config), "--data-dir", str(data), *extra]
        return run_cli(args, self.scratch, self.env(), **kw)

    def logs(self) -> dict[str, list[tuple[str, int]]]:
        with urllib.request.urlopen(self.control + "/logs", timeout=30) as response:
            return {k: [tuple(h) for h in v] for k, v in json.loads(response.read()).items()}

    def prefix(self, *names: str) -> list[str]:
        return [self.bases[n] + "/" for n in names]


def summary(data: Path) -> dict[str, Any]:
    return json.loads((data / "runs" / "latest.json").read_text(encoding="utf-8"))


def portal_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in doc["portals"] if p["name"] == name)


def expected_code(doc: dict[str, Any]) -> int:
    """README's exit-code table, from the run's own summary."""
    outcomes = {p["outcome"] for p in doc["portals"]}
    if doc["totals"].get("requests", 1) == 0:
        return 1
    return 5 if outcomes & {"failed", "blocked"} else 0


def fmt_reasons(doc: dict[str, Any], name: str) -> str:
    (p,) = [p for p in doc["portals"] if p["name"] == name]
    reasons = "; ".join(f"{k} ×{v}" for k, v in list(p["reasons"].items())[:2])
    return f"{p['outcome']}, {p['counts']['requests']} requests" + (
        f", {reasons}" if reasons else ""
    )


def controls_in(text: str) -> list[str]:
    """Raw control characters a terminal would act on (newline and tab are fine)."""
    bad = re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]", text)
    return sorted({repr(c) for c in bad})


def check_farm(suite: Suite, reference: dict[str, pd.DataFrame]) -> None:
    """Two nights of the whole farm, then one check per attack."""
    names = [n for n in suite.bases if n != "other_port"]
    budget = 60 if suite.quick else 150
    config = write_config(suite.root / "config" / "farm.toml", suite.bases, names, budget)
    data = suite.root / "data"
    table = suite.table
    before = listing_of(suite.root, data)
    runs, docs, staged_after = [], [], []
    for night in (1, 2):
        suite.night.value = night
        extra = ["-v"] if night == 2 else []  # night 2 logs every request: escapes checked
        run = suite.crawl(config, data, *extra, timeout=600 if not suite.quick else 240)
        runs.append(run)
        doc = summary(data)
        docs.append(doc)
        staged_after.append(staged(data))
        want = expected_code(doc)
        ok = not run.hung and run.code == want == doc["exit_code"]
        outcomes = sorted({p["outcome"] for p in doc["portals"]})
        table.add(
            f"farm night {night}: crawl of {len(names)} portals (exit code)",
            ok,
            f"exit {run.code}, expected {want} (outcomes {', '.join(outcomes)})"
            + (" HUNG" if run.hung else "")
            + ("; Traceback in stderr" if "Traceback" in run.err else ""),
            run,
        )
        table.add(
            f"farm night {night}: peak memory of the process tree < 1 GiB",
            run.peak_rss < GIB,
            f"PSS sum {run.peak_rss / 2**20:.0f} MiB, largest process RSS "
            f"{run.peak_single / 2**20:.0f} MiB; per process peak PSS: "
            + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(run.peaks.items())),
            run,
        )
    after = listing_of(suite.root, data)
    outside = sorted(after - before)
    table.add(
        "nothing written outside the data dir (temp root, cwd, HOME, TMPDIR)",
        not outside,
        f"{len(outside)} new paths" + (f": {', '.join(outside[:4])}" if outside else ""),
    )
    logs = suite.logs()
    final = staged_after[-1]

    good = staged(data, suite.prefix(*GOOD))
    diff = differences(good, reference)
    table.add(
        "good portals' staged data = clean run's (after both nights)",
        not diff,
        f"{len(good['reports'])} reports, {len(good['facts'])} facts"
        + (f"; differs: {', '.join(diff)}" if diff else ", equal"),
    )

    def reports_of(name: str, frames: dict[str, pd.DataFrame] = final) -> pd.DataFrame:
        r = frames["reports"]
        return r[r["url"].str.startswith(suite.bases[name] + "/")]

    def facts_of(name: str, frames: dict[str, pd.DataFrame] = final) -> pd.Series:
        ids = reports_of(name, frames).set_index("report_id")["url"]
        f = frames["facts"]
        f = f[f["report_id"].isin(ids.index)]
        return f.groupby(f["report_id"].map(ids)).size()

    # bad second night: figures of night 1 kept
    first, second = facts_of("bad_night", staged_after[0]), facts_of("bad_night")
    bad_doc = portal_of(docs[1], "bad_night")
    statuses = sorted(set(reports_of("bad_night")["status"]))
    ok = (
        len(first) == len(BAD_NIGHT_KINDS)
        and first.equals(second)
        and bad_doc["counts"]["suspicious"] >= 5
        and statuses == ["ok"]
    )
    table.add(
        "bad second night (soft 404, JS challenge, 维护中, empty, cut, 1 invalid byte)",
        ok,
        f"facts per report night 1 {sorted(set(first))} x{len(first)}, night 2 "
        f"{sorted(set(second))} x{len(second)}; suspicious {bad_doc['counts']['suspicious']}; "
        f"status {statuses}",
        runs[1],
    )

    def requests(name: str, path: str = "") -> int:
        return sum(1 for p, _ in logs[name] if p.startswith(path))

    # gzip bomb: refused, small memory (the RSS rows above), nothing staged from it
    table.add(
        "gzip inside gzip (6.25 GiB in 15 KB; memory: the RSS rows)",
        reports_of("gzip_bomb").empty and "too-large" in fmt_reasons(docs[0], "gzip_bomb"),
        f"{fmt_reasons(docs[0], 'gzip_bomb')}; staged {len(reports_of('gzip_bomb'))}",
    )
    trickle_doc = portal_of(docs[0], "trickle")
    table.add(
        "1-byte/s trickle (timeout 5 s)",
        trickle_doc["seconds"] < 60 and reports_of("trickle").empty,
        f"{fmt_reasons(docs[0], 'trickle')}; portal took {trickle_doc['seconds']:.1f} s",
    )
    table.add(
        "robots.txt Crawl-delay 86400",
        requests("crawl_delay") == 2 and requests("crawl_delay", "/robots.txt") == 2,
        f"{fmt_reasons(docs[0], 'crawl_delay')}; server saw "
        f"{[p for p, _ in logs['crawl_delay']]} over 2 nights; night 2 said: "
        + " / ".join(
            line[-160:]
            for line in runs[1].err.splitlines()
            if suite.bases["crawl_delay"].split("//")[1] in line and "robots" in line
        ),
    )
    table.add(
        "429 + Retry-After 86400 on 5 reports",
        requests("retry_after", "/r/") <= 2 * PER_HOST,
        f"{fmt_reasons(docs[0], 'retry_after')}; server saw "
        f"{requests('retry_after', '/r/')} report requests over 2 nights (per_host {PER_HOST})",
    )
    pages = requests("trs_million", "/nb/index")
    table.add(
        "TRS pager claiming 1,000,000 pages",
        0 < pages <= 2 * (budget + 1),
        f"{fmt_reasons(docs[0], 'trs_million')}; {pages} listing pages over 2 nights",
    )
    pages = requests("next_chain", "/list/")
    table.add(
        "下一页 chain adding a fresh link per page",
        0 < pages <= 2 * (budget + 1),
        f"{fmt_reasons(docs[0], 'next_chain')}; {pages} listing pages over 2 nights",
    )
    bomb_doc = portal_of(docs[0], "listing_bomb")
    counts = facts_of("listing_bomb")
    table.add(
        "listing: 40,000 unclosed <datastore> + 80,000 unclosed <div>",
        list(counts) == [200] and bomb_doc["seconds"] < 60,
        f"report staged with {list(counts)} facts; portal took {bomb_doc['seconds']:.1f} s",
    )
    asked = requests("many_links", "/r/")
    distinct = len({p for p, _ in logs["many_links"] if p.startswith("/r/")})
    staged_links = len(reports_of("many_links"))
    table.add(
        "listing of 20,000 report links (budget per run)",
        0 < asked <= 2 * budget and staged_links == distinct,
        f"{fmt_reasons(docs[0], 'many_links')}; {asked} report requests over 2 nights for "
        f"{distinct} reports, {staged_links} staged",
    )
    counts = facts_of("nested_tables")
    table.add(
        "7,000 nested tables around a report (600 KB)",
        list(counts) == [200],
        f"{list(counts)} facts staged (032.html alone: 200)",
    )
    counts = facts_of("glued_digits")
    table.add(
        "glued text with a 100-digit run",
        len(counts) == 1 and counts.iloc[0] > 100,
        f"{list(counts)} facts staged; {fmt_reasons(docs[0], 'glued_digits')}",
    )
    cells = reports_of("table_cells")
    unread = portal_of(docs[0], "table_cells")["unreadable"]
    table.add(
        f"{8 if suite.quick else 45} MB of table cells (memory: the RSS rows)",
        list(cells["status"]) in (["no_tables"], ["unreadable"]),
        f"{fmt_reasons(docs[0], 'table_cells')}; staged {list(cells['status'])}; "
        f"unreadable {{{', '.join(f'{k}: {v}' for k, v in unread.items() if v)}}}",
    )
    big = reports_of("big_figure")
    found = final["findings"]
    out_of_range = found[
        found["report_id"].isin(big["report_id"]) & (found["check"] == "number_out_of_range")
    ]
    counts = facts_of("big_figure")
    table.add(
        "a 25-digit figure",
        list(counts) == [199] and len(out_of_range) == 1,
        f"{list(counts)} facts, status {list(big['status'])}, "
        f"{len(out_of_range)} number_out_of_range finding",
    )
    table.add(
        "redirect to another port of the host",
        not logs["other_port"],
        f"other port got {len(logs['other_port'])} requests; "
        f"{fmt_reasons(docs[0], 'redirect_port')}",
    )
    raw = controls_in("".join(r.out + r.err for r in runs))
    table.add(
        "control characters / escapes in titles (stdout, stderr, -v log)",
        not raw and len(reports_of("control_chars")) == 1,
        f"raw controls in output: {raw or 'none'}; "
        f"{len(reports_of('control_chars'))} report staged",
    )
    ids = reports_of("jsessionid")
    table.add(
        "fresh ;jsessionid= each night",
        len(ids) == 1,
        f"{len(ids)} report staged after 2 nights ({requests('jsessionid', '/r/')} fetches)",
    )


def check_status(suite: Suite, data: Path) -> str | None:
    """None when ``status`` works on ``data``, else what was wrong."""
    run = run_cli(["status", "--data-dir", str(data)], suite.scratch, suite.env(), timeout=120)
    if run.code != 0 or "Traceback" in run.err:
        return f"status exit {run.code}: {run.err.strip()[-200:]}"
    return None


def check_kills(
    suite: Suite,
    reference: dict[str, pd.DataFrame],
    clean: Path,
    clean_seconds: float,
    kills: int,
    reextract_kills: int,
    seed: int,
) -> None:
    """kill -9 at seeded random moments; each run resumed to completion and compared."""

    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(seed)
    config = suite.root / "config" / "good.toml"
    table = suite.table
    # the moments, drawn up front so that the seed alone decides them
    # seconds after the crawl took the writer lock: over 1.2 times the clean run's time
    # from its lock to its end (two cycles at a time run slower than it did alone)
    moments = [rng.uniform(0.0, 1.2 * clean_seconds) for _ in range(kills)]

    phases: dict[int, str] = {}

    def cycle(i: int) -> tuple[Run, Run, list[str]]:
        """kill -9 at ``moments[i]``: lock free, ``status`` works on the killed state, the
        resumed run completes with the clean run's staged data, and frees the lock."""
        data, at = suite.root / f"kill{i}", moments[i]
        run = suite.crawl(config, data, timeout=300, kill_after=after_lock(data, at))
        problems = []
        phases[i] = phase(data) if run.code is None else "finished"
        if run.code not in (None, 0):
            problems.append(f"exit {run.code} before the kill at {at:.1f} s")
        if run.orphans:
            problems.append(f"{run.orphans} processes alive 10 s after the kill")
        if data.exists() and not lock_is_free(data):
            problems.append("lock held after the kill")
        if (data / "state" / "crawl.sqlite").exists():
            status = check_status(suite, data)
            if status:
                problems.append(f"after the kill: {status}")
        resumed = suite.crawl(config, data, timeout=300)
        problems += rerun_problems(resumed, data, reference, "resumed run")
        shutil.rmtree(data, ignore_errors=True)
        if problems:
            print(f"    crawl kill #{i} at {at:.2f} s: {'; '.join(problems)}", flush=True)
        return run, resumed, problems

    with ThreadPoolExecutor(suite.parallel) as pool:
        results = list(pool.map(cycle, range(kills)))
    failures = [f"#{i}: {'; '.join(p)}" for i, (_, _, p) in enumerate(results) if p]
    worst = max((resumed for _, resumed, _ in results), key=lambda r: r.peak_rss)
    seen = ", ".join(f"{k} {v}" for k, v in sorted(Counter(phases.values()).items()))
    table.add(
        f"kill -9 of `crawl` at random moments (seed {seed}) + resume, x{kills}",
        not failures,
        f"killed {min(moments):.1f}-{max(moments):.1f} s after taking the lock (the clean "
        f"run held it {clean_seconds:.1f} s), where: {seen}; "
        f"lock free and `status` working after each kill; after each "
        f"resume: staged data equal to the clean run in {kills - len(failures)}/{kills}"
        + (f"; FAILURES: {' | '.join(failures[:3])}" if failures else ""),
        worst,
    )

    # reextract: a copy of the clean data dir, killed, then re-run to completion
    base = suite.root / "reextract-base"
    shutil.copytree(clean, base)
    first_locked: list[float] = []
    first = run_cli(
        ["reextract", "--data-dir", str(base), "--no-progress", "--workers", "2"],
        suite.scratch, suite.env(), timeout=300, during=locked_at(base, first_locked),
    )  # fmt: skip
    first_locked[:] = [first.seconds - (first_locked or [0.0])[0]]  # its time under the lock
    diff = differences(staged(base), reference)
    table.add(
        "`reextract` of the clean run's archive (uninterrupted)",
        first.code == 0 and not diff,
        f"exit {first.code}; staged data " + (f"differs: {', '.join(diff)}" if diff else "equal"),
        first,
    )
    moments = [rng.uniform(0.0, 1.2 * first_locked[0]) for _ in range(reextract_kills)]
    reextract = ["reextract", "--no-progress", "--workers", "2", "--data-dir"]

    finished: dict[int, bool] = {}

    def recycle(i: int) -> list[str]:
        data, at = suite.root / f"rekill{i}", moments[i]
        shutil.copytree(base, data)
        run = run_cli([*reextract, str(data)], suite.scratch, suite.env(), timeout=300,
                      kill_after=after_lock(data, at))  # fmt: skip
        problems = []
        finished[i] = run.code is not None
        if run.code not in (None, 0):
            problems.append(f"exit {run.code} before the kill at {at:.1f} s")
        if run.orphans:
            problems.append(f"{run.orphans} processes alive 10 s after the kill")
        if not lock_is_free(data):
            problems.append("lock held after the kill")
        status = check_status(suite, data)
        if status:
            problems.append(f"after the kill: {status}")
        again = run_cli([*reextract, str(data)], suite.scratch, suite.env(), timeout=300)
        problems += rerun_problems(again, data, reference, "re-run")
        shutil.rmtree(data, ignore_errors=True)
        if problems:
            print(f"    reextract kill #{i} at {at:.2f} s: {'; '.join(problems)}", flush=True)
        return problems

    with ThreadPoolExecutor(suite.parallel) as pool:
        results = list(pool.map(recycle, range(reextract_kills)))
    failures = [f"#{i}: {'; '.join(p)}" for i, p in enumerate(results) if p]
    table.add(
        f"kill -9 of `reextract` at random moments + re-run, x{reextract_kills}",
        not failures,
        f"killed {min(moments, default=0):.1f}-{max(moments, default=0):.1f} s after taking "
        f"the lock (an uninterrupted one held it {first_locked[0]:.1f} s), "
        f"{sum(finished.values())} had "
        f"finished; lock free and `status` working "
        f"after each kill; staged data equal to the clean run in "
        f"{reextract_kills - len(failures)}/{reextract_kills} after the re-run"
        + (f"; FAILURES: {' | '.join(failures[:3])}" if failures else ""),
    )


def check_lock(suite: Suite) -> None:
    """A second crawl started while one runs exits 3 and touches nothing."""
    config = suite.root / "config" / "good.toml"
    data = suite.root / "locked"
    second: list[Run] = []

    def start_second(_elapsed: float) -> None:
        if not second and lock_held(data):
            second.append(suite.crawl(config, data, timeout=120))

    first = suite.crawl(config, data, timeout=300, during=start_second)
    got = second[0].code if second else None
    table_ok = got == 3 and first.code == 0 and "Traceback" not in (second[0].err if second else "")
    suite.table.add(
        "a second crawl while one runs",
        table_ok,
        f"second exit {got} ({second[0].err.strip()[:90] if second else 'never started'}); "
        f"first exit {first.code}",
        second[0] if second else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 2 minutes: fewer kills")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--kills", type=int, default=None, help="crawl kills (default 40)")
    parser.add_argument("--reextract-kills", type=int, default=None, help="default 10")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    parser.add_argument("--no-kills", action="store_true", help="the farm and the lock only")
    parser.add_argument("--parallel", type=int, default=2, help="kill cycles at a time")
    args = parser.parse_args()
    kills = args.kills if args.kills is not None else (6 if args.quick else 40)
    rekills = args.reextract_kills if args.reextract_kills is not None else (2 if args.quick
                                                                             else 10)  # fmt: skip
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the farm and temp dir
    context = mp.get_context("spawn")
    night = context.Value("i", 1)
    queue = context.Queue()
    farm = context.Process(target=_farm, args=(night, queue, args.quick), daemon=True)
    farm.start()
    try:
        bases, control = queue.get(timeout=300)
        with tempfile.TemporaryDirectory(prefix="ogi-adversarial-") as tmp:
            root = Path(tmp)
            for sub in ("cwd", "home", "tmp", "config"):
                (root / sub).mkdir()
            suite = Suite(root, bases, control, night, args.quick, args.parallel)
            print(f"farm: {len(bases)} loopback servers (pid {farm.pid}); temp root {root}")
            config = write_config(root / "config" / "good.toml", bases, list(GOOD), 150)
            clean = root / "clean"
            locked: list[float] = []
            run = suite.crawl(config, clean, timeout=300, during=locked_at(clean, locked))
            reference = staged(clean)
            suite.table.add(
                "clean run: the good portals alone",
                run.code == 0 and len(reference["reports"]) > 0,
                f"exit {run.code}, {len(reference['reports'])} reports, "
                f"{len(reference['facts'])} facts, {len(reference['findings'])} findings",
                run,
            )
            check_farm(suite, reference)
            check_lock(suite)
            if not args.no_kills:
                under_lock = run.seconds - (locked or [0.0])[0]
                check_kills(suite, reference, clean, under_lock, kills, rekills, args.seed)
    finally:
        farm.terminate()
        farm.join(10)
    table = suite.table
    failed = [r for r in table.rows if not r.ok]
    print()
    print(table.markdown())
    print(
        f"\n{len(table.rows) - len(failed)}/{len(table.rows)} checks passed in "
        f"{time.monotonic() - started:.0f} s ({'quick' if args.quick else 'full'}, "
        f"{kills} crawl kills, {rekills} reextract kills, seed {args.seed})"
    )
    if args.markdown:
        args.markdown.write_text(table.markdown() + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
