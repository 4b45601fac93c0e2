"""Reports printed as images: page images -> OCR word boxes -> the same cells as a PDF.

A scanned PDF (no text layer) is rendered page by page at a fixed :data:`DPI`; a table
image of a report page (``<img>``) is read from its bytes. On each image:

1. the skew is measured on the ruling lines (or text lines) and taken out;
2. ruling lines are found as long runs of dark pixels, turned into edges and, through
   pdfplumber's own edge -> intersection -> cell functions, into table cells;
3. the ruling lines are erased (they confuse the recogniser) and Tesseract (``chi_sim``)
   reads the words with their boxes: the page outside the tables at once, each cell on
   its own; cells that may hold a figure are read again by the Latin model restricted to
   digits (and, still unread, at twice their size), and the surer figure is kept;
4. words and cells, scaled to PDF points, go through :mod:`pdf_cells`' grid code: a word
   belongs to the cell its centre falls in, tables cut by a page break are joined, headers
   repeated on the next page dropped. Words outside tables become text lines. Table 3
   row labels misread are put right by :mod:`ocr_labels` where their neighbours settle it.

What comes out is read by the same row and column rules as text. Nothing read here is
trusted on its own: :mod:`ocr_verify` keeps only figures the tables' identities prove.

Bounded: a fixed DPI (a page larger than :data:`MAX_PIXELS` is rendered smaller), at most
:data:`MAX_PAGES` pages, a time budget per document and a timeout per Tesseract call.
Without Tesseract or its ``chi_sim`` data the document gets a finding that names them.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from PIL import Image

from pipeline.extract import pdf_cells
from pipeline.extract.grid import grid_cells
from pipeline.extract.ocr_labels import relabel
from pipeline.extract.word_grid import printed_lines
from pipeline.model import Finding

DPI = 200  # scans are made at 150-300 dpi; 200 reads 10.5 pt figures reliably
MIN_SCAN_DPI = 100  # a page image scanned coarser than this cannot be read: not tried
MAX_PAGES = 40
MAX_PIXELS = 12_000_000  # an A4 page at 200 dpi is 3.9 Mpx; bigger pages are scaled down
# The budget is a deadline for every Tesseract call of a document, and it ends inside the
# nightly flow's deadline per document (120 s, flows/bounded.py): a long scan ends with the
# pages read so far and a finding, never killed with nothing.
TIME_BUDGET_S = 90.0  # per document: ~4-10 s a page on a loaded 2-core machine
PAGE_TIMEOUT_S = 60.0  # one Tesseract call
#: When the document being read must be done (time.monotonic); read_images sets it.
_DEADLINE: ContextVar[float] = ContextVar("ocr_deadline", default=math.inf)
TESSERACT = "tesseract"
LANGUAGE = "chi_sim"
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
_DARK = 160  # grey level below which a pixel is ink
# Ruling lines are hairlines: scanned at 150 dpi they are one grey pixel (~160) wide.
_LINE_DARK = 200
_LINE_INCH = 0.4  # a run of ink this long (at the page's dpi) is a ruling line, no glyph is
_MAX_SKEW_TENTHS = 30  # skew searched within +-3 degrees, in steps of 0.1
_SNAP_PX = 4  # pixels: line fragments closer than this are one line
# A ruling line that crosses others stopping this short (inch) of the next line across
# meets it: a faint pixel where a hairline meets the border (150 dpi, noise) leaves a gap
# of 4-5 px, and a missed crossing merges a column of cells into one. 3 pt is pdfplumber's
# own default tolerance.
_REACH_INCH = 3 / 72


class OcrUnavailable(Exception):
    """The OCR engine cannot run here: the message names it and its install command."""


@dataclass(slots=True)
class OcrWord:
    """One word Tesseract read, in pixels of its image, with its confidence (0-100)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    conf: float


@dataclass(slots=True)
class OcrContent:
    """What OCR read from a document's images, in the shape :class:`pdf_cells.PdfContent`
    gives: grid cells of the ruled tables, text lines outside them, and the whole text."""

    table_cells: list[str] = field(default_factory=list)
    text: str = ""
    table_text: str = ""
    pages: int = 0
    words: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)


@cache
def engine_problem() -> str | None:
    """Why OCR cannot run here (engine or language data missing), or ``None``."""
    binary = shutil.which(TESSERACT)
    if binary is None:
        return f"OCR engine not installed: Tesseract ({INSTALL})"
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"OCR engine not usable: {TESSERACT} --list-langs failed ({exc}); {INSTALL}"
    missing = [lang for lang in (LANGUAGE, _FIGURE_LANGUAGE) if lang not in listed.stdout.split()]
    if missing:
        return f"OCR language data missing: Tesseract {', '.join(missing)} ({INSTALL})"
    return None


def ocr_words(
    image: Image.Image, dpi: int, language: str = LANGUAGE, *options: str
) -> list[OcrWord]:
    """Words and boxes of one image (Tesseract, block mode, TSV output)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one page, one core: no thread storm
    try:
        done = subprocess.run(
            [
                TESSERACT,
                "stdin",
                "stdout",
                "-l",
                language,
                "--psm",
                "6",
                "--dpi",
                str(dpi),
                *options,
                "tsv",
            ],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=_call_timeout(),
            check=False,
            env=env,
        )
    except FileNotFoundError:
        raise OcrUnavailable(f"OCR engine not installed: Tesseract ({INSTALL})") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise OcrUnavailable(f"Tesseract failed ({done.returncode}): {detail[0][:120]}")
    return _tsv_words(done.stdout.decode("utf-8", "replace"))


def _call_timeout() -> float:
    """Seconds the next Tesseract call may take: the document's deadline bounds them all."""
    left = _DEADLINE.get() - time.monotonic()
    if left <= 0:
        raise subprocess.TimeoutExpired(TESSERACT, 0)
    return min(PAGE_TIMEOUT_S, left)


def _tsv_words(tsv: str) -> list[OcrWord]:
    """Words of Tesseract's TSV, each given the top and bottom of its line: glyph boxes
    of Chinese characters vary in height ("一" is a few pixels tall), line boxes do not,
    and lines are then grouped as Tesseract grouped them."""
    lines: dict[tuple[str, ...], tuple[int, int]] = {}
    words = []
    for line in tsv.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) != 12 or not parts[6].isdigit():
            continue
        left, top, width, height = (int(v) for v in parts[6:10])
        key = tuple(parts[1:5])
        if parts[0] == "4":
            lines[key] = (top, top + height)
            continue
        text = clean_word(parts[11])
        if parts[0] != "5" or not text:
            continue
        line_top, line_bottom = lines.get(key, (top, top + height))
        words.append(OcrWord(text, left, left + width, line_top, line_bottom, float(parts[10])))
    return words


# What a figure-like token reads as: O for 0 in a run of digits (Latin letters never
# stand in a figure cell); a lone "|" is what is left of an erased ruling line.
_DIGIT_LOOKALIKES = str.maketrans({"O": "0", "o": "0"})


# Specks read as punctuation on their own: never a figure, and nothing a label needs.
_SPECKS = "|，。、,.'`\"“”‘’:;：；*~_"


_SPECKED_FIGURE = re.compile(r"^[.,]\d+$")  # not "5.": an enumerator


def clean_word(text: str) -> str:
    """A word as the recogniser gave it, without specks; "O" in a run of digits is 0."""
    text = text.strip()
    if not text.strip(_SPECKS):
        return ""
    if any(c.isdigit() for c in text) and all(c.isdigit() or c in "Oo" for c in text):
        return text.translate(_DIGIT_LOOKALIKES)
    if _SPECKED_FIGURE.match(text):  # ".0": a speck before a figure
        return text.lstrip(".,")
    return text


# ---------------------------------------------------------------------------- images


def _ink(gray: np.ndarray) -> np.ndarray:
    return gray < _DARK


def skew_degrees(ink: np.ndarray) -> float:
    """The rotation (degrees, counter-clockwise as PIL's ``rotate``) that makes the ruling
    lines and text lines horizontal: the angle whose row profile is sharpest."""
    h, w = (ink.shape[0] // 4) * 4, (ink.shape[1] // 4) * 4
    if h == 0 or w == 0:
        return 0.0
    # 4x4 max-pooling keeps thin lines that plain subsampling would skip.
    small = ink[:h, :w].reshape(h // 4, 4, w // 4, 4).max(axis=(1, 3))
    thumb = Image.fromarray(small.astype(np.uint8) * 255)
    best, best_score = 0.0, -1
    for tenth in range(-_MAX_SKEW_TENTHS, _MAX_SKEW_TENTHS + 1):
        angle = tenth / 10
        rotated = np.asarray(thumb.rotate(angle, resample=Image.Resampling.NEAREST)) > 0
        profile = rotated.sum(axis=1, dtype=np.int64)
        score = int((profile * profile).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Pixels of ``mask`` that lie in a horizontal run of at least ``length`` set pixels."""
    width = mask.shape[1]
    if length > width:
        return np.zeros_like(mask)
    summed = np.cumsum(np.pad(mask.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    full = (summed[:, length:] - summed[:, :-length]) == length  # window from j is all ink
    starts = np.cumsum(np.pad(full.astype(np.int32), ((0, 0), (1, 0))), axis=1)
    j = np.arange(width)
    lo = np.clip(j - length + 1, 0, full.shape[1])
    hi = np.clip(j + 1, 0, full.shape[1])
    return (starts[:, hi] - starts[:, lo]) > 0


def ruling_masks(ink: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling-line pixels."""
    length = max(int(_LINE_INCH * dpi), 20)
    return _runs(ink, length), _runs(ink.T, length).T


def _segments(mask: np.ndarray, orientation: str) -> list[dict[str, object]]:
    """Runs of ``mask`` (row by row for "h", column by column for "v") as pdfplumber
    edges, in pixels."""
    grid = mask if orientation == "h" else mask.T
    edges = np.diff(np.pad(grid.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    out: list[dict[str, object]] = []
    for line, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if orientation == "h":
            box = {"x0": float(a), "x1": float(b), "top": float(line), "bottom": float(line)}
        else:
            box = {"x0": float(line), "x1": float(line), "top": float(a), "bottom": float(b)}
        box["width"] = box["x1"] - box["x0"]
        box["height"] = box["bottom"] - box["top"]
        out.append({**box, "orientation": orientation, "object_type": "line"})
    return out


Box = tuple[float, float, float, float]


def table_cells(
    horizontal: np.ndarray, vertical: np.ndarray, dpi: int, ink: np.ndarray | None = None
) -> list[list[Box]]:
    """Cell boxes (pixels) of each ruled table, top to bottom, through pdfplumber's own
    edge -> intersection -> cell -> table functions. With the page's ``ink``, underlines
    are no ruling lines."""
    from pdfplumber import table as plumber

    edges = _segments(horizontal, "h") + _segments(vertical, "v")
    if not edges:
        return []
    merged = plumber.merge_edges(edges, _SNAP_PX, _SNAP_PX, _SNAP_PX, _SNAP_PX)
    length = max(int(_LINE_INCH * dpi), 20)
    merged = [e for e in merged if max(e["width"], e["height"]) >= length]
    if ink is not None:
        merged = [e for e in merged if not _is_underline(e, merged, ink, dpi)]
    merged = _reaching(merged, max(_SNAP_PX, round(_REACH_INCH * dpi)))
    crossings = plumber.edges_to_intersections(merged, _SNAP_PX, _SNAP_PX)
    cells = plumber.intersections_to_cells(crossings)
    tables = [t for t in plumber.cells_to_tables(cells) if len(t) >= 2]
    tables.sort(key=lambda t: (min(c[1] for c in t), min(c[0] for c in t)))
    return [[(float(a), float(b), float(c), float(d)) for a, b, c, d in t] for t in tables]


_UNDERLINE_GAP_INCH = 0.03  # an underline runs this close under its text's bottom


def _is_underline(
    edge: dict[str, Any], edges: list[dict[str, Any]], ink: np.ndarray, dpi: int
) -> bool:
    """A horizontal line that no line across meets between its ends, with text right above
    it along most of its length: an underline (043's labels), not a row's border. Taken
    for a border, it cuts a label's cell in two rows where it meets the cell's sides."""
    if edge["orientation"] != "h":
        return False
    x0, x1, y = edge["x0"], edge["x1"], edge["top"]
    if any(
        other["orientation"] == "v"
        and x0 + _SNAP_PX < other["x0"] < x1 - _SNAP_PX
        and other["top"] - _SNAP_PX <= y <= other["bottom"] + _SNAP_PX
        for other in edges
    ):
        return False
    row = round(y)
    above = ink[
        max(row - 2 - int(_UNDERLINE_GAP_INCH * dpi), 0) : max(row - 2, 0), int(x0) : int(x1)
    ]
    if above.size == 0:
        return False
    return float(above.any(axis=0).mean()) > 0.3  # glyph bottoms along the line


def _reaching(edges: list[dict[str, Any]], reach: float) -> list[dict[str, Any]]:
    """The edges, each one that crosses a line across it between its ends drawn on to the
    nearest line across within ``reach`` of each end. An underline crosses no line: left
    as it is, it meets no cell border and cuts no cell (it stops 2-6 px short of them)."""
    out = []
    for edge in edges:
        h = edge["orientation"] == "h"
        start, end = (edge["x0"], edge["x1"]) if h else (edge["top"], edge["bottom"])
        at = edge["top"] if h else edge["x0"]
        across = [
            other["x0"] if h else other["top"]
            for other in edges
            if other["orientation"] != edge["orientation"]
            and (other["top"] if h else other["x0"]) - _SNAP_PX
            <= at
            <= (other["bottom"] if h else other["x1"]) + _SNAP_PX
        ]
        if not any(start + _SNAP_PX < x < end - _SNAP_PX for x in across):
            out.append(edge)
            continue
        start = min((x for x in across if start - reach <= x <= start), default=start)
        end = max((x for x in across if end <= x <= end + reach), default=end)
        key = ("x0", "x1") if h else ("top", "bottom")
        size = "width" if h else "height"
        out.append({**edge, key[0]: start, key[1]: end, size: end - start})
    return out


@dataclass(slots=True)
class PageReading:
    """One image read: words and cell boxes, in PDF points (1/72 inch)."""

    words: list[OcrWord]
    tables: list[list[Box]]
    width: float
    height: float
    skew: float


def read_page(image: Image.Image, dpi: int) -> PageReading:
    """Straighten one page image, find its ruled tables, erase the lines and OCR it."""
    gray = image.convert("L")
    skew = skew_degrees(_ink(np.asarray(gray)))
    if skew:
        gray = gray.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255, expand=False)
    pixels = np.asarray(gray)
    horizontal, vertical = ruling_masks(pixels < _LINE_DARK, dpi)
    tables = table_cells(horizontal, vertical, dpi, pixels < _DARK)
    lines = horizontal | vertical
    # Erase the lines with a one-pixel margin (anti-aliased edges read as "|", "_" or "1").
    grown = lines.copy()
    grown[1:, :] |= lines[:-1, :]
    grown[:-1, :] |= lines[1:, :]
    grown[:, 1:] |= lines[:, :-1]
    grown[:, :-1] |= lines[:, 1:]
    cleaned = np.where(grown, np.uint8(255), pixels)
    outside = cleaned.copy()
    for table in tables:  # the page's own text, tables blanked out: read once, in full
        x0, top = int(min(c[0] for c in table)), int(min(c[1] for c in table))
        x1, bottom = int(max(c[2] for c in table)) + 1, int(max(c[3] for c in table)) + 1
        outside[top:bottom, x0:x1] = 255
    page = Image.fromarray(outside)
    words = _refigured(page, _without_specks(ocr_words(page, dpi)), dpi)
    words += _cell_words(Image.fromarray(cleaned), tables, dpi)
    scale = 72.0 / dpi
    points = [
        OcrWord(w.text, w.x0 * scale, w.x1 * scale, w.top * scale, w.bottom * scale, w.conf)
        for w in words
    ]
    scaled = [[(a * scale, b * scale, c * scale, d * scale) for a, b, c, d in t] for t in tables]
    return PageReading(points, scaled, gray.width * scale, gray.height * scale, skew)


_CJK = re.compile(r"[\u3400-\u9fff]")
_FIGURE_LANGUAGE = "eng"  # Tesseract's Latin model reads digits far better than chi_sim's
_FIGURE_CHARS = "0123456789.-/"
_GAP_PX = 24  # white space around each cell in a strip
_INSET_PX = 3  # what is cut off a cell's edges (the erased ruling line's fringe)
_STRIP_MAX_PX = 20_000  # a strip taller than this is read in several calls


def _read_cells(
    image: Image.Image,
    boxes: list[Box],
    dpi: int,
    language: str,
    *options: str,
    scale: int = 1,
    underlines: bool = False,
) -> list[list[OcrWord]]:
    """The words of each cell box, read from the cells cut out and stacked into strips
    (a few Tesseract calls per page, not one per cell), in page pixels. ``scale``: the
    cells enlarged this many times first (a figure of a coarse, noisy scan that reads as
    nothing at its own size often reads at twice it). ``underlines``: underlines taken
    out of each cell first (no figure holds a stroke that long; a Chinese character may)."""
    crops = []
    for x0, top, x1, bottom in boxes:
        crop = image.crop(
            (
                int(x0) + _INSET_PX,
                int(top) + _INSET_PX,
                int(x1) - _INSET_PX,
                int(bottom) - _INSET_PX,
            )
        )
        if underlines:
            crop = _without_underlines(crop, dpi)
        if scale > 1:
            crop = crop.resize((crop.width * scale, crop.height * scale), Image.Resampling.LANCZOS)
        crops.append(crop)
    found: list[list[OcrWord]] = [[] for _ in boxes]
    gap = _GAP_PX * scale
    start = 0
    while start < len(crops):
        offsets: list[int] = []
        y = gap
        end = start
        while end < len(crops) and (end == start or y + crops[end].height < _STRIP_MAX_PX):
            offsets.append(y)
            y += crops[end].height + gap
            end += 1
        width = max(c.width for c in crops[start:end]) + 2 * gap
        strip = Image.new("L", (width, y), 255)
        for crop, offset in zip(crops[start:end], offsets, strict=True):
            strip.paste(crop, (gap, offset))
        for word in ocr_words(strip, dpi * scale, language, *options):
            middle = (word.top + word.bottom) / 2
            i = bisect.bisect_right(offsets, middle) - 1
            if i < 0 or middle > offsets[i] + crops[start + i].height:
                continue
            x0, top = boxes[start + i][0] + _INSET_PX, boxes[start + i][1] + _INSET_PX
            found[start + i].append(
                OcrWord(
                    word.text,
                    x0 + (word.x0 - gap) / scale,
                    x0 + (word.x1 - gap) / scale,
                    top + (word.top - offsets[i]) / scale,
                    top + (word.bottom - offsets[i]) / scale,
                    word.conf,
                )
            )
        start = end
    return found


def _read_figures(
    image: Image.Image, boxes: list[Box], dpi: int, scale: int = 1, *, underlines: bool = True
) -> list[list[OcrWord]]:
    """The cells read by the digits-only pass (underlines taken out, unless told)."""
    return _read_cells(
        image,
        boxes,
        dpi,
        _FIGURE_LANGUAGE,
        "-c",
        f"tessedit_char_whitelist={_FIGURE_CHARS}",
        scale=scale,
        underlines=underlines,
    )


_UNDERLINE_INCH = 0.1  # a digit of 10.5 pt is 0.07 inch wide; an underlined one's line longer


def _without_underlines(crop: Image.Image, dpi: int) -> Image.Image:
    """The cell without underlines: ink in a horizontal run longer than any digit's
    stroke ("_0_" reads as "-0" or "20"), with a pixel around it."""
    pixels = np.asarray(crop)
    runs = _runs(pixels < _LINE_DARK, max(int(_UNDERLINE_INCH * dpi), 8))
    if not runs.any():
        return crop
    grown = runs.copy()
    grown[1:, :] |= runs[:-1, :]
    grown[:-1, :] |= runs[1:, :]
    return Image.fromarray(np.where(grown, np.uint8(255), pixels))


# A cell chi_sim reads as one to three characters it is unsure of ("号" for 3, "区" for
# 72 on a noisy 150 dpi scan) may hold a figure; a label it reads this short ("总计",
# "其他") it reads with 90+.
_SHORT_CELL = 3
_UNSURE_CJK = 70.0
# The digits-only pass reads a printed figure with 90+; what it makes of a label's glyphs
# it reads with under 20. Only a reading this sure replaces chi_sim's.
_SURE_FIGURE = 80.0


_FIGURE = re.compile(r"^-?\d+(?:\.\d+)?$")


def _is_figure(words: list[OcrWord], sure: float = 0.0) -> bool:
    return bool(words) and all(w.conf >= sure and _FIGURE.match(w.text) for w in words)


def _sureness(words: list[OcrWord]) -> float:
    return min((w.conf for w in words), default=0.0)


def _likelier(chinese: list[OcrWord], digits: list[OcrWord], *, plain: bool) -> list[OcrWord]:
    """A cell's reading: the digits-only pass's, unless chi_sim read a figure it is surer
    of (on a noisy scan chi_sim reads "0" with 95 where the Latin model reads nothing, or
    "10" with 0). A cell chi_sim read with Chinese characters takes only a sure figure."""
    if not plain:
        return digits if _is_figure(digits, _SURE_FIGURE) else chinese
    if _is_figure(chinese) and (not _is_figure(digits) or _sureness(chinese) > _sureness(digits)):
        return chinese
    return digits


def _maybe_figure(words: list[OcrWord]) -> bool:
    """chi_sim's reading of a cell is short and unsure: the cell may hold a figure."""
    text = "".join(w.text for w in words)
    return 0 < len(text) <= _SHORT_CELL and all(
        w.conf < _UNSURE_CJK for w in words if _CJK.search(w.text)
    )


def _cell_words(image: Image.Image, tables: list[list[Box]], dpi: int) -> list[OcrWord]:
    """The words of every table cell: each cell read on its own (a whole-page reading
    runs the lines of neighbouring cells together), then the cells that may hold a figure
    read again by a digits-only pass, since chi_sim reads "71" as "/1" or "7J4", and those
    that still give no figure read once more at twice their size."""
    cells = [
        cell
        for table in tables
        for cell in table
        if cell[2] - cell[0] > 2 * _INSET_PX + 2 and cell[3] - cell[1] > 2 * _INSET_PX + 2
    ]
    if not cells:
        return []
    texts = _read_cells(image, cells, dpi, LANGUAGE)
    # Any cell without a Chinese character may hold a figure (one printed beside a label
    # wrapped over three lines sits in a tall cell); so may one chi_sim is unsure of.
    plain = [k for k in range(len(cells)) if not any(_CJK.search(w.text) for w in texts[k])]
    unsure = [k for k in range(len(cells)) if k not in set(plain) and _maybe_figure(texts[k])]
    figures = sorted([*plain, *unsure])
    digits = _read_figures(image, [cells[k] for k in figures], dpi)
    for k, read in zip(figures, digits, strict=True):
        texts[k] = _likelier(texts[k], read, plain=k in set(plain))
    # What is still no figure though it may be one, and has ink: read at twice its size.
    again = [
        k
        for k in figures
        if not _is_figure(texts[k], _SURE_FIGURE)
        and (texts[k] or _has_ink(image, cells[k]))
        and (not texts[k] or k in set(plain) or _maybe_figure(texts[k]))
    ]
    if again:
        larger = _read_figures(image, [cells[k] for k in again], dpi, scale=2)
        for k, read in zip(again, larger, strict=True):
            if _is_figure(read, _SURE_FIGURE):
                texts[k] = read
    for k, read in enumerate(texts):
        if not read and _has_ink(image, cells[k]):
            # Something is printed that no pass could read: never a blank.
            x0, top, x1, bottom = cells[k]
            texts[k] = [OcrWord(UNREAD, x0, x1, top, bottom, 0.0)]
    return [word for own in texts for word in own]


_SPECK_CONF = 50.0  # a lone character beside a figure read with less is a speck


def _without_specks(words: list[OcrWord]) -> list[OcrWord]:
    """The words without lone Chinese characters read unsurely right after a figure on its
    line, with no word after them: noise beside a figure of a table without ruling lines
    ("177 有", "315 芝"), which would make its cell text."""
    specks: set[int] = set()  # ids of the words dropped
    for line in printed_lines(words, lambda w: w.bottom - w.top):
        line.sort(key=lambda w: w.x0)
        for before, word, after in zip([None, *line[:-1]], line, [*line[1:], None], strict=True):
            height = max(word.bottom - word.top, 1.0)
            if (
                before is not None
                and len(word.text) == 1
                and _CJK.search(word.text)
                and word.conf < _SPECK_CONF
                and _FIGURE.match(before.text)
                and word.x0 - before.x1 < height
                and (after is None or after.x0 - word.x1 > _SPECK_GAP * height)
            ):
                specks.add(id(word))
    return [w for w in words if id(w) not in specks]


_SPECK_GAP = 1.5  # glyph heights: the next word farther than this is another cell


def _refigured(image: Image.Image, words: list[OcrWord], dpi: int) -> list[OcrWord]:
    """Words outside ruled tables (tables without ruling lines are read from them) with
    the figure-like ones read again by the digits-only pass."""
    figures = [
        k
        for k, w in enumerate(words)
        if not _CJK.search(w.text) and any(c.isdigit() or c in "/|]JlI" for c in w.text)
    ]
    if not figures:
        return words
    pad = _INSET_PX + 3
    boxes = [
        (words[k].x0 - pad, words[k].top - pad, words[k].x1 + pad, words[k].bottom + pad)
        for k in figures
    ]
    # Word boxes are cut close: a figure's own strokes can run their whole width.
    digits = _read_figures(image, boxes, dpi, underlines=False)
    out = list(words)
    for k, read in zip(figures, digits, strict=True):
        old = words[k]
        text = " ".join(w.text for w in sorted(read, key=lambda w: w.x0)) or UNREAD
        out[k] = OcrWord(text, old.x0, old.x1, old.top, old.bottom, old.conf)
    return out


#: Stands for a cell with ink that OCR read as nothing; reads as text, so its row is
#: left out rather than read with a blank where a figure is printed.
UNREAD = "\ufffd"
_INK_PIXELS = 20  # at 200 dpi a "1" has ~120 dark pixels, JPEG noise a handful


def _has_ink(image: Image.Image, box: Box) -> bool:
    x0, top, x1, bottom = box
    crop = image.crop(
        (int(x0) + _INSET_PX, int(top) + _INSET_PX, int(x1) - _INSET_PX, int(bottom) - _INSET_PX)
    )
    return int((np.asarray(crop) < _DARK).sum()) > _INK_PIXELS


@dataclass(slots=True)
class _PageTables:
    tables: list[pdf_cells.Table]
    text_lines: list[str]
    all_lines: list[str]


def _page_tables(reading: PageReading, *, word_tables: bool = False) -> _PageTables:
    """The page in :mod:`pdf_cells`' terms: its tables as grids, and its text lines.
    ``word_tables``: the tables rebuilt from word positions instead of the ruled ones."""
    chars = [pdf_cells.Char(w.text, w.x0, w.x1, w.top, w.bottom, True) for w in reading.words]
    boxes = [
        (min(c[0] for c in t), min(c[1] for c in t), max(c[2] for c in t), max(c[3] for c in t))
        for t in reading.tables
    ]
    inside, outside = pdf_cells.split_by_box(chars, boxes)
    grids = [
        pdf_cells.table_grid(cells, own) for cells, own in zip(reading.tables, inside, strict=True)
    ]
    for grid, box in zip(grids, boxes, strict=True):
        grid.top = box[1]
    if word_tables:
        # Tables without ruling lines, rebuilt from word positions (issue 9's word tables).
        grids = sorted(pdf_cells.char_tables(outside), key=lambda t: t.top)
    text_lines, all_lines = pdf_cells.page_lines(outside, chars, reading.height)
    return _PageTables(grids, text_lines, all_lines)


#: A page to read: its image and dpi, or no image and why it is not read.
PageImage = tuple[Image.Image | None, int, str]


def read_images(images: Iterable[PageImage]) -> OcrContent:
    """OCR a document's page images (each with its dpi), within the time budget.

    Raises :class:`OcrUnavailable` when the engine is missing (before any work)."""
    problem = engine_problem()
    if problem is not None:
        raise OcrUnavailable(problem)
    started = time.monotonic()
    token = _DEADLINE.set(started + TIME_BUDGET_S)
    try:
        return _read_images(images, started)
    finally:
        _DEADLINE.reset(token)


def _read_images(images: Iterable[PageImage], started: float) -> OcrContent:
    result = OcrContent()
    ruled: list[list[pdf_cells.Table]] = []
    unruled: list[list[pdf_cells.Table]] = []
    text_lines: list[str] = []
    all_lines: list[str] = []
    for number, (image, dpi, why) in enumerate(images, start=1):
        if number > MAX_PAGES:
            result.findings.append(
                _warning("pages_skipped", f"OCR reads at most {MAX_PAGES} pages")
            )
            break
        if time.monotonic() - started > TIME_BUDGET_S:
            result.findings.append(
                _warning(
                    "pages_skipped",
                    f"OCR time budget ({TIME_BUDGET_S:.0f} s) spent; pages from {number} on "
                    "not read",
                )
            )
            break
        if image is None:
            result.findings.append(_warning("page_skipped", f"page {number}: {why}"))
            continue
        try:
            reading = read_page(image, dpi)
        except subprocess.TimeoutExpired:
            result.findings.append(
                _warning(
                    "page_unreadable",
                    f"page {number}: OCR took over {PAGE_TIMEOUT_S:.0f} s, or the document's "
                    f"time budget ({TIME_BUDGET_S:.0f} s) ended during it",
                )
            )
            continue
        result.pages += 1
        result.words += len(reading.words)
        page = _page_tables(reading)
        ruled.append(page.tables)
        if not any(ruled):  # word tables only while no page has ruled ones (see _joined)
            unruled.append(_page_tables(reading, word_tables=True).tables)
        text_lines.extend(page.text_lines)
        all_lines.extend(page.all_lines)
    # Word tables only for a document without any ruled table: beside ruled tables the
    # text is prose and headings, which OCR misreads into stray "tables" that cut the
    # real ones short.
    tables = _joined(ruled if any(ruled) else unruled)
    cells = [text for table in tables for text in grid_cells(table.cells)]
    result.table_cells, relabelled = relabel(cells)
    if relabelled:
        result.findings.append(
            Finding(
                check="ocr_relabelled",
                status="info",
                message="row labels misread by OCR taken for the national row between their "
                "neighbours: " + "; ".join(f"{fix.read!r} as {fix.row}" for fix in relabelled),
            )
        )
    result.text = "\n".join(text_lines)
    result.table_text = "\n".join(all_lines)
    result.seconds = time.monotonic() - started
    return result


def _joined(pages: list[list[pdf_cells.Table]]) -> list[pdf_cells.Table]:
    """The pages' tables in order, those cut by a page break joined (as pdf_cells joins
    the pages of a PDF's text layer)."""
    tables: list[pdf_cells.Table] = []
    for page in pages:
        pdf_cells.add_page_tables(tables, page)
    return tables


def _warning(check: str, message: str) -> Finding:
    return Finding(check=check, status="warning", message=message)


def pdf_page_images(content: bytes, dpi: int = DPI) -> Iterator[PageImage]:
    """The pages of a PDF rendered in grey at ``dpi`` (lower for a page so large it would
    pass :data:`MAX_PIXELS`), one at a time, at most :data:`MAX_PAGES` + 1 of them. A
    page whose picture was scanned coarser than :data:`MIN_SCAN_DPI` is not rendered:
    rendering finer invents no detail, and OCR would read noise."""
    import pypdfium2 as pdfium  # comes with pdfplumber
    import pypdfium2.raw as pdfium_c

    document = pdfium.PdfDocument(content)
    try:
        for index in range(min(len(document), MAX_PAGES + 1)):
            page = document[index]
            try:
                width, height = page.get_size()  # points
                scanned = _scan_dpi(page, pdfium_c.FPDF_PAGEOBJ_IMAGE)
                if scanned is not None and scanned < MIN_SCAN_DPI:
                    yield None, 0, f"scanned at {scanned:.0f} dpi, too coarse for OCR"
                    continue
                page_dpi = dpi
                pixels = width * height * (dpi / 72) ** 2
                if pixels > MAX_PIXELS:
                    page_dpi = int(dpi * (MAX_PIXELS / pixels) ** 0.5)
                bitmap = page.render(scale=page_dpi / 72, grayscale=True)
                image = bitmap.to_pil().convert("L")
            finally:
                page.close()
            yield image, page_dpi, ""
    finally:
        document.close()


def _scan_dpi(page: Any, image_type: int) -> float | None:
    """The resolution of the largest picture on the page (pixels per inch as placed)."""
    best: tuple[float, float] | None = None
    for obj in page.get_objects(filter=[image_type], max_depth=1):
        try:
            px_width, _ = obj.get_px_size()
            left, _, right, _ = obj.get_bounds()
        except Exception:
            continue
        placed = abs(right - left) / 72
        if placed > 0 and (best is None or placed > best[0]):
            best = (placed, px_width / placed)
    return None if best is None else best[1]


def image_from_bytes(data: bytes, dpi: int = DPI) -> PageImage:
    """A table image (``<img>`` of a report page) from its bytes, with the dpi it is read
    at: the one it states, else :data:`DPI`. Raises ``ValueError`` for bytes that are not
    an image Pillow reads, or one larger than :data:`MAX_PIXELS`."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"image of {image.width}x{image.height} pixels is too large")
        image.load()
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    stated = image.info.get("dpi", (0, 0))[0]
    return image.convert("L"), int(stated) if 72 <= stated <= 600 else dpi, ""
