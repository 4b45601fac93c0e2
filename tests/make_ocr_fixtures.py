"""Regenerate tests/fixtures/ocr/: corpus reports as scans, for the OCR path.

Each document is a PDF fixture of ``tests/fixtures/formats`` (a corpus page saved as PDF,
held to that page's gold figures) rasterised the way scans look — 150 to 200 dpi, grey,
some slightly rotated, some with sensor noise and heavy JPEG compression — and wrapped
in a PDF with no text layer. Only the first page (title and year) and the pages that hold
the three tables are kept, so the test suite's OCR stays cheap; a real scan has them all.
A report page whose tables are pictures (``043-images.html`` and its ``.jpg`` files)
comes from the same pages.

Needs only the project's venv (pypdfium2 and Pillow come with pdfplumber). Run from the
repository root:

    .venv/bin/python tests/make_ocr_fixtures.py
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ROOT / "tests" / "fixtures" / "formats"
OUT = ROOT / "tests" / "fixtures" / "ocr"


@dataclass(frozen=True)
class Scan:
    source: str  # a PDF of tests/fixtures/formats
    pages: tuple[int, ...]  # 1-based: the first page and the pages holding the tables
    dpi: int
    degrees: float = 0.0  # rotation, counter-clockwise
    noise: float = 0.0  # standard deviation of grey-level noise
    quality: int = 75  # JPEG quality of the page images

    @property
    def name(self) -> str:
        return f"{self.source.removesuffix('.pdf')}.scan.pdf"


SCANS = (
    Scan("043.lo.pdf", (1, 3, 4, 5), 200, quality=50),
    Scan("042.lo.pdf", (1, 4, 5, 6), 200, degrees=0.8, quality=50),
    Scan("021.lo.pdf", (1, 4, 5, 6), 150, noise=8.0, quality=40),
    Scan("044.lo.pdf", (1, 8, 9, 10, 11), 180, degrees=-0.6, noise=6.0, quality=45),
    Scan("032.lo.pdf", (1, 2), 200, quality=60),  # a table without ruling lines
)
IMAGE_PAGE = ("043.lo.pdf", (3, 4, 5), 200)  # the report page whose tables are pictures


def render(path: Path, pages: tuple[int, ...], dpi: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(path.read_bytes())
    try:
        return [
            document[n - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            for n in pages
        ]
    finally:
        document.close()


def degrade(image: Image.Image, scan: Scan, seed: int) -> Image.Image:
    if scan.degrees:
        image = image.rotate(
            scan.degrees, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False
        )
    if scan.noise:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + rng.normal(0.0, scan.noise, pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=scan.quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for k, scan in enumerate(SCANS):
        pages = [
            degrade(page, scan, seed=100 * k + n)
            for n, page in enumerate(render(FORMATS / scan.source, scan.pages, scan.dpi))
        ]
        # Pillow writes grey pages as JPEG (DCTDecode) image XObjects: no text layer.
        pages[0].save(
            OUT / scan.name,
            format="PDF",
            save_all=True,
            append_images=pages[1:],
            resolution=float(scan.dpi),
            quality=scan.quality,  # Pillow encodes each grey page as JPEG again
        )
    source, numbers, dpi = IMAGE_PAGE
    images = []
    for n, page in zip(numbers, render(FORMATS / source, numbers, dpi), strict=True):
        name = f"043-table-p{n}.jpg"
        page.save(OUT / name, format="JPEG", quality=50, dpi=(dpi, dpi))
        images.append(name)
    tags = "\n".join(f'<p><img src="{name}" alt="表格"></p>' for name in images)
    (OUT / "043-images.html").write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        "<title>平潭综合实验区2022年政府信息公开工作年度报告</title></head><body>\n"
        "<h1>平潭综合实验区2022年政府信息公开工作年度报告</h1>\n"
        "<p>一、总体情况（略）</p>\n<p>二、主动公开政府信息情况</p>\n"
        f"{tags}\n<p>五、存在的主要问题及改进情况（略）</p>\n</body></html>\n",
        encoding="utf-8",
    )
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files ({total / 1e6:.1f} MB) to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
