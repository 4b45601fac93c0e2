"""Entry point of the extractor: bytes of one document in, a :class:`Report` out."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from selectolax.lexbor import LexborHTMLParser

from pipeline.encoding import decode_counting, decode_with_codec
from pipeline.extract import layout
from pipeline.extract.formats import document_format
from pipeline.extract.html_cells import (
    html_cells,
    html_lines,
    html_text,
    page_nodes,
    parse_html,
)
from pipeline.extract.identities import check_identities
from pipeline.extract.metadata import read_metadata
from pipeline.extract.ocr_verify import verify as verify_ocr
from pipeline.extract.tables import TABLES, ParsedTables, parse_tables, settle_national_format
from pipeline.extract.text_cells import read_text_cells, text_cells
from pipeline.html_depth import MAX_DEPTH, cap_nesting

if TYPE_CHECKING:
    from pipeline.extract.ocr import OcrContent

from pipeline.model import (
    DocumentFormat,
    Fact,
    Finding,
    Report,
    ReportMeta,
    ReportStatus,
)

#: Bumped whenever a change can alter extracted figures; staged rows carry it.
#: 1.1: PDF, DOCX, DOC; image_only and unreadable statuses; no figure from prose, glued
#: rows split by the identities, pre-2019 statistics tables.
EXTRACTOR_VERSION = "1.1.0"
METADATA_CHARS = 12_000  # title, agency, dates and 索引号 are printed near the top


@dataclass(slots=True)
class _Read:
    """What one document gave: its tables, text for metadata, and findings about the
    document itself; ``status`` says why there is no figure (image only, unreadable)."""

    parsed: ParsedTables
    text: str
    meta_tags: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    status: ReportStatus | None = None
    ocr: bool = False  # figures read from images: kept only where the identities prove them
    table_images: list[str] = field(default_factory=list)  # src of the pictured tables


def _nothing(check: str, status: ReportStatus, message: str) -> _Read:
    finding = Finding(check=check, status="warning", message=message)
    return _Read(ParsedTables(None), "", findings=[finding], status=status)


#: Table tags (``<table>``, ``<tr>``, ``<td>`` ... and ``<title>``) a page may hold to be
#: read: a report's three tables need about a thousand, a portal page with other tables a
#: few thousand more; the parsed tree takes ~600 bytes a cell (45 MB of cells: 1.7 GB).
MAX_TABLE_TAGS = 200_000


def _table_tags(markup: str | bytes) -> int:
    """Tags whose name starts with t, in either case: two substring counts at C speed;
    0 for a page too short to hold more than the cap ("<t" takes two characters) or with
    no more ``<`` than the cap (a one-byte count is five times faster than a two-byte one)."""
    if len(markup) <= 2 * MAX_TABLE_TAGS:
        return 0
    if isinstance(markup, str):
        if markup.count("<") <= MAX_TABLE_TAGS:
            return 0
        return markup.count("<t") + markup.count("<T")
    if markup.count(b"<") <= MAX_TABLE_TAGS:
        return 0
    return markup.count(b"<t") + markup.count(b"<T")


def _read_html(markup: str | bytes, images: Mapping[str, bytes] | None = None) -> _Read:
    """``markup``: the page as text, or as UTF-8 bytes (parsed without re-encoding);
    ``images``: the bytes of its ``<img>`` by ``src`` as written, for OCR."""
    tags = _table_tags(markup)
    if tags > MAX_TABLE_TAGS:  # memory grows with the cells: refused before parsing
        return _nothing(
            "too_many_cells",
            "unreadable",
            f"the page holds {tags:,} table tags, over the {MAX_TABLE_TAGS:,} read "
            "(a report's tables need about a thousand)",
        )
    markup, removed = cap_nesting(markup)  # parsing stays linear on hostile nesting
    tree = parse_html(markup)
    nodes = page_nodes(tree)  # <meta>, <title> and the tables in one walk of the tree
    heads = nodes.heads
    meta_tags = {
        (attributes.get("name") or attributes.get("property") or ""): (
            attributes.get("content") or ""
        )
        for attributes in (node.attributes for node in heads if node.tag == "meta")
    }
    title_node = next((node for node in heads if node.tag == "title"), None)
    if title_node is not None:
        meta_tags.setdefault("title", title_node.text(strip=True))
    head_text = html_text(tree, limit=METADATA_CHARS, by_node=True)
    parsed = parse_tables(html_cells(tree, nodes))
    sources = _table_images(tree) if not parsed.facts else []
    if not parsed.facts:
        # Some pages print the tables as pipe text in paragraphs rather than as <table>:
        # their lines, read last from the same tree (each page is parsed once).
        from_text = parse_tables(text_cells(html_lines(tree)), pre2019="with_facts")
        if from_text.facts:
            parsed = from_text
    del tree, title_node, heads, nodes
    read = _Read(parsed, head_text, meta_tags)
    if removed:
        message = f"{removed} tags nested deeper than {MAX_DEPTH} levels were ignored"
        read.findings.append(Finding(check="html_nesting", status="warning", message=message))
    if not parsed.facts and sources:
        inline = {src: b for src in sources if (b := _inline_image(src))}
        supplied = {**inline, **(images or {})}
        missing = [src for src in sources if src not in supplied]
        # A page read without its pictures first names them all (an inline icon read
        # alone would be OCR spent for nothing); read with them, it takes what it has.
        given = [supplied[src] for src in sources if src in supplied]
        if given and (images is not None or not missing):
            return _read_images_of_page(read, given)
        read.status = "image_only"
        read.table_images = missing
        read.findings.append(
            Finding(
                check="image_only",
                status="warning",
                message="the report's tables are printed as images (<img>); not read",
            )
        )
    return read


def _read_images_of_page(read: _Read, images: list[bytes]) -> _Read:
    """A page whose tables are pictures, read by OCR from the pictures' bytes."""
    from pipeline.extract import ocr

    pages = []
    for number, data in enumerate(images, start=1):
        try:
            pages.append(ocr.image_from_bytes(data))
        except ValueError as exc:
            read.findings.append(
                Finding(
                    check="image_unreadable", status="warning", message=f"image {number}: {exc}"
                )
            )
    return _with_ocr(read, lambda: ocr.read_images(pages), "the report's tables are images")


# Table headings of the report; when one is printed but its rows are not, and an image
# follows it, the table is a picture.
_TABLE_HEADING = re.compile(
    r"主动公开政府信息情况|收到和处理政府信息公开申请|行政复议.{0,4}行政诉讼"
)
_TABLE_ROW_WORDS = ("本年新收", "予以公开", "不予公开", "结转下年度")


#: Pictures of one page read for its tables at most: a report's three tables fill a few.
MAX_TABLE_IMAGES = 12
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
#: Where a picture's address is: a lazy-loading page keeps it in data-original or data-src
#: and shows a placeholder in src until the picture scrolls into view.
_IMG_ADDRESS = [
    re.compile(rf"""\s{name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
    for name in ("data-original", "data-src", "src")
]


def _picture_address(tag: str) -> str:
    for attribute in _IMG_ADDRESS:
        found = attribute.search(tag)
        if found and (address := html.unescape("".join(found.groups(""))).strip()):
            return address
    return ""


def _inline_image(src: str) -> bytes | None:
    """The bytes of a ``data:image/...;base64,`` picture (no fetch needed), else None."""
    head, _, data = src.partition(",")
    if not head.lower().startswith("data:image/") or not head.lower().endswith(";base64"):
        return None
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None


def _table_images(tree: LexborHTMLParser) -> list[str]:
    """The addresses (as written: ``data-original``, ``data-src`` or ``src``) of the
    pictures that print the tables of a page whose tables are images: those after the
    first table heading, or every picture of a page that is all pictures; empty when the
    tables are not images."""
    root = tree.body or tree.root
    if root is None or root.css_first("img") is None:
        return []
    text = root.text(separator="")
    if any(word in text for word in _TABLE_ROW_WORDS):
        return []  # the rows are printed as text: not an image-only table
    markup = root.html or ""  # serialised only when needed: it costs a parse's time
    heading = _TABLE_HEADING.search(markup)
    if heading is None and len("".join(text.split())) >= 400:
        return []  # a page that is all pictures has little text
    after = markup[heading.end() :] if heading is not None else markup
    sources = [_picture_address(m.group(0)) for m in _IMG_TAG.finditer(after)]
    return list(dict.fromkeys(s for s in sources if s))[:MAX_TABLE_IMAGES]


@lru_cache(maxsize=64)  # a few formats × subsets of three tables: built once each
def _expected_keys(national_format: str, tables: frozenset[str]) -> frozenset[str]:
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
    return frozenset(keys)


def _structure(parsed: ParsedTables, national_format: str) -> tuple[list[Finding], bool]:
    """Structural findings, and whether every table was read in full."""
    findings: list[Finding] = []
    tables_with_facts = frozenset(f.table for f in parsed.facts)
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


def _read_text(text: str) -> ParsedTables:
    cells = read_text_cells(text)
    return parse_tables(cells.cells, glued=cells.glued, flat=cells.flat)


def _read_pdf(content: bytes) -> _Read:
    from pipeline.extract.pdf_cells import UnreadablePdf, read_pdf

    try:
        pdf = read_pdf(content)
    except UnreadablePdf as exc:
        return _nothing("unreadable_document", "unreadable", str(exc))
    findings = list(pdf.findings)
    if not content.rstrip().endswith(b"%%EOF") and b"%%EOF" not in content[-4096:]:
        findings.append(
            Finding(
                check="document_damaged",
                status="warning",
                message="the PDF ends early (no %%EOF): only what could be recovered was read",
            )
        )
    parsed = parse_tables(pdf.table_cells, glued=pdf.glued)
    if not parsed.facts and pdf.table_text:
        # No ruled table gave figures: tables without ruling lines, read from word positions.
        # rebuilt from word positions, its rows are real table rows (not flattened prose):
        # read as cells, without the flat-text rule that a row must keep its own total
        cells = read_text_cells(pdf.table_text)
        from_text = _without_label_only_rows(parse_tables(cells.cells, glued=cells.glued))
        if from_text.facts:
            parsed = from_text
    read = _Read(parsed, (pdf.text or pdf.table_text)[:METADATA_CHARS], findings=findings)
    if parsed.facts:
        return read
    if pdf.pages == 0:
        read.status = "unreadable"
        findings.append(
            Finding(check="unreadable_document", status="warning", message="no page could be read")
        )
    elif pdf.chars == 0 or pdf.image_pages:
        # No figure from a text layer: the pages are pictures (a scan), read by OCR.
        from pipeline.extract import ocr

        what = "no text layer (scanned pages)" if pdf.chars == 0 else "pages that are images"
        return _with_ocr(
            read, lambda: ocr.read_images(ocr.pdf_page_images(content)), f"the PDF has {what}"
        )
    return read


def _with_ocr(read: _Read, run: Callable[[], OcrContent], what: str) -> _Read:
    """``read`` with the figures OCR finds (checked later against the identities), or
    marked image only with the reason OCR could not run."""
    from pipeline.extract.ocr import OcrUnavailable

    try:
        content = run()
    except OcrUnavailable as exc:
        read.status = "image_only"
        read.findings.append(
            Finding(check="ocr_unavailable", status="warning", message=f"{what}; {exc}")
        )
        return read
    except Exception as exc:  # a page that cannot be rendered: damaged beyond the text layer
        read.status = "image_only"
        read.findings.append(
            Finding(
                check="ocr_unavailable",
                status="warning",
                message=f"{what}; its pages could not be rendered for OCR ({type(exc).__name__})",
            )
        )
        return read
    read.findings += content.findings
    parsed = parse_tables(content.table_cells)
    if not parsed.facts and content.table_text:
        cells = read_text_cells(content.table_text)
        parsed = _without_label_only_rows(parse_tables(cells.cells, glued=cells.glued))
    parsed.pre2019 = []  # no identity proves a pre-2019 figure
    read.parsed, read.ocr, read.status = parsed, True, "image_only"
    read.text = read.text or (content.text or content.table_text)[:METADATA_CHARS]
    read.findings.append(
        Finding(
            check="ocr",
            status="info",
            message=f"{what}: read by OCR ({content.pages} page(s), {content.words} words, "
            f"{content.seconds:.1f} s); only figures the identities prove are kept",
        )
    )
    return read


def _without_label_only_rows(parsed: ParsedTables) -> ParsedTables:
    """Rows read as blank because their label stood alone on its line, left out.

    In a PDF's text a label wrapped over several lines stands alone on its first line, its
    figures further down: that cannot be told from a row printed blank, so no such row is
    kept (a missing figure rather than a wrong blank)."""
    rows: dict[tuple[str, str], list[Fact]] = {}
    for fact in parsed.facts:
        rows.setdefault((fact.table, fact.row), []).append(fact)
    dropped = {
        key
        for key, facts in rows.items()
        if all(f.semantic == "blank" and not f.raw.strip() for f in facts)
    }
    if not dropped:
        return parsed
    parsed.facts = [f for f in parsed.facts if (f.table, f.row) not in dropped]
    parsed.findings.append(
        Finding(
            check="row_incomplete",
            status="warning",
            message=f"{len(dropped)} row(s) with no figure beside their label in the PDF text "
            f"left out (a wrapped label cannot be told from a blank row): "
            + ", ".join(f"{t}/{r}" for t, r in sorted(dropped)),
        )
    )
    return parsed


def _read_docx(content: bytes) -> _Read:
    from pipeline.extract.docx_cells import UnreadableDocx, read_docx

    try:
        docx = read_docx(content)
    except UnreadableDocx as exc:
        return _nothing("unreadable_document", "unreadable", str(exc))
    parsed = parse_tables(docx.table_cells)
    if not parsed.facts:
        from_text = _read_text(docx.text)
        if from_text.facts:
            parsed = from_text
    return _Read(parsed, docx.text[:METADATA_CHARS])


_SUFFIX = {"doc": ".doc", "xls": ".xls", "ole2": ".doc"}


def _read_converted(content: bytes, fmt: DocumentFormat) -> _Read:
    """DOC and WPS (and ET/XLS) documents, through LibreOffice."""
    from pipeline.extract.convert import ConversionError, convert

    target = "html" if fmt == "xls" else "docx"
    try:
        converted = convert(content, _SUFFIX[fmt], target)
    except ConversionError as exc:
        return _nothing(exc.reason, "unreadable", str(exc))
    if target == "html":
        text, codec = decode_with_codec(converted, "text/html")
        return _read_html(converted if codec == "utf-8" else text)
    return _read_docx(converted)


def _read(
    content: bytes,
    fmt: DocumentFormat,
    content_type: str | None,
    images: Mapping[str, bytes] | None = None,
) -> _Read:
    if fmt == "pdf":
        return _read_pdf(content)
    if fmt == "docx":
        return _read_docx(content)
    if fmt in _SUFFIX:
        return _read_converted(content, fmt)
    if fmt == "zip":
        return _nothing(
            "unsupported_format", "unreadable", "a ZIP archive that is not a Word document"
        )
    text_or_markup, codec, replaced = decode_counting(content, content_type)
    if fmt == "html":
        read = _read_html(content if codec == "utf-8" and not replaced else text_or_markup, images)
    else:
        read = _Read(_read_text(text_or_markup), text_or_markup)
    if replaced:
        read.findings.append(
            Finding(
                check="invalid_bytes",
                status="warning",
                message=f"{replaced} byte sequences are not valid {codec}: read as U+FFFD "
                "(the rest of the page as printed)",
            )
        )
    return read


def extract_document(
    content: bytes,
    *,
    source: str,
    content_type: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> Report:
    """Extract one report from its bytes (HTML, text, PDF, DOCX, DOC/WPS, ET/XLS: told
    from the bytes). Never raises on bad content: problems become findings.

    A scanned PDF is read by OCR; so is a page whose tables are ``<img>`` when
    ``images`` gives their bytes (by ``src`` as written in the page). Figures read by OCR
    are kept only where the tables' identities prove them (``method="ocr"``)."""
    fmt = document_format(content, content_type)
    read = _read(content, fmt, content_type, images)
    parsed, text = read.parsed, read.text
    page = read_metadata(text, read.meta_tags)
    national_format = settle_national_format(parsed, page.report_year)
    if read.ocr:
        parsed.facts, unverified = verify_ocr(parsed.facts, national_format)
        read.findings += unverified
        if not parsed.facts:
            read.findings.append(
                Finding(
                    check="image_only",
                    status="warning",
                    message="the tables are images and OCR found no figure their identities prove",
                )
            )
    structure, complete = _structure(parsed, national_format)
    status: ReportStatus = "ok" if complete else "partial"
    if not parsed.facts:
        status = read.status or "no_tables"
        if read.status is not None:
            structure = []  # "table missing" thrice says nothing the finding above does not
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
        status=status,
        document_format=fmt,
    )
    findings = [*read.findings, *parsed.findings, *structure]
    if parsed.facts:
        findings += check_identities(parsed.facts, national_format)
    return Report(
        meta=meta,
        fact_list=parsed.facts,
        finding_list=findings,
        pre2019_list=parsed.pre2019,
        table_images=read.table_images,
    )
