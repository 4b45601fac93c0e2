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
    parser.add_argument("source", help="an http(s) URL or a local file (HTML or text)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table: readable tables and findings (default); jsonl: one JSON object per fact; "
        "csv / parquet: the facts table (for a report before 2019: its statistics table, one "
        "row per printed figure)",
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
            figures_frame(report).to_parquet(args.output, index=False)
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
    if report.meta.status == "no_tables" and not report.pre2019_list:
        print(f"error: {args.source}: no report tables found", file=sys.stderr)
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


def figures_frame(report: Report) -> pd.DataFrame:
    """What csv and parquet write: the facts, or for a report with no canonical figure but
    a pre-2019 statistics table, that table's figures."""
    if report.pre2019_list and not report.fact_list:
        return report.pre2019
    return report.facts


def write(report: Report, fmt: str, stream: TextIO) -> None:
    if fmt == "jsonl":
        for figure in report.pre2019_list:
            record = {
                "table": "pre2019",
                "key": figure.key,
                "label": figure.label,
                "numbering": figure.numbering,
                "parent": figure.parent,
                "period": figure.period,
                "period_kind": figure.period_kind,
                "unit": figure.unit,
                "value": None if figure.number is None else _json_number(figure.number),
                "raw": figure.raw,
                "semantic": figure.semantic,
            }
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
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
        figures_frame(report).to_csv(stream, index=False)
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


def pre2019_frame(report: Report) -> pd.DataFrame:
    """A pre-2019 statistics table laid out as printed: one row per indicator, its unit
    and key, one column per period."""
    rows: dict[str, dict[str, str]] = {}
    periods: list[str] = []
    for figure in report.pre2019_list:
        row = rows.setdefault(
            figure.label, {"unit": figure.unit or "", "key": figure.key or "-"}
        )
        row[figure.period] = _cell(figure.number, figure.semantic, figure.raw)
        if figure.period not in periods:
            periods.append(figure.period)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.reindex(columns=["unit", *periods, "key"]).fillna("")


def render(report: Report) -> str:
    meta = report.meta
    lines = [
        f"{meta.title or '(no title)'}",
        f"agency: {meta.agency or '-'}   year: {meta.report_year or '-'}   "
        f"format: {meta.national_format}   status: {meta.status}   facts: {len(report.fact_list)}",
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
        if frame.empty and meta.national_format == "pre2019":
            lines.append("  (none: the national tables begin with the reports on 2019)")
        else:
            lines.append(frame.to_string() if not frame.empty else "  (not found)")
        lines.append("")
    if report.pre2019_list:
        lines.append(f"政府信息公开情况统计表 (pre2019): {len(report.pre2019_list)} figures")
        lines.append(pre2019_frame(report).to_string())
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
