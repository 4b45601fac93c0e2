"""``python -m pipeline portals``: ``import FILE.csv`` turns a list of portals (name, region
code, URL) into config entries; ``check`` probes each configured portal and prints its
family, 年报 column and report count, or why there is none."""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from pipeline.cli.exit_codes import ExitCode
from pipeline.crawl import load_config
from pipeline.crawl.check import MAX_REQUESTS, MAX_SECONDS, check_portals
from pipeline.crawl.config import PortalConfig, parse_config, select_portals
from pipeline.crawl.portal_list import plan_import, read_rows, toml_entries
from pipeline.errors import ConfigError

DEFAULT_CONFIG = Path("config/portals.toml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Go from a list of county portals to a working crawl config."
    commands = parser.add_subparsers(dest="portals_command", required=True)
    imp = commands.add_parser(
        "import",
        help="append portals from a CSV (name, region code, URL) to the config",
        description=(
            "Append one [[portal]] entry per CSV row (name, region code, URL; a header row "
            "such as name,region_code,url or 名称,区划代码,网址 may say which column is "
            "which). URLs already in the config are skipped; the family is found when "
            "crawling."
        ),
    )
    imp.add_argument("csv", type=Path, metavar="FILE.csv")
    imp.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="TOML file to extend")
    imp.set_defaults(func=run_import)
    check = commands.add_parser(
        "check",
        help="probe each portal: family, 年报 column, reports listed, or why not",
        description=(
            "Probe each configured portal politely (the config's delay, one request at a "
            "time per host, robots.txt) reading listing pages only, at most --max-requests "
            "fetches and --max-seconds per portal, and print what the crawler would find."
        ),
    )
    check.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    check.add_argument("--portal", action="append", default=[], metavar="NAME")
    check.add_argument("--max-requests", type=int, default=MAX_REQUESTS, metavar="N")
    check.add_argument("--max-seconds", type=float, default=MAX_SECONDS, metavar="S")
    check.set_defaults(func=run_check)


def _existing(path: Path) -> tuple[str, list[PortalConfig]]:
    """The config's text and portals ('' and none when the file does not exist yet)."""
    if not path.exists():
        return "", []
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return text, parse_config(data) if data.get("portal") else []


def run_import(args: argparse.Namespace) -> int:
    try:
        raw = args.csv.read_bytes()
    except OSError as exc:
        print(f"portals import: cannot read {args.csv}: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # lists saved by Excel on Chinese Windows
    try:
        config_text, existing = _existing(args.config)
    except (ConfigError, tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        print(f"portals import: invalid config {args.config}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    rows, bad = read_rows(text)
    plan = plan_import(rows, existing)
    plan.invalid.extend(bad)
    for line, why in plan.invalid:
        print(f"  line {line}: skipped, {why}", file=sys.stderr)
    if plan.added:
        prefix = config_text
        if prefix and not prefix.endswith("\n"):
            prefix += "\n"
        new_text = (prefix + "\n" if prefix else "") + toml_entries(plan.added)
        try:
            parse_config(tomllib.loads(new_text))  # never write a config the crawl rejects
        except (ConfigError, tomllib.TOMLDecodeError) as exc:
            print(f"portals import: the entries would not load: {exc}", file=sys.stderr)
            return ExitCode.USAGE
        args.config.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.config.with_name(args.config.name + ".tmp")
        tmp.write_text(new_text, encoding="utf-8")
        os.replace(tmp, args.config)
    print(
        f"portals import: {len(plan.added)} added, {len(plan.duplicates)} already configured, "
        f"{len(plan.invalid)} invalid rows -> {args.config}"
    )
    return ExitCode.OK if rows or not plan.invalid else ExitCode.FAILED


def run_check(args: argparse.Namespace) -> int:
    try:
        portals = select_portals(load_config(args.config), args.portal, args.config)
    except ConfigError as exc:
        print(f"portals check: invalid config: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.max_requests < 1 or args.max_seconds <= 0:
        print("portals check: --max-requests and --max-seconds must be positive", file=sys.stderr)
        return ExitCode.USAGE
    results = check_portals(
        portals,
        max_requests=args.max_requests,
        max_seconds=args.max_seconds,
    )
    for result in results:
        print(result.line())
    found = sum(1 for r in results if r.reports)
    print(f"portals check: {found} of {len(results)} portals list reports")
    return ExitCode.OK if any(r.listing_pages for r in results) else ExitCode.FAILED
