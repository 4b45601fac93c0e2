"""``python -m pipeline extract SOURCE``: one-off extraction of a URL or a local file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

import pandas as pd
import pyarrow as pa

from pipeline.canonical import (
    APPLICANT_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMN_LABELS,
    REVIEW_COLUMNS,
    TABLE_LABELS,
)
from pipeline.cli.exit_codes import ExitCode
from pipeline.datadir import default_data_dir
from pipeline.errors import LockedError, SourceError
from pipeline.extract import extract_document
from pipeline.flows.oneoff import read_source
from pipeline.model import Report

FORMATS = ("table", "jsonl", "csv", "parquet")

# Staging (``--stage``), the staged facts' types (csv, jsonl, parquet) and the Parquet
# writer are imported where they are used: printing the tables, the default, needs none
# of them, and ``python -m pipeline extract FILE`` is mostly imports.


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Extract the three statistical tables of one report."
    parser.add_argument(
        "source", help="an http(s) URL or a local file (HTML, text, PDF, DOCX, DOC/WPS)"
    )
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
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="default: $OGI_DATA_DIR, else data"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        content, content_type = read_source(args.source)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    report = extract_document(content, source=args.source, content_type=content_type)
    if args.format == "parquet" and args.output is None:
        print("error: --format parquet needs -o PATH", file=sys.stderr)
        return ExitCode.USAGE
    try:
        if args.output is None:
            write(report, args.source, args.format, sys.stdout)
        elif args.format == "parquet":  # the staged types: decimal amounts, categorical keys
            import pyarrow.parquet as pq

            pq.write_table(output_table(report, args.source), args.output, compression="zstd")
        else:
            with args.output.open("w", encoding="utf-8") as stream:
                write(report, args.source, args.format, stream)
    except OSError as exc:
        where = args.output or "the standard output"
        print(f"error: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return ExitCode.FAILED
    if args.stage:
        from pipeline.flows.oneoff_staging import stage_source

        data_dir = args.data_dir or default_data_dir()
        try:
            stage_source(data_dir, args.source, content, content_type, report)
        except LockedError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return ExitCode.LOCKED
        except OSError as exc:
            print(f"error: cannot stage into {data_dir}: {exc.strerror or exc}", file=sys.stderr)
            return ExitCode.FAILED
        print(f"staged into {data_dir}", file=sys.stderr)
    if report.meta.status == "no_tables" and not report.pre2019_list:
        print(f"error: {args.source}: no report tables found", file=sys.stderr)
        return ExitCode.NO_TABLES
    if report.meta.status in ("image_only", "unreadable"):
        why = next(
            (f.message for f in report.finding_list if f.status == "warning"), report.meta.status
        )
        print(f"error: {args.source}: {report.meta.status}: {why}", file=sys.stderr)
        return ExitCode.UNREADABLE
    return ExitCode.OK


def output_table(report: Report, source: str) -> pa.Table:
    """What csv and parquet write: the facts with the staged facts' columns plus
    ``source``; for a report with no canonical figure but a pre-2019 statistics table,
    that table's figures (plus ``source``)."""
    from pipeline.flows.oneoff_staging import facts_table

    if _pre2019_only(report):
        frame = report.pre2019.assign(source=source)
        return pa.Table.from_pandas(frame, preserve_index=False)
    return facts_table(report, source)


def _pre2019_only(report: Report) -> bool:
    """A report with no canonical figure but a pre-2019 statistics table."""
    return bool(report.pre2019_list) and not report.fact_list


def write(report: Report, source: str, fmt: str, stream: TextIO) -> None:
    """``report`` as readable tables, or its figures (see :func:`output_table`)."""
    if fmt == "table":
        stream.write(render(report))
        return
    if fmt == "csv":
        if _pre2019_only(report):
            report.pre2019.assign(source=source).to_csv(stream, index=False)
        else:
            facts_frame(report, source).to_csv(stream, index=False)
        return
    for figure in report.pre2019_list:  # jsonl: the pre-2019 table's figures first
        record = {
            "table": "pre2019",
            "key": figure.key,
            "label": figure.label,
            "numbering": figure.numbering,
            "parent": figure.parent,
            "period": figure.period,
            "period_kind": figure.period_kind,
            "unit": figure.unit,
            "value": figure.value,
            "amount": None if figure.amount is None else str(figure.amount),
            "raw": figure.raw,
            "semantic": figure.semantic,
            "source": source,
        }
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    for record in facts_frame(report, source).to_dict("records"):  # amounts: exact strings
        record = {k: None if _missing(v) else v for k, v in record.items()}
        record["amount"] = None if record["amount"] is None else str(record["amount"])
        stream.write(json.dumps(record, ensure_ascii=False, default=int) + "\n")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def facts_frame(report: Report, source: str) -> pd.DataFrame:
    """The facts as :func:`pipeline.load.facts` gives them: decimals at the printed scale."""
    from pipeline.datasets import printed_amounts, to_pandas
    from pipeline.flows.oneoff_staging import facts_table

    frame = to_pandas(facts_table(report, source))
    frame["amount"] = printed_amounts(frame["amount"])
    return frame


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
        columns = [APPLICANT_COLUMN_LABELS[c] for c in APPLICANT_COLUMNS]
        frame = pd.DataFrame.from_dict(rows, orient="index").reindex(
            columns=list(APPLICANT_COLUMNS)
        )
        frame.columns = columns
    elif table == "reviews_lawsuits":
        frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(REVIEW_COLUMNS))
        frame.columns = [REVIEW_COLUMN_LABELS[c] for c in REVIEW_COLUMNS]
    else:
        frame = pd.DataFrame.from_dict(rows, orient="index")
    return frame.fillna("")


def pre2019_frame(report: Report) -> pd.DataFrame:
    """A pre-2019 statistics table laid out as printed: one row per indicator, its unit
    and key, one column per period."""
    rows: dict[str, dict[str, str]] = {}
    periods: list[str] = []
    for figure in report.pre2019_list:
        row = rows.setdefault(figure.label, {"unit": figure.unit or "", "key": figure.key or "-"})
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
        f"format: {meta.national_format}   status: {meta.status}   "
        f"facts: {len(report.fact_list)} ({sum(f.semantic == 'number' for f in report.fact_list)}"
        f" numbers)   document: {meta.document_format or '-'}",
        "",
    ]
    for number, (table, (title, _)) in zip("二三四", TABLE_LABELS.items(), strict=True):
        frame = table_frame(report, table)
        lines.append(f"{number}、{title} ({table})")
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
