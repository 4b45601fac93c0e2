"""PDF, DOCX and DOC reports: the same figures as the HTML page they were made from.

The fixtures in tests/fixtures/formats/ are the corpus's HTML report pages converted the
way real reports are published (see its README and tests/make_format_fixtures.py); each is
held to its page's gold. Unreadable documents give a finding, never an exception.
"""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.extract import convert, extract_document
from pipeline.extract.formats import document_format
from pipeline.model import Report
from tests.corpus import FIXTURES, gold_documents

FORMATS = FIXTURES / "formats"
GOLD = {d.id: d for d in gold_documents()}
KINDS = ("lo.pdf", "chromium.pdf", "docx", "doc")
CONVERTED = sorted(p for p in FORMATS.iterdir() if p.name[:3] in GOLD and p.name[4:] in KINDS)
HAS_SOFFICE = convert.soffice_path() is not None
needs_soffice = pytest.mark.skipif(
    not HAS_SOFFICE, reason="DOC needs LibreOffice: apt-get install libreoffice-writer-nogui"
)


#: Pages printed with no ruling line at all (tests/make_format_fixtures.py, UNRULED_IDS),
#: read from word positions: at least this many gold figures, none wrong. 021 prints
#: whole rows and columns blank (nothing at all where a figure would be): a row that
#: shows only its label beside no other row's figures is left out, not guessed.
UNRULED = {"043.unruled.lo.pdf": 200, "021.unruled.lo.pdf": 177}


def _marks(path: Path) -> list[pytest.MarkDecorator]:
    return [needs_soffice] if path.suffix == ".doc" else []


CASES = [pytest.param(p, id=p.name, marks=_marks(p)) for p in CONVERTED]
_cache: dict[Path, Report] = {}


def _extract(path: Path) -> Report:
    if path not in _cache:
        _cache[path] = extract_document(path.read_bytes(), source=str(path))
    return _cache[path]


def test_every_page_is_converted_to_every_format() -> None:
    # the HTML pages in the national formats (the pre-2019 statistics tables are read from
    # HTML and text; converting them to PDF/Word is not done yet)
    html_pages = {
        d.id
        for d in GOLD.values()
        if d.path.suffix == ".html" and d.gold.get("template") != "pre2019"
    }
    assert {(p.name[:3], p.name[4:]) for p in CONVERTED} == {
        (i, k) for i in html_pages for k in KINDS
    }


@pytest.mark.parametrize("path", CASES)
def test_no_figure_differs_from_gold(path: Path) -> None:
    assert GOLD[path.name[:3]].wrong_figures(_extract(path).fact_list) == []


@pytest.mark.parametrize("path", CASES)
def test_every_gold_figure_is_extracted(path: Path) -> None:
    gold = GOLD[path.name[:3]].facts
    # Tables without ruling lines (032), and Chromium's prints that draw only some of
    # them (032, 042, 044), are rebuilt from word positions (``word_grid``).
    got = {f.key for f in _extract(path).fact_list} & set(gold)
    assert sorted(set(gold) - got) == []
    assert _extract(path).meta.status == "ok"


@pytest.mark.parametrize("path", CASES)
def test_format_year_and_marks_as_the_page(path: Path) -> None:
    document = GOLD[path.name[:3]]
    report = _extract(path)
    assert report.meta.document_format == path.suffix.lstrip(".")
    assert report.meta.report_year == document.gold["report_year"]
    if report.fact_list:
        assert report.meta.national_format == document.gold["template"]
    for key, mark in document.gold.get("marks", {}).items():
        fact = report.fact(key)
        assert fact is None or (fact.semantic == "mark" and fact.raw.strip() == mark)


@pytest.mark.parametrize(("name", "least"), sorted(UNRULED.items()))
def test_tables_printed_without_ruling_lines(name: str, least: int) -> None:
    path = FORMATS / name
    gold = GOLD[name[:3]].facts
    report = _extract(path)
    assert GOLD[name[:3]].wrong_figures(report.fact_list) == []
    found = {f.key for f in report.fact_list} & set(gold)
    assert len(found) >= least
    if least == len(gold):
        assert report.meta.status == "ok"


def test_image_only_pdf_gives_no_figure() -> None:
    report = _extract(FORMATS / "image-only.pdf")
    assert report.meta.status == "image_only"
    assert report.fact_list == []
    # Scanned at 60 dpi: too coarse for OCR, so no page is even tried (and none guessed).
    checks = [f.check for f in report.finding_list]
    assert checks.count("page_skipped") == 6 and checks[-2:] == ["ocr", "image_only"]
    assert all("60 dpi" in f.message for f in report.finding_list[:6])


def test_html_page_whose_tables_are_images() -> None:
    page = (
        "<html><body><h1>某县2023年政府信息公开工作年度报告</h1><p>一、总体情况……</p>"
        "<p>二、主动公开政府信息情况</p><p><img src='t2.png'></p>"
        "<p>三、收到和处理政府信息公开申请情况</p><p><img src='t3.png'></p></body></html>"
    ).encode()
    report = extract_document(page, source="page.html")
    assert report.meta.status == "image_only"
    assert report.fact_list == []
    assert report.table_images == ["t2.png", "t3.png"]  # what to fetch to read them by OCR


def test_only_the_pictures_after_the_table_headings_are_wanted() -> None:
    """A logo before the report, a repeated picture, an escaped URL: the pictures that
    print the tables are those after the first table heading, each once, as written."""
    page = (
        "<html><body><img src='/images/logo.png'><h1>某县2023年政府信息公开工作年度报告</h1>"
        "<p>二、主动公开政府信息情况</p><img src=\"a.jpg?x=1&amp;y=2\"><img src='a.jpg?x=1&y=2'>"
        "<p>三、收到和处理政府信息公开申请情况</p><IMG alt=t SRC=b.png></body></html>"
    ).encode()
    report = extract_document(page, source="page.html")
    assert report.meta.status == "image_only"
    assert report.table_images == ["a.jpg?x=1&y=2", "b.png"]


def test_a_lazy_loaded_picture_is_wanted_by_its_real_address() -> None:
    page = (
        "<html><body><h1>某县2023年政府信息公开工作年度报告</h1><p>二、主动公开政府信息情况</p>"
        "<img src='/img/loading.gif' data-original='/upload/t2.jpg'>"
        '<img data-src="/upload/t3.jpg" src="/img/loading.gif"></body></html>'
    ).encode()
    report = extract_document(page, source="page.html")
    assert report.table_images == ["/upload/t2.jpg", "/upload/t3.jpg"]


@pytest.mark.parametrize(
    "path", sorted((FIXTURES / "corpus" / "raw").glob("*.html")), ids=lambda p: p.name
)
def test_a_page_without_pictured_tables_wants_no_picture(path: Path) -> None:
    """The corpus pages print their tables in markup or attach them (051-054): no
    picture of theirs is worth a fetch."""
    report = extract_document(path.read_bytes(), source=path.name)
    assert report.meta.status != "image_only" and report.table_images == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [("encrypted.pdf", "encrypted PDF"), ("truncated.pdf", "damaged PDF")],
)
def test_unreadable_pdf_gives_a_finding(name: str, reason: str) -> None:
    report = _extract(FORMATS / name)
    assert report.meta.status == "unreadable"
    assert report.fact_list == []
    (finding,) = report.finding_list
    assert finding.check == "unreadable_document" and finding.message.startswith(reason)


def test_format_is_told_from_the_bytes_not_the_name_or_content_type() -> None:
    pdf = (FORMATS / "043.lo.pdf").read_bytes()
    docx = (FORMATS / "043.docx").read_bytes()
    doc = (FORMATS / "043.doc").read_bytes()
    assert document_format(pdf, "text/html; charset=utf-8") == "pdf"
    assert document_format(docx, "application/octet-stream") == "docx"
    assert document_format(doc, "text/html") == "doc"
    assert document_format(b"<html><table></table></html>") == "html"
    assert document_format("规章 | 0 | 0".encode()) == "text"
    other_zip = BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert document_format(other_zip.getvalue()) == "zip"
    assert document_format(docx[: len(docx) // 2]) == "docx"  # damaged, but a DOCX
    report = extract_document(pdf, source="served-as.html", content_type="text/html")
    assert report.meta.status == "ok" and report.meta.document_format == "pdf"


def test_damaged_docx_gives_a_finding() -> None:
    docx = (FORMATS / "043.docx").read_bytes()
    report = extract_document(docx[: len(docx) // 2], source="cut.docx")
    assert report.meta.status == "unreadable"
    assert report.finding_list[0].check == "unreadable_document"


def test_missing_converter_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(convert, "soffice_path", lambda: None)
    report = extract_document((FORMATS / "043.doc").read_bytes(), source="report.doc")
    assert report.meta.status == "unreadable"
    (finding,) = report.finding_list
    assert finding.check == "converter_missing"
    assert "apt-get install libreoffice-writer-nogui" in finding.message


def test_a_hanging_converter_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    pid_file = tmp_path / "child.pid"
    # A converter that never ends, with a helper process of its own.
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pid_file}\nsleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(convert, "soffice_path", lambda: str(fake))
    started = time.monotonic()
    with pytest.raises(convert.ConversionError) as caught:
        convert.convert(b"\xd0\xcf\x11\xe0", ".doc", "docx", timeout=1.0)
    assert caught.value.reason == "conversion_failed"
    assert time.monotonic() - started < 10
    helper = Path(f"/proc/{int(pid_file.read_text())}/stat")
    time.sleep(0.2)
    # Killed: gone, or a zombie waiting for whoever adopted it to reap it.
    assert not helper.exists() or helper.read_text().split(") ")[1].startswith(("Z", "X"))


def test_cli_reads_pdf_and_says_why_an_image_pdf_has_no_figure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["extract", str(FORMATS / "043.lo.pdf"), "--format", "jsonl"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 200
    image = subprocess.run(
        [sys.executable, "-m", "pipeline", "extract", str(FORMATS / "image-only.pdf")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert image.returncode == 6 and "image_only" in image.stderr  # unreadable: exit 6


_PDF = (FORMATS / "043.lo.pdf").read_bytes()


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(st.lists(st.tuples(st.integers(0, len(_PDF) - 1), st.binary(max_size=40)), max_size=4))
@example(damage=[(51, b")\x01")])  # a page tree that fails again when the file is closed
def test_damaged_pdfs_never_raise(damage: list[tuple[int, bytes]]) -> None:
    content = bytearray(_PDF)
    for where, junk in damage:
        content[where : where + len(junk)] = junk
    report = extract_document(bytes(content), source="fuzz.pdf")
    assert report.meta.status in ("ok", "partial", "no_tables", "image_only", "unreadable")
    assert (report.meta.status in ("ok", "partial")) == bool(report.fact_list)


def test_an_inline_icon_does_not_hide_the_pictures_to_fetch() -> None:
    """A small base64 picture (a QR code, an icon) among the table pictures: the page
    still names the pictures to fetch, and the icon is not read alone first."""
    icon = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4"
        "nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    )
    page = (
        "<html><body><h1>某县2023年政府信息公开工作年度报告</h1>"
        f"<p>二、主动公开政府信息情况</p><img src='{icon}'><img src='/upload/t2.jpg'>"
        "<p>三、收到和处理政府信息公开申请情况</p><img src='/upload/t3.jpg'></body></html>"
    ).encode()
    report = extract_document(page, source="page.html")
    assert report.meta.status == "image_only"
    assert report.table_images == ["/upload/t2.jpg", "/upload/t3.jpg"]
    assert not any(f.check == "ocr" for f in report.finding_list)  # nothing read yet
