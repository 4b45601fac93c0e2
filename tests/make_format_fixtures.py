"""Regenerate tests/fixtures/formats/: the corpus's HTML report pages as PDF, DOCX and DOC.

Real reports are Word documents saved as PDF; these fixtures are made the same way from
the corpus's real (Word-exported) HTML pages, so each is held to its page's gold figures:

    page.html --LibreOffice--> NNN.docx --LibreOffice--> NNN.lo.pdf, NNN.doc
    page.html --headless Chromium, print to PDF--> NNN.chromium.pdf

the pages of UNRULED_IDS also with every ruling line taken out (border attributes and
styles removed), printed the same way by LibreOffice (NNN.unruled.lo.pdf: a table set
without lines, read from word positions), plus an image-only PDF (pages rasterised by
pdftoppm and wrapped in a PDF by Pillow), a truncated PDF and a password-protected PDF
(qpdf). Fixed table and cell widths (and no-wrap cells) are taken out of the pages first:
printed with them, the wide tables run off the page and their right-hand columns are cut,
which no real Word document does.

Needs: soffice (libreoffice-writer-nogui), chromium, pdftoppm (poppler-utils), qpdf, and
the project's venv (Pillow comes with pdfplumber). Run from the repository root:

    .venv/bin/python tests/make_format_fixtures.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "raw"
OUT = ROOT / "tests" / "fixtures" / "formats"
#: The corpus documents that are HTML pages (Word exports or hand-made grids).
IDS = ("021", "032", "042", "043", "044")
IMAGE_ONLY_FROM = "043"
#: Pages also printed without any ruling line (their blank cells print nothing at all).
UNRULED_IDS = ("021", "043")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-pdf-header-footer",
)
_WIDTH_ATTR = re.compile(r'\s(?:width|height)\s*=\s*("[^"]*"|\'[^\']*\'|[^\s>]+)', re.I)
_WIDTH_STYLE = re.compile(r"(?<![-\w])(?:width|height)\s*:\s*[^;\"']*;?", re.I)
_NOWRAP = re.compile(
    r"\snowrap(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?|white-space\s*:\s*[^;\"']*;?", re.I
)


_BORDER_ATTR = re.compile(
    r'\s(?:border|bordercolor|rules|frame)\s*=\s*("[^"]*"|\'[^\']*\'|[^\s>]+)', re.I
)
_BORDER_STYLE = re.compile(r"(?<![-\w])border[-\w]*\s*:\s*[^;\"']*;?", re.I)
_NO_BORDERS = "<style>table,td,th{border:none !important}</style>"


def unruled(markup: str) -> str:
    """The page with no ruling line: border attributes and styles taken out."""
    markup = _BORDER_STYLE.sub("", _BORDER_ATTR.sub("", markup))
    if "<head>" in markup:
        return markup.replace("<head>", f"<head>{_NO_BORDERS}", 1)
    return _NO_BORDERS + markup


def unfixed_widths(markup: str) -> str:
    """The page without fixed widths, heights and no-wrap cells, so tables fit the page."""
    return _NOWRAP.sub("", _WIDTH_STYLE.sub("", _WIDTH_ATTR.sub("", markup)))


def soffice(profile: Path, target: str, outdir: Path, source: Path, *extra: str) -> None:
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         *extra, "--convert-to", target, "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )


def main() -> int:
    for tool in ("soffice", "chromium", "pdftoppm", "qpdf"):
        if shutil.which(tool) is None:
            print(f"missing: {tool}", file=sys.stderr)
            return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ogi-fixtures-") as tmp_name:
        tmp = Path(tmp_name)
        profile = tmp / "profile"
        for doc_id in IDS:
            page = tmp / f"{doc_id}.html"
            page.write_text(
                unfixed_widths((CORPUS / f"{doc_id}.html").read_text(encoding="utf-8")),
                encoding="utf-8",
            )
            # Loaded as a Writer document (not Writer/Web), as Word would open the page.
            soffice(profile, "docx:MS Word 2007 XML", tmp, page, "--infilter=HTML (StarWriter)")
            docx = tmp / f"{doc_id}.docx"
            soffice(profile, "pdf:writer_pdf_Export", tmp, docx)
            soffice(profile, "doc:MS Word 97", tmp, docx)
            shutil.copy(docx, OUT / f"{doc_id}.docx")
            shutil.copy(tmp / f"{doc_id}.doc", OUT / f"{doc_id}.doc")
            shutil.copy(tmp / f"{doc_id}.pdf", OUT / f"{doc_id}.lo.pdf")
            subprocess.run(
                ["chromium", *CHROMIUM_FLAGS, f"--print-to-pdf={OUT / f'{doc_id}.chromium.pdf'}",
                 page.as_uri()],
                check=True, capture_output=True, timeout=180,
            )
        for doc_id in UNRULED_IDS:
            page = tmp / f"{doc_id}u.html"
            markup = (CORPUS / f"{doc_id}.html").read_text(encoding="utf-8")
            page.write_text(unruled(unfixed_widths(markup)), encoding="utf-8")
            soffice(profile, "docx:MS Word 2007 XML", tmp, page, "--infilter=HTML (StarWriter)")
            soffice(profile, "pdf:writer_pdf_Export", tmp, tmp / f"{doc_id}u.docx")
            shutil.copy(tmp / f"{doc_id}u.pdf", OUT / f"{doc_id}.unruled.lo.pdf")
        source_pdf = OUT / f"{IMAGE_ONLY_FROM}.lo.pdf"
        subprocess.run(
            ["pdftoppm", "-r", "60", "-gray", "-png", str(source_pdf), str(tmp / "page")],
            check=True, timeout=180,
        )
        pages = [Image.open(p).convert("L") for p in sorted(tmp.glob("page-*.png"))]
        pages[0].save(
            OUT / "image-only.pdf", save_all=True, append_images=pages[1:], resolution=60.0
        )
        content = source_pdf.read_bytes()
        (OUT / "truncated.pdf").write_bytes(content[: len(content) // 2])
        subprocess.run(
            ["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--",
             str(source_pdf), str(OUT / "encrypted.pdf")],
            check=True, timeout=180,
        )
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
