"""``python -m pipeline extract SOURCE``: one-off extraction of a URL or a local file."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import pandas as pd

from pipeline.api import SourceError, is_url, read_source
from pipeline.extract import extract_document, layout
from pipeline.model import Report

FORMATS = ("table", "jsonl", "csv", "parquet")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract one report (URL or file) and print or save its figures",
        description="Extract the three statistical tables of one report.",
    )
    parser.add_argument(
        "source", help="an http(s) URL or a local file (HTML, text, PDF, DOCX, DOC/WPS)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table: readable tables and findings (default); jsonl: one JSON object per fact; "
        "csv / parquet: the facts table",
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument(
        "--stage", action="store_true", help="also stage the report into the data directory"
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        content, content_type = read_source(args.source)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = extract_document(content, source=args.source, content_type=content_type)
    if args.format == "parquet" and args.output is None:
        print("error: --format parquet needs -o PATH", file=sys.stderr)
        return 2
    try:
        if args.output is None:
            write(report, args.format, sys.stdout)
        elif args.format == "parquet":
            report.facts.to_parquet(args.output, index=False)
        else:
            with args.output.open("w", encoding="utf-8") as stream:
                write(report, args.format, stream)
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.stage:
        from pipeline.crawl.state import CrawlLocked

        try:
            stage_one(args.data_dir, args.source, content, content_type, report)
        except CrawlLocked as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        except OSError as exc:
            print(
                f"error: cannot stage into {args.data_dir}: {exc.strerror or exc}", file=sys.stderr
            )
            return 1
        print(f"staged into {args.data_dir}", file=sys.stderr)
    if report.meta.status == "no_tables":
        print(f"error: {args.source}: no report tables found", file=sys.stderr)
        return 3
    if report.meta.status in ("image_only", "unreadable"):
        why = next(
            (f.message for f in report.finding_list if f.status == "warning"), report.meta.status
        )
        print(f"error: {args.source}: {report.meta.status}: {why}", file=sys.stderr)
        return 3
    return 0


def stage_one(
    data_dir: Path, source: str, content: bytes, content_type: str | None, report: Report
) -> None:
    """Archive the body (so ``reextract`` can re-read it) and stage the report, holding the
    crawl lock so that a running crawl or reextract is not overwritten."""
    from pipeline.archive import write_body
    from pipeline.crawl.state import CrawlLock
    from pipeline.stage import stage_report

    url = source if is_url(source) else Path(source).resolve().as_uri()
    fetched_at = datetime.now(UTC)
    with CrawlLock(data_dir):
        write_body(
            data_dir, content, url=url, kind="report", content_type=content_type,
            fetched_at=fetched_at,
        )
        stage_report(
            data_dir, report, url=url, region=None, region_code=None, fetched_at=fetched_at
        )


def write(report: Report, fmt: str, stream: TextIO) -> None:
    if fmt == "jsonl":
        for fact in report.fact_list:
            record = {
                "table": fact.table,
                "row": fact.row,
                "column": fact.column,
                "value": None if fact.number is None else _json_number(fact.number),
                "unit": fact.unit,
                "raw": fact.raw,
                "semantic": fact.semantic,
                "row_label": fact.row_label,
                "column_label": fact.column_label,
            }
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        report.facts.to_csv(stream, index=False)
    else:
        stream.write(render(report))


def _json_number(number: object) -> int | float:
    return number if isinstance(number, int) else float(number)  # type: ignore[arg-type]


def _cell(fact_value: object, semantic: str, raw: str) -> str:
    if semantic == "blank":
        return "·"
    if semantic == "mark":
        return raw.strip()
    return str(fact_value)


def table_frame(report: Report, table: str) -> pd.DataFrame:
    """One statistical table laid out as printed: rows by columns."""
    rows: dict[str, dict[str, str]] = {}
    for fact in report.fact_list:
        if fact.table == table:
            rows.setdefault(fact.row, {})[fact.column] = _cell(fact.number, fact.semantic, fact.raw)
    if table == "applications":
        columns = [layout.APPLICANT_COLUMN_LABELS[c] for c in layout.APPLICANT_COLUMNS]
        frame = pd.DataFrame.from_dict(rows, orient="index").reindex(
            columns=list(layout.APPLICANT_COLUMNS)
        )
        frame.columns = columns
    elif table == "reviews_lawsuits":
        frame = pd.DataFrame.from_dict(rows, orient="index").reindex(
            columns=list(layout.REVIEW_COLUMNS)
        )
        frame.columns = [layout.REVIEW_COLUMN_LABELS[c] for c in layout.REVIEW_COLUMNS]
    else:
        frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.fillna("")


def render(report: Report) -> str:
    meta = report.meta
    lines = [
        f"{meta.title or '(no title)'}",
        f"agency: {meta.agency or '-'}   year: {meta.report_year or '-'}   "
        f"format: {meta.national_format}   status: {meta.status}   facts: {len(report.fact_list)}"
        f"   document: {meta.document_format or '-'}",
        "",
    ]
    names = {
        "active_disclosure": "二、主动公开政府信息情况 (active_disclosure)",
        "applications": "三、收到和处理政府信息公开申请情况 (applications)",
        "reviews_lawsuits": "四、行政复议、行政诉讼情况 (reviews_lawsuits)",
    }
    for table, name in names.items():
        frame = table_frame(report, table)
        lines.append(name)
        lines.append(frame.to_string() if not frame.empty else "  (not found)")
        lines.append("")
    findings = report.finding_list
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.status] = counts.get(finding.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines.append(f"findings: {summary or 'none'}   (· = blank cell)")
    for finding in findings:
        if finding.status != "pass":
            where = "/".join(p for p in (finding.table, finding.row, finding.column) if p)
            lines.append(f"  [{finding.status}] {finding.check} {where}: {finding.message}")
    return "\n".join(lines) + "\n"
