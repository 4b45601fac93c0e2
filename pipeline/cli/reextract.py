"""``python -m pipeline reextract``: re-run the extractor over the raw archive and re-stage."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import default_data_dir, parquet_dir, raw_dir
from pipeline.errors import ArchiveError, LockedError
from pipeline.extract import EXTRACTOR_VERSION
from pipeline.flows import reextract
from pipeline.terminal import console, stderr_is_terminal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Re-run the current extractor over the raw archive on all cores, re-stage the "
        "Parquet data, and print which reports' figures changed. Exit status 3 when a "
        "crawl holds the data directory's writer lock."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.add_argument(
        "--since",
        metavar="VERSION",
        type=extractor_version,
        help="only reports staged by an extractor older than VERSION, e.g. 1.0.0 "
        "(and unstaged pages)",
    )
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (none when not a terminal)"
    )
    parser.set_defaults(func=run)


#: an extractor version as staged: numbers separated by dots (1.0.0)
VERSION = re.compile(r"\d+(\.\d+){0,3}")


def extractor_version(text: str) -> str:
    """``--since``'s value, checked: a typo would otherwise select every report or none."""
    if not VERSION.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an extractor version: numbers and dots, like "
            f"{EXTRACTOR_VERSION} (the current one)"
        )
    return text.strip()


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    archived = (raw_dir(data_dir) / "index.sqlite").is_file()
    # staged data: a published or a pending file (any() stops at the first)
    if not archived and not any(parquet_dir(data_dir).rglob("*.parquet")):
        print(
            f"error: {data_dir}: no raw archive or staged data here (run a crawl first)",
            file=sys.stderr,
        )
        return ExitCode.FAILED
    show = None if args.no_progress or not stderr_is_terminal() else ProgressBar()
    try:
        outcome = reextract.run(data_dir, since=args.since, workers=args.workers, progress=show)
    except LockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.LOCKED
    except (ArchiveError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    finally:
        if show is not None:
            show.close()
    print(
        f"re-extracted {outcome.examined} documents: {outcome.staged} staged, "
        f"{len(outcome.changed)} with changed figures, {len(outcome.added)} newly staged, "
        f"{len(outcome.failed)} failed, {len(outcome.kept)} kept as staged (nothing read now)"
    )
    for rid, lines in sorted(outcome.changed.items()):
        print(f"changed {rid} {outcome.titles.get(rid, '')}")
        for line in lines:
            print(f"    {line}")
    for rid in outcome.added:
        print(f"new     {rid} {outcome.titles.get(rid, '')}")
    for rid, why in sorted(outcome.kept.items()):
        print(f"kept    {rid} {outcome.titles.get(rid, '')}: {why}; the staged version stays")
    for url, reason in outcome.failed:
        print(f"failed  {url}: {reason}")
    print(f"staged data: {parquet_dir(data_dir)}")
    return ExitCode.FAILED if outcome.failed and not outcome.staged else ExitCode.OK


class ProgressBar:
    """Re-extraction progress as a rich bar on the shared console (log lines print above
    it); callable as ``progress(done, total)``. Only on a terminal: see :func:`run`."""

    def __init__(self) -> None:
        self.bars = Progress(
            TextColumn("re-extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console(),
            transient=True,
        )
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.bars.start()
            self.task = self.bars.add_task("", total=total)
        self.bars.update(self.task, completed=done, total=total)

    def close(self) -> None:
        self.bars.stop()
