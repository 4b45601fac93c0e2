"""Command line: ``python -m pipeline COMMAND``.

One module per command in this package, named in :data:`COMMANDS` with its help line; each
has an ``add_arguments(parser)`` function that adds the command's options and sets ``func``
(args -> exit code, see :mod:`.exit_codes`). A command's module is imported only when that
command is parsed, so that a command loads what it needs and no other command's
libraries (``--help`` lists them all from the table). The logging options (``-v``, ``-q``,
``--log-format``, ``--log-file``) are accepted before and after the command. SIGTERM is
handled like Ctrl-C (see :class:`Terminated`).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from pipeline.cli import logs
from pipeline.cli.exit_codes import ExitCode
from pipeline.extract import EXTRACTOR_VERSION
from pipeline.logsafe import printable
from pipeline.version import __version__


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    module: str  # its add_arguments(parser) adds the options; imported when the command is parsed
    help: str  # the line ``--help`` shows for it


COMMANDS = (
    Command(
        "extract",
        "pipeline.cli.extract",
        "extract one report (URL or file) and print or save its figures",
    ),
    Command(
        "crawl", "pipeline.cli.crawl", "fetch annual reports from the configured county portals"
    ),
    Command(
        "status",
        "pipeline.cli.status",
        "the last crawl, the URLs that failed, the reports that need attention",
    ),
    Command(
        "reextract",
        "pipeline.cli.reextract",
        "re-extract every archived report with the current extractor (no network)",
    ),
    Command(
        "demo",
        "pipeline.cli.demo",
        "serve a bundled sample portal on 127.0.0.1, crawl, extract and stage it",
    ),
    Command(
        "export-warc",
        "pipeline.cli.export_warc",
        "write the raw archive to a WARC file (the web-archiving standard)",
    ),
    Command(
        "portals",
        "pipeline.cli.portals",
        "import a list of portals into the config, or probe the configured portals",
    ),
    Command(
        "compact",
        "pipeline.cli.compact",
        "publish the staged writes to the Parquet files plain readers see",
    ),
)


class CommandParser(argparse.ArgumentParser):
    """A command's parser, completed by its module's ``add_arguments`` when it is first used
    (to parse the command's arguments or print its help)."""

    def __init__(self, *args: object, module: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.module = module

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self.module is not None:
            module, self.module = self.module, None
            importlib.import_module(module).add_arguments(self)
            add_logging_options(self, top=False)  # after the command's own, as help lists them
        return super().parse_known_args(args, namespace)


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
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for command in COMMANDS:
        subparsers.add_parser(command.name, help=command.help, module=command.module)
    return parser


def damaged_file_errors() -> tuple[type[Exception], ...]:
    """What a damaged staged Parquet file raises: the errors of pyarrow and DuckDB, when the
    command loaded them (a library never imported raised nothing)."""
    errors = []
    if (arrow := sys.modules.get("pyarrow")) is not None:
        errors.append(arrow.ArrowException)
    if (duckdb := sys.modules.get("duckdb")) is not None:
        errors.append(duckdb.Error)
    return tuple(errors)


class _ReaderMayLeave:
    """The standard output of a command whose reader may stop early (``status | head``):
    the reader has what it wanted, so the rest of the output is dropped (the descriptor
    is pointed at /dev/null, so that nothing fails when Python flushes at exit) and the
    command goes on to its own end and exit code, instead of a traceback."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self._gone = True
        with contextlib.suppress(OSError, ValueError):  # no descriptor (a test's capture)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)

    def __getattr__(self, name: str) -> object:  # encoding, isatty, fileno ...
        return getattr(self._stream, name)


@contextlib.contextmanager
def reader_may_leave() -> Iterator[None]:
    """While the command line is read and the command runs, a closed pipe on the standard
    output is not an error."""
    stream = sys.stdout
    sys.stdout = _ReaderMayLeave(stream)  # type: ignore[assignment]
    try:
        yield
        sys.stdout.flush()
    finally:
        sys.stdout = stream


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
    with reader_may_leave():  # --help and --version too
        return _main(argv)


def _main(argv: list[str] | None) -> int:
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
        except damaged_file_errors() as exc:
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
