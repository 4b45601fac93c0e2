"""Report pages whose tables are pictures (图片版): the nightly flow fetches the pictures
the extractor names, politely and on the portal's origins only, archives them, and reads
the page again with them (OCR: only the figures the tables' identities prove)."""

from __future__ import annotations

import itertools
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from pipeline import load
from pipeline.extract import extract_document, ocr
from pipeline.flows import bounded, reextract
from pipeline.flows.nightly import MAX_EXTRACT_ATTEMPTS, nightly
from pipeline.stage import stage_reports
from tests.corpus import FIXTURES, gold_documents
from tests.flows.crawled import rows_by_name
from tests.portals import Site, article_page, fast, one_report_listing, portal

OCR = FIXTURES / "ocr"
TITLE = "平潭综合实验区2022年政府信息公开工作年度报告"
PICTURES = ("043-table-p3.jpg", "043-table-p4.jpg", "043-table-p5.jpg")
needs_ocr = pytest.mark.skipif(
    ocr.engine_problem() is not None, reason=f"OCR needs Tesseract with chi_sim: {ocr.INSTALL}"
)


class Staged(list[Any]):
    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend(items)
        stage_reports(data_dir, items)


def _site(*, elsewhere: str) -> Site:
    """A 年报 column listing one report page whose tables are three JPEG pictures (and a
    fourth on another origin, which the crawler must not fetch)."""
    page = (OCR / "043-images.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") + 6 : page.index("</body>")]
    body = body.replace("<p>五、", f'<p><img src="{elsewhere}"></p><p>五、')
    site = one_report_listing(Site(), TITLE, "2023-02-20")
    site.add("/r/1.html", article_page(TITLE, body))
    for name in PICTURES:
        site.add(f"/r/{name}", (OCR / name).read_bytes(), content_type="image/jpeg")
    return site


@needs_ocr
def test_pictured_tables_are_fetched_once_and_read(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = serve(Site())
    site = _site(elsewhere=other.url("/logo.png"))
    moved = site.routes.pop(f"/r/{PICTURES[1]}")  # one picture is redirected on its origin
    site.add(f"/r/{PICTURES[1]}", b"", status=302, headers={"Location": "/upload/p4.jpg"})
    site.routes["/upload/p4.jpg"] = moved
    serve(site)
    staged = Staged()
    delay = 0.3
    (result,) = nightly(
        [portal(site, "/nb/")],
        tmp_path,
        stage=staged.stage,
        politeness_override=fast(delay=delay),
    ).portals
    assert result.reports_new == 1 and result.resources == 3
    assert "resources asked by the sink 3" in result.line()
    assert other.log == []  # another origin: never asked
    for name in PICTURES:
        (hit,) = site.hits(f"/r/{name}")
        assert hit.headers["referer"] == site.url("/r/1.html")
    arrivals = sorted(h.at for h in site.log)
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= delay * 0.95
    # the page staged first as image_only, then read with its pictures: the last copy wins
    first, last = staged[0].report, staged[-1].report
    assert first.meta.status == "image_only" and first.table_images[:3] == list(PICTURES)
    assert last.meta.status == "partial" and all(f.method == "ocr" for f in last.fact_list)
    gold = next(d for d in gold_documents() if d.id == "043")
    assert gold.wrong_figures(last.fact_list) == []
    assert len(last.fact_list) >= 160  # as many as reading them directly
    rows = rows_by_name(tmp_path)
    assert rows["1.html"].resources is None  # the wish is spent
    assert rows["1.html"].extract_status == "partial"
    assert {rows[n].kind for n in PICTURES} == {"resource"}

    # An unchanged page is not read again, so its pictures are not asked for again.
    (again,) = nightly(
        [portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert again.reports_unchanged == 1 and again.resources == 0
    assert all(len(site.hits(f"/r/{name}")) == 1 for name in PICTURES)

    # Re-extraction from the archive reads the page with the pictures archived for it: the
    # staged OCR figures are not lost to an image_only version.
    # (the redirected one is found by the URL the page names, through the crawl state).
    outcome = reextract.run(tmp_path, workers=1)
    assert outcome.examined == 1 and outcome.failed == [] and outcome.changed == {}
    facts = load.facts(data_dir=tmp_path)
    assert len(facts) == len(last.fact_list) and set(facts["method"]) == {"ocr"}

    # Where OCR cannot run, a re-extraction reads nothing: the staged figures stay.
    monkeypatch.setattr(ocr, "TESSERACT", "/nonexistent/tesseract")
    ocr.engine_problem.cache_clear()
    try:
        outcome = reextract.run(tmp_path, workers=1)
    finally:
        monkeypatch.undo()
        ocr.engine_problem.cache_clear()
    (why,) = outcome.kept.values()
    assert outcome.staged == 0 and why.startswith("now reads image_only: ocr_unavailable")
    assert len(load.facts(data_dir=tmp_path)) == len(last.fact_list)


class Recording:
    """An extractor that records the pictures it is given and reads without them (OCR is
    tested above; here only what reaches the extractor matters)."""

    def __init__(self) -> None:
        self.given: list[dict[str, bytes]] = []

    def __call__(self, content: bytes, *, images: dict[str, bytes] | None = None, **kw: Any) -> Any:
        self.given.extend([images] if images else [])
        return extract_document(content, **kw)


def _night(site: Site, data_dir: Path, extract: Recording, **options: Any) -> Any:
    (result,) = nightly(
        [portal(site, "/nb/")],
        data_dir,
        extract=extract,
        stage=Staged().stage,
        politeness_override=fast(),
        **options,
    ).portals
    return result


def test_a_wish_left_by_a_stopped_run_is_fetched_by_the_next(serve, tmp_path: Path) -> None:
    """A run whose budget ends after the page was read but before its pictures: the wish
    stays in the state, and the next run fetches them and reads the page with them."""
    site = serve(_site(elsewhere="/r/043-table-p3.jpg"))  # named twice: fetched once
    extract = Recording()
    first = _night(site, tmp_path, extract, max_pages=2)  # the listing and the page
    wish = json.loads(rows_by_name(tmp_path)["1.html"].resources)
    assert wish == {name: site.url(f"/r/{name}") for name in PICTURES}
    assert not first.completed and not any(site.hits(f"/r/{n}") for n in PICTURES)
    second = _night(site, tmp_path, extract)
    assert second.completed and second.resources == 3
    ((images),) = extract.given
    assert images == {name: (OCR / name).read_bytes() for name in PICTURES}
    assert rows_by_name(tmp_path)["1.html"].resources is None
    assert len(site.hits("/r/1.html")) == 1  # the page itself was not fetched again


def test_a_picture_that_fails_for_now_is_asked_again_a_few_times(serve, tmp_path: Path) -> None:
    """A picture answering 503: the page is read with the others, and its wish kept for
    the next runs while the page has extraction attempts left (the first reading, without
    pictures, is one); then it is spent."""
    assert MAX_EXTRACT_ATTEMPTS == 3
    site = _site(elsewhere="/r/043-table-p3.jpg")
    site.add("/r/043-table-p5.jpg", b"busy", status=503, content_type="text/plain")
    serve(site)
    extract = Recording()
    for night, kept in ((1, True), (2, False), (3, False)):
        _night(site, tmp_path, extract)
        assert (rows_by_name(tmp_path)["1.html"].resources is not None) == kept, night
    assert len(extract.given) == 2  # read with its pictures on nights 1 and 2
    assert all(set(images) == set(PICTURES[:2]) for images in extract.given)
    assert len(site.hits("/r/043-table-p3.jpg")) == 2  # none asked on night 3


def test_a_report_that_turns_into_pictures_waits_for_them(serve, tmp_path: Path) -> None:
    """Staged with its tables in text, the report comes back printed as pictures: the
    staged version is kept (not a suspicious change) and the new one is read with its
    pictures."""
    site = _site(elsewhere="/r/043-table-p3.jpg")
    pictured = site.routes["/r/1.html"]
    site.add(
        "/r/1.html", article_page(TITLE, (FIXTURES / "corpus" / "raw" / "043.html").read_bytes())
    )
    serve(site)
    extract = Recording()
    first = _night(site, tmp_path, extract)
    assert first.reports_new == 1 and rows_by_name(tmp_path)["1.html"].staged_status == "ok"
    site.routes["/r/1.html"] = pictured
    second = _night(site, tmp_path, extract)
    assert second.reports_changed == 1 and second.resources == 3
    ((images),) = extract.given
    assert set(images) == set(PICTURES)
    # read with its pictures (here without OCR) it reads no better than the staged text:
    # then, and only then, it is a suspicious change, and the staged version stays
    assert second.suspicious == 1
    row = rows_by_name(tmp_path)["1.html"]
    assert row.staged_status == "ok" and row.stage_status == "kept_previous"
    assert row.resources is None


def test_ocr_ends_inside_the_workers_deadline() -> None:
    """A long scan stops OCR with the pages read so far before the worker is killed (which
    would leave nothing): the budget bounds every Tesseract call, with time to spare for
    the rest of the extraction."""
    assert ocr.TIME_BUDGET_S <= 0.75 * bounded.SECONDS


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels in a few bytes (a decompression bomb
    as far as its header goes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_hostile_pictures_cost_little_and_break_nothing(serve, tmp_path: Path) -> None:
    """A picture that redirects to another origin, one that claims 900 Mpx, a missing one,
    and 40 more named on the page: at most 12 are asked for, none off the portal's origins,
    and the page stays image_only with a finding for each picture it could not read."""
    other = serve(Site())
    pictures = "".join(f'<img src="/p/{n}.png">' for n in range(40))
    body = (
        '<p>二、主动公开政府信息情况</p><img src="/bomb.png"><img src="/moved.png">'
        f'<img src="/gone.png">{pictures}'
    )
    site = one_report_listing(Site(), TITLE)
    site.add("/r/1.html", article_page(TITLE, body))
    site.add("/bomb.png", _png_header(30_000, 30_000), content_type="image/png")
    site.add("/moved.png", b"", status=302, headers={"Location": other.url("/x.png")})
    for n in range(40):
        site.add(f"/p/{n}.png", _png_header(10, 10), content_type="image/png")
    serve(site)
    staged = Staged()
    (result,) = nightly(
        [portal(site, "/nb/")], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert other.log == [] and result.completed
    asked = [h.path for h in site.log if h.path.endswith(".png")]
    assert len(asked) == len(set(asked)) == 12
    last = staged[-1].report
    assert last.meta.status == "image_only" and last.fact_list == []
    unreadable = [f for f in last.finding_list if f.check == "image_unreadable"]
    # fetched and read: the bomb and nine others (none is an image Pillow can load); the
    # redirect off the portal and the 404 never reached the extractor
    assert len(unreadable) == 10 and "DecompressionBombError" in unreadable[0].message
    assert rows_by_name(tmp_path)["1.html"].resources is None
