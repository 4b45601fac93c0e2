"""``python -m pipeline export-warc -o FILE``: the raw archive as one WARC file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.archive import export_warc
from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import default_data_dir, raw_dir

KINDS = ("listing", "report", "attachment")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write every archived body to a gzipped WARC file: a response record with its "
        "URL, fetch time, HTTP status and headers, or a resource record where no HTTP "
        "answer was kept (local files)."
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .warc.gz to write")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="only bodies of this kind (repeatable; default: every kind)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir: Path = args.data_dir or default_data_dir()
    if not (raw_dir(data_dir) / "index.sqlite").is_file():
        print(f"error: {data_dir}: no raw archive here (run a crawl first)", file=sys.stderr)
        return ExitCode.FAILED
    try:
        summary = export_warc(data_dir, args.output, kinds=args.kind)
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.FAILED
    print(
        f"wrote {summary.records} records to {args.output} ({summary.responses} responses, "
        f"{summary.resources} resources; {summary.missing} bodies missing from the archive)"
    )
    return ExitCode.OK
