"""The demo flow: serve the bundled sample portal on 127.0.0.1, run the nightly flow on it
(crawl, archive, extract, stage), summarise what is staged."""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import load
from pipeline.crawl import Politeness, PortalConfig
from pipeline.demo.server import serve_site
from pipeline.errors import DemoError, LockedError, PortInUseError
from pipeline.flows.nightly import nightly
from pipeline.model import FINDING_STATUSES
from pipeline.stage import remove_reports

#: A fixed port keeps the report URLs, and so the report ids, the same from run to run.
#: The URLs (and ids) contain the port, so after a run on another port the demo removes
#: the copies earlier runs staged: running it again leaves one copy of every report.
DEFAULT_PORT = 8731

#: (portal directory, name, region, 6-digit region code)
PORTALS = (
    ("pingtan", "平潭综合实验区（示例）", "福建省平潭综合实验区", "350128"),
    ("kecheng", "衢州市柯城区（示例）", "浙江省衢州市柯城区", "330802"),
    ("shuyang", "沭阳县（示例）", "江苏省宿迁市沭阳县", "321322"),
    ("shanghai", "上海市（示例）", "上海市", "310000"),
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    data_dir: Path
    crawl_lines: list[str]
    reports: pd.DataFrame
    fact_rows: int
    findings: pd.DataFrame
    #: report_id -> figures of its pre-2019 statistics table (reports that have one)
    pre2019_counts: dict[str, int] = field(default_factory=dict)


def demo_portals(base_url: str) -> list[PortalConfig]:
    """The crawler's portal configuration for the sample site served at ``base_url``."""
    return [
        PortalConfig(
            name=name,
            start_urls=(f"{base_url}/{folder}/xxgknb/index.html",),
            region=region,
            region_code=code,
            politeness=Politeness.off(robots=True),  # loopback: no delay; robots.txt read
        )
        for folder, name, region, code in PORTALS
    ]


def run_demo(data_dir: Path, *, port: int = DEFAULT_PORT) -> DemoResult:
    """Serve the sample portal, crawl it into ``data_dir``, return what is staged."""
    data_dir = Path(data_dir)
    try:
        server = serve_site(port)
        base_url = server.__enter__()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on 127.0.0.1 is in use; pass --port N (another free port)"
            ) from None
        raise DemoError(f"cannot serve the sample portal: {exc}") from None
    try:
        summary = nightly(demo_portals(base_url), data_dir)
    except LockedError as exc:
        raise DemoError(f"another crawl is using {data_dir}: {exc}") from None
    finally:
        server.__exit__(None, None, None)
    _drop_earlier_runs(data_dir, base_url)
    lines = [p.line() for p in summary.portals]
    return DemoResult(
        data_dir=data_dir,
        crawl_lines=lines,
        reports=load.reports(data_dir=data_dir),
        fact_rows=len(load.facts(data_dir=data_dir)),
        findings=load.findings(data_dir=data_dir),
        pre2019_counts=_pre2019_counts(data_dir),
    )


def _pre2019_counts(data_dir: Path) -> dict[str, int]:
    figures = load.pre2019(data_dir=data_dir)
    sizes = figures.groupby("report_id", observed=True).size()
    return {str(rid): int(n) for rid, n in sizes.items()}


def _demo_path(url: str) -> str | None:
    """The sample-portal path of a URL the demo served on 127.0.0.1 (any port), else None."""
    folders = "|".join(re.escape(folder) for folder, *_ in PORTALS)
    found = re.fullmatch(rf"http://127\.0\.0\.1:\d+(/(?:{folders})/xxgknb/.*)", url)
    return found.group(1) if found else None


def _drop_earlier_runs(data_dir: Path, base_url: str) -> list[str]:
    """Keep one staged copy per sample page: this run's (on ``base_url``) if it staged
    one, else the newest earlier copy (the crawler does not re-stage a page whose content
    it already has, e.g. back on a port used before). Returns the report_ids removed."""
    reports = load.reports(data_dir=data_dir)
    if reports.empty:
        return []
    reports = reports.assign(
        _path=[_demo_path(u) for u in reports["url"]],
        _here=[u.startswith(base_url + "/") for u in reports["url"]],
    )
    mine = reports[reports["_path"].notna()]
    mine = mine.sort_values(["_here", "extracted_at"], kind="stable")
    keep = set(mine.drop_duplicates("_path", keep="last")["report_id"])
    return remove_reports(data_dir, set(mine["report_id"]) - keep)


def summary_text(result: DemoResult) -> str:
    """What the demo prints after the crawl."""
    reports = result.reports
    findings = result.findings
    root = result.data_dir / "parquet"
    out = ["", "Crawl:"]
    out += [f"  {line}" for line in result.crawl_lines]
    older = sum(result.pre2019_counts.values())
    more = f", {older} of pre-2019 tables" if older else ""
    out += ["", f"Staged {len(reports)} reports, {result.fact_rows} figures{more}:"]
    for row in reports.itertuples():
        year = "?" if pd.isna(row.report_year) else int(row.report_year)
        if str(row.report_id) in result.pre2019_counts:
            out.append(
                f"  {year}  {row.agency or '(agency unknown)'}  [{row.national_format} format]"
                f"  {result.pre2019_counts[str(row.report_id)]} figures of its 统计表"
            )
            continue
        out.append(
            f"  {year}  {row.agency or '(agency unknown)'}  [{row.national_format} format, "
            f"{row.status}]  {row.fact_rows} figures ({row.number_facts} numbers), "
            f"{row.identity_failures} identity failures, {row.warnings} warnings"
        )
    if not findings.empty:
        counts = findings["status"].astype("string").value_counts()
        cross = findings[findings["check"].astype("string") == "cross_year_carry"]
        out += [
            "",
            f"Findings: {len(findings)} in all: "
            + ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in FINDING_STATUSES)
            + f"; cross-year carry checks: {len(cross)}"
            f" ({int((cross['status'] == 'pass').sum())} pass)",
        ]
    out += [
        "",
        "Parquet datasets:",
        f"  {root / 'reports'}",
        f"  {root / 'facts'}",
        f"  {root / 'findings'}",
        f"  {root / 'pre2019'}",
        "",
        "Load them:",
        f'  pandas.read_parquet("{root / "facts"}")',
        f'  from pipeline import load; load.applications(data_dir="{result.data_dir}")',
        "  notebooks/explore.ipynb",
    ]
    return "\n".join(out)
