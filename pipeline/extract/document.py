"""Entry point of the extractor: bytes of one document in, a :class:`Report` out."""

from __future__ import annotations

import hashlib

from pipeline.encoding import decode_with_codec
from pipeline.extract import layout
from pipeline.extract.html_cells import html_cells, html_text, parse_html
from pipeline.extract.identities import check_identities
from pipeline.extract.metadata import read_metadata
from pipeline.extract.sniff import looks_like_html
from pipeline.extract.tables import TABLES, ParsedTables, parse_tables, settle_national_format
from pipeline.extract.text_cells import read_text_cells, text_cells
from pipeline.model import Finding, Report, ReportMeta

#: Bumped whenever a change can alter extracted figures; staged rows carry it.
EXTRACTOR_VERSION = "1.1.0"
METADATA_CHARS = 12_000  # title, agency, dates and 索引号 are printed near the top


def _read_html(markup: str | bytes) -> tuple[ParsedTables, str, dict[str, str]]:
    """``markup``: the page as text, or as UTF-8 bytes (parsed without re-encoding)."""
    tree = parse_html(markup)
    meta_tags = {
        (node.attributes.get("name") or node.attributes.get("property") or ""): (
            node.attributes.get("content") or ""
        )
        for node in tree.css("meta")
    }
    title_node = tree.css_first("title")
    if title_node is not None:
        meta_tags.setdefault("title", title_node.text(strip=True))
    parsed = parse_tables(html_cells(tree))
    if not parsed.facts:
        # Some pages print the tables as pipe text in paragraphs rather than as <table>.
        lines = html_text(parse_html(markup, line_breaks=True))
        from_text = parse_tables(text_cells(lines))
        if from_text.facts:
            parsed = from_text
    return parsed, html_text(tree, limit=METADATA_CHARS, by_node=True), meta_tags


def _expected_keys(national_format: str, tables: set[str]) -> set[str]:
    fmt: layout.Format = "2019" if national_format == "2019" else "2021"
    keys: set[str] = set()
    if "active_disclosure" in tables:
        for row, columns in layout.ACTIVE_COLUMNS[fmt].items():
            keys.update(f"active_disclosure/{row}/{c}" for c in columns)
    if "applications" in tables:
        for row in layout.APPLICATION_ROWS[fmt]:
            keys.update(f"applications/{row}/{c}" for c in layout.APPLICANT_COLUMNS)
    if "reviews_lawsuits" in tables:
        keys.update(f"reviews_lawsuits/{r}/{c}" for r, c in layout.REVIEW_CELLS)
    return keys


def _structure(parsed: ParsedTables, national_format: str) -> tuple[list[Finding], bool]:
    """Structural findings, and whether every table was read in full."""
    findings: list[Finding] = []
    tables_with_facts = {f.table for f in parsed.facts}
    for table in TABLES:
        if table not in tables_with_facts and national_format != "pre2019":
            findings.append(
                Finding(
                    check="table_missing",
                    status="warning",
                    table=table,
                    message="no figures of this table were found",
                )
            )
    got = {f.key for f in parsed.facts}
    missing = sorted(_expected_keys(national_format, tables_with_facts) - got)
    rows = sorted({k.rsplit("/", 1)[0] for k in missing})
    if rows:
        findings.append(
            Finding(
                check="rows_missing",
                status="warning",
                message=f"{len(rows)} row(s) not extracted: {', '.join(rows)}",
            )
        )
    if parsed.ended_inside_table:
        findings.append(
            Finding(
                check="truncated",
                status="warning",
                message="the document ends inside a table; the incomplete rows are left out",
            )
        )
    complete = not missing and tables_with_facts == set(TABLES)
    return findings, complete


def extract_document(content: bytes, *, source: str, content_type: str | None = None) -> Report:
    """Extract one report. Never raises on bad content: problems become findings."""
    text_or_markup, codec = decode_with_codec(content, content_type)
    if looks_like_html(content, content_type):
        utf8 = codec == "utf-8"
        parsed, text, meta_tags = _read_html(content if utf8 else text_or_markup)
    else:
        text, meta_tags = text_or_markup, {}
        cells = read_text_cells(text)
        parsed = parse_tables(cells.cells, glued=cells.glued, flat=cells.flat)
    page = read_metadata(text, meta_tags)
    national_format = settle_national_format(parsed, page.report_year)
    structure, complete = _structure(parsed, national_format)
    status = "no_tables" if not parsed.facts else "ok" if complete else "partial"
    meta = ReportMeta(
        source=source,
        sha256=hashlib.sha256(content).hexdigest(),
        extractor_version=EXTRACTOR_VERSION,
        title=page.title,
        agency=page.agency,
        report_year=page.report_year,
        published=page.published,
        index_no=page.index_no,
        national_format=national_format,
        status=status,  # type: ignore[arg-type]
    )
    findings = [*parsed.findings, *structure]
    if parsed.facts:
        findings += check_identities(parsed.facts, national_format)
    return Report(
        meta=meta, fact_list=parsed.facts, finding_list=findings, pre2019_list=parsed.pre2019
    )
