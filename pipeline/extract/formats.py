"""Which kind of document a body is, told from its bytes.

Portals get file suffixes and Content-Type wrong (a PDF served as ``text/html``, a DOC
named ``.html``), so the format is read from the bytes themselves: the ``%PDF`` header,
the OLE2 compound-file signature (DOC, WPS, ET, XLS) and the ZIP container of DOCX.
Anything else is HTML or text, by the one rule in :func:`looks_like_html`. Pure.
"""

from __future__ import annotations

import io
import zipfile

from pipeline.model import DocumentFormat
from pipeline.sniff import looks_like_html

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PDF_WINDOW = 1024  # the %PDF header may follow some junk; readers look this far
# OLE2 directory entries name their streams in UTF-16LE: Word (and WPS Writer) keep the text
# in "WordDocument", Excel (and WPS Spreadsheets / ET) in "Workbook" or the older "Book".
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_SHEET_STREAMS = ("Workbook".encode("utf-16-le"), "Book\x00".encode("utf-16-le"))
_ZIP_NAMES_MAX = 5000  # a DOCX has a few dozen parts; more is not a document


def document_format(content: bytes, content_type: str | None = None) -> DocumentFormat:
    """The format of ``content``: ``pdf``, ``docx``, ``doc`` (Word/WPS compound file),
    ``xls`` (Excel/ET compound file), ``ole2`` (another compound file), ``zip`` (a ZIP that
    is not a DOCX), else ``html`` or ``text``."""
    if b"%PDF-" in content[:PDF_WINDOW]:
        return "pdf"
    if content.startswith(OLE2_MAGIC):
        return _ole2_kind(content)
    if content.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx(content) else "zip"
    return "html" if looks_like_html(content, content_type) else "text"


def _ole2_kind(content: bytes) -> DocumentFormat:
    if _WORD_STREAM in content:
        return "doc"
    if any(name in content for name in _SHEET_STREAMS):
        return "xls"
    return "ole2"


def _is_docx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if len(infos) > _ZIP_NAMES_MAX:
                return False
            return any(info.filename == "word/document.xml" for info in infos)
    except (zipfile.BadZipFile, ValueError, OSError):
        # A damaged DOCX still names its parts in the local headers: read as DOCX, it
        # gets a finding that says it is damaged rather than "unsupported format".
        return b"word/document.xml" in content
