"""Text renderings of the corpus HTML pages, flattened the way browsers and scrapers do.

    python -m tests.make_renderings      # rewrites tests/fixtures/renderings/

Each HTML page of the corpus becomes three plain-text files, held to the page's own gold
by tests/extract/test_renderings.py:

* ``NNN.glued.txt``: innerText with nothing between cells, rows or paragraphs; the body is
  one line and only tables are set off by a space (what 001, 055 and 056 look like);
* ``NNN.spaced.txt``: one line per paragraph, each table one line with one space between
  cells; blank cells vanish in the collapsed white space (what 050's page.txt looks like);
* ``NNN.lines.txt``: one cell per line, blank cells as empty lines (dropped by readers).

The fixtures are committed; the test regenerates them and fails if they differ, so they
cannot drift from this script.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.encoding import decode_with_codec

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS_RAW = FIXTURES / "corpus" / "raw"
RENDERINGS = FIXTURES / "renderings"
MODES = ("glued", "spaced", "lines")

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "_comment"})
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section",
     "article", "blockquote", "center", "pre", "caption", "form", "header", "footer"}
)
# Tokens of the walk: text, or a structural event.
CELL, ROW, BLOCK, TABLE_START, TABLE_END = "\x00cell", "\x00row", "\x00block", "\x00t+", "\x00t-"


def _walk(node: LexborNode) -> Iterator[str]:
    """Text nodes and structural events in document order (iterative: deep Word markup)."""
    stack: list[tuple[LexborNode, bool]] = [(node, False)]
    while stack:
        current, closing = stack.pop()
        tag = current.tag
        if closing:
            if tag in ("td", "th"):
                yield CELL
            elif tag == "tr":
                yield ROW
            elif tag == "table":
                yield TABLE_END
            elif tag in _BLOCKS:
                yield BLOCK
            continue
        if tag == "-text":
            yield current.text_content or ""
            continue
        if tag in _SKIP:
            continue
        if tag == "table":
            yield TABLE_START
        stack.append((current, True))
        children = list(current.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))


def _squash(text: str) -> str:
    return " ".join(text.split())


def render(markup: bytes, mode: str) -> str:
    text, _ = decode_with_codec(markup, "text/html")
    tree = LexborHTMLParser(text)
    root = tree.body or tree.root
    assert root is not None
    lines: list[str] = []  # finished lines
    line: list[str] = []  # pieces of the line in progress
    cell: list[str] = []  # text of the cell in progress
    depth = 0  # inside how many tables

    def end_line() -> None:
        joined = "".join(line).strip()
        if joined:
            lines.append(joined)
        line.clear()

    for token in _walk(root):
        if token == TABLE_START:
            depth += 1
            if mode == "glued":
                line.append(" ")
            else:
                end_line()
        elif token == TABLE_END:
            depth -= 1
            if mode == "glued":
                line.append(" ")
            else:
                end_line()
        elif token == CELL and depth:
            content = _squash("".join(cell))
            cell.clear()
            if mode == "lines":
                lines.append(content)  # an empty cell: an empty line
            elif mode == "spaced":
                line.append(f"{content} " if content else " ")
            else:
                line.append(content)
        elif token in (ROW, BLOCK, CELL):
            if depth:
                continue  # a paragraph inside a cell stays in the cell
            if mode != "glued":
                end_line()
        elif depth:
            cell.append(token)
        else:
            line.append(_squash(token) if mode != "glued" else token.strip())
    end_line()
    if mode == "spaced":
        lines = [_squash(item) for item in lines]
    return "\n".join(lines) + "\n"


def html_pages() -> list[Path]:
    return sorted(CORPUS_RAW.glob("*.html"))


def rendering_path(page: Path, mode: str) -> Path:
    return RENDERINGS / f"{page.stem}.{mode}.txt"


def main() -> int:
    RENDERINGS.mkdir(exist_ok=True)
    for page in html_pages():
        for mode in MODES:
            rendering_path(page, mode).write_text(render(page.read_bytes(), mode), "utf-8")
    print(f"wrote {len(html_pages()) * len(MODES)} renderings to {RENDERINGS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
