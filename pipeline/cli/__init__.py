"""Command line: ``python -m pipeline COMMAND``.

One module per command in this package, each with a ``register(subparsers)`` function
that adds its parser and sets ``func`` (args -> exit code, see :mod:`.exit_codes`). The
logging options (``-v``, ``-q``, ``--log-format``, ``--log-file``) are accepted before and
after the command. SIGTERM is handled like Ctrl-C (see :class:`Terminated`).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import duckdb
import pyarrow as pa

from pipeline.cli import logs
from pipeline.cli.exit_codes import ExitCode
from pipeline.extract import EXTRACTOR_VERSION
from pipeline.logsafe import printable
from pipeline.version import __version__

# One module per command; each exposes register(subparsers).
COMMAND_MODULES = [
    "pipeline.cli.extract",
    "pipeline.cli.crawl",
    "pipeline.cli.status",
    "pipeline.cli.reextract",
    "pipeline.cli.demo",
    "pipeline.cli.export_warc",
    "pipeline.cli.portals",
    "pipeline.cli.compact",
]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, like Ctrl-C's KeyboardInterrupt: what
    systemd and cron wrappers send to stop a command. A crawl catches the signal itself
    and stops cleanly; elsewhere this unwinds to :func:`main` (exit 143)."""


def version_text() -> str:
    return f"gov-ogi-pipeline {__version__} (extractor {EXTRACTOR_VERSION})"


def add_logging_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The logging options; on a command's parser they default to "not given" so that
    the same option given before the command is kept."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("logging")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="more log detail: -v debug lines and one line per HTTP request",
    )
    group.add_argument(
        "-q", "--quiet", action="count", default=default(0), help="warnings and errors only"
    )
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=default("text"),
        help="text lines (default) or one JSON object per line",
    )
    group.add_argument(
        "--log-file",
        type=Path,
        metavar="PATH",
        default=default(None),
        help="append log lines to PATH instead of stderr",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Crawl, extract and stage 政府信息公开工作年度报告 figures.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    add_logging_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in subparsers.choices.values():
        add_logging_options(command, top=False)
    return parser


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the command runs, SIGTERM raises :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(_signum: int, _frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else ExitCode.USAGE
    try:
        logs.configure(
            verbose=args.verbose, quiet=args.quiet, fmt=args.log_format, log_file=args.log_file
        )
    except OSError as exc:
        print(f"error: --log-file {args.log_file}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.USAGE
    with sigterm_raises():
        try:
            return int(args.func(args) or 0)
        except Terminated:
            print("terminated (SIGTERM)", file=sys.stderr)
            return ExitCode.TERMINATED
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return ExitCode.INTERRUPTED
        except sqlite3.DatabaseError as exc:
            print(
                f"error: a database under the data directory is damaged ({exc}): move "
                "state/crawl.sqlite or raw/index.sqlite aside and run again (the raw "
                "archive's bodies are kept; a new crawl state refetches what it needs)",
                file=sys.stderr,
            )
            return ExitCode.FAILED
        except (pa.ArrowException, duckdb.Error) as exc:
            print(
                f"error: a staged Parquet file is damaged ({printable(str(exc), 300)}): move "
                "it aside and run `python -m pipeline reextract` to stage its reports again "
                "from the raw archive",
                file=sys.stderr,
            )
            return ExitCode.FAILED
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            print(
                f"error: the disk is full ({exc.filename or exc}): free space and run again; "
                "what was written before stays whole",
                file=sys.stderr,
            )
            return ExitCode.FAILED
