"""``pipeline.extract`` on a page whose tables are pictures: it reads them too, from the
page's own origin (one at a time) or from beside a local file, and nothing else."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest

import pipeline
from pipeline.extract import ocr
from pipeline.flows import oneoff
from tests.corpus import FIXTURES, gold_documents
from tests.portals import Site

OCR = FIXTURES / "ocr"
PICTURES = ("043-table-p3.jpg", "043-table-p4.jpg", "043-table-p5.jpg")


def _page(extra: str) -> str:
    page = (OCR / "043-images.html").read_text(encoding="utf-8")
    return page.replace("<p>五、", f"{extra}<p>五、")


@pytest.mark.skipif(ocr.engine_problem() is not None, reason=f"OCR needs {ocr.INSTALL}")
def test_a_local_page_is_read_with_the_pictures_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "page"
    folder.mkdir()
    for name in PICTURES:
        shutil.copy(OCR / name, folder / name)
    shutil.copy(OCR / PICTURES[0], tmp_path / "outside.jpg")
    page = folder / "report.html"
    page.write_text(_page('<p><img src="../outside.jpg"><img src="/etc/hostname"></p>'))
    report = pipeline.extract(page)
    gold = next(d for d in gold_documents() if d.id == "043")
    assert gold.wrong_figures(report.fact_list) == []
    assert report.meta.status == "partial" and len(report.fact_list) >= 160
    assert {f.method for f in report.fact_list} == {"ocr"}
    # a picture named outside the page's folder is never read
    wanted = ["../outside.jpg", "/etc/hostname", PICTURES[0]]
    assert oneoff._pictures(page, wanted) == {PICTURES[0]: (OCR / PICTURES[0]).read_bytes()}


def test_a_page_by_url_fetches_its_pictures_from_its_origin_only(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = serve(Site())
    site = Site()
    extra = f'<p><img src="{other.url("/x.jpg")}"><img src="p3.jpg"><img src="moved.jpg"></p>'
    site.add("/r/1.html", _page(extra))
    site.add("/r/p3.jpg", (OCR / PICTURES[0]).read_bytes(), content_type="image/jpeg")
    site.add("/r/moved.jpg", b"", status=302, headers={"Location": other.url("/y.jpg")})
    for name in PICTURES:
        site.add(f"/r/{name}", (OCR / name).read_bytes(), content_type="image/jpeg")
    serve(site)
    given: list[dict[str, bytes]] = []
    real = oneoff.extract_document

    def recording(content: bytes, *, images: dict[str, bytes] | None = None, **kw: Any) -> Any:
        given.extend([images] if images else [])
        return real(content, **kw)  # what reaches the extractor matters here, not the OCR

    monkeypatch.setattr(oneoff, "extract_document", recording)
    monkeypatch.setattr(oneoff, "PICTURE_DELAY", 0.3)
    pipeline.extract(site.url("/r/1.html"))
    assert other.log == []  # neither named nor redirected to: never asked
    (images,) = given
    assert images == {n: (OCR / n).read_bytes() for n in PICTURES} | {
        "p3.jpg": (OCR / PICTURES[0]).read_bytes()
    }
    arrivals = [h.at for h in site.log]  # the page, then each picture: spaced
    assert len(arrivals) == 6
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 0.3 * 0.95
