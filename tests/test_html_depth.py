"""The nesting cap in front of every HTML parse (:mod:`pipeline.html_depth`): ordinary
pages pass untouched, and the quick bound that lets them through never under-counts."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.html_depth import MAX_DEPTH, _depth_bound, _max_depth, cap_nesting
from tests.corpus import CORPUS

_TAGS = st.sampled_from(
    [
        *("<div>", "</div>", "<DIV class='a'>", "</DIV >", "<span>", "</span>", "<p>", "</p>"),
        *("<td>", "</td>", "<table>", "</table>", "<br>", "<br/>", "<div/>", "<o:p>", "</o:p>"),
        *("<blockquote>", "</blockquote>", "<custom-el>", "</custom-el>", "</x>", "<li>"),
        *(
            "<!-- <div> -->",
            "<!DOCTYPE html>",
            "< div>",
            "<",
            "</",
            "text",
            "数字 12",
            "<a href=x>",
        ),
        *("</a>", "<section\n>", "</section\t>", "<img src='<div>'>", "<verylongtagname>"),
        *("<div/>", "<td.x>", "<td-x>", "<td)x>", "<TD\x0bx>", "</h\x11>", "<p\r>", "</X>"),
        *("</div <", "</div\n>", "<td\x00>", "\x00", "</o:p >", "</SPAN>", "<Td\t>", "<br/>"),
        *("<colgroup>", "</colgroup>", "<optgroup>", "<section>", "</section>", "</h1>"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TAGS, max_size=120))
def test_the_quick_bound_never_counts_less_than_the_exact_depth(tags: list[str]) -> None:
    page = "".join(tags)
    assert _depth_bound(page) >= _max_depth(page)
    assert _depth_bound(page.encode()) >= _max_depth(page.encode())
    # the bound reads a page in slices: the same answer whatever their size
    assert _depth_bound(page, slice_bytes=7) == _depth_bound(page)


def test_real_pages_are_not_touched_and_bounded_closely() -> None:
    for path in sorted((CORPUS / "raw").glob("*.html")):
        page = path.read_bytes()
        assert cap_nesting(page) == (page, 0)
        assert _max_depth(page) <= _depth_bound(page) <= _max_depth(page) + 5 < MAX_DEPTH


def test_deep_pages_are_cut_to_the_cap_whatever_balances_them() -> None:
    """Unclosed divs between stray end tags of flat elements (``</p>``), which the parser
    ignores: the quick bound must not be fooled into letting the page through."""
    page = "<div></p>" * 2_000 + "<p>12</p>"
    capped, removed = cap_nesting(page)
    assert removed == 2_000 - MAX_DEPTH and _max_depth(capped) == MAX_DEPTH
    assert capped.endswith("<p>12</p>")


def test_tags_that_only_look_flat_or_closed_still_count() -> None:
    """``<div/>`` opens a div (HTML ignores the slash) and ``<td.x>`` is an element of its
    own, not a cell: both deepen the parser's stack, so both count."""
    for opening in ("<div/>", "<td.x>", "<TD)x>"):
        page = opening * 2_000 + "</x>" * 2_000
        assert _max_depth(page) == 2_000 <= _depth_bound(page)
        assert cap_nesting(page)[1] > 0


def test_the_bound_knows_flat_and_closed_names_in_either_case() -> None:
    """The bound reads names as 8-byte numbers (little-endian on both sides: the page's
    words and the table of known names): flat cells and closed divs are known in either
    case, a name of 8 bytes or more is not, nor one with a byte that is no terminator."""
    assert _depth_bound(b"<TD>" * 600) == 0 and _depth_bound(b"<td\tclass=x>" * 600) == 0
    assert _depth_bound(b"<div></DIV>" * 600) == 1 and _depth_bound(b"<div>" * 600) == 600
    assert _depth_bound(b"<colgroup>" * 600) == 600 == _depth_bound("<td\x00>" * 600)


#: Bytes a tag's spelling is made of, for the exhaustive test below: letters of flat and
#: closed names in both cases, ":" and "1" (``o:p``, ``h1``), the bytes that end a name
#: (white space, "/", ">"), those below "!" that do not (NUL, VT, and 0x11, 0x0F, 0x1E:
#: with the lower-case bit they read "1", "/", ">"), "<" and a byte of a multi-byte character.
_SPELLING = [*b"dIvtrbpo:1h", 0, 0x0B, 0x11, 0x0F, 0x1E, *b" />", *b"<", 0xC3]


def test_no_spelling_of_a_short_tag_steps_the_bound_below_the_exact_count() -> None:
    """Every start and end tag of up to three bytes over :data:`_SPELLING`, with and
    without a closing ">", between two open elements and one more: the bound steps at
    least as far in (and no further out) as the exact count at each of them."""
    spellings = [
        bytes([*lead, *name, *tail])
        for size in range(4)
        for name in itertools.product(_SPELLING, repeat=size)
        for lead in (b"<", b"</")
        for tail in (b"", b">")
    ]
    # names of 7, 8 and 9 bytes: a flat and a closed name padded, in mixed case
    spellings += [
        f"{lead}{name.ljust(size, pad)}{end}".encode()
        for lead in ("<", "</")
        for name in ("caption", "CapTion", "noscript", "td", "Div")
        for size in (7, 8, 9)
        for pad in ("x", "\0")
        for end in (">", " >", "/>", "\x0b>", "")
    ]
    under = [
        tag
        for tag in spellings
        if _depth_bound(b"<x><x>" + tag + b"<x>") < _max_depth(b"<x><x>" + tag + b"<x>")
    ]
    assert len(spellings) > 25_000 and under == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*(bytes([b]) for b in _SPELLING), b"<", b"</", b"\xff"]), max_size=80)
)
def test_the_bound_holds_on_bytes_of_any_encoding(pieces: list[bytes]) -> None:
    """Raw bytes, also ones no UTF-8 text encodes to (a GBK page is read as bytes)."""
    page = b"".join(pieces)
    assert _depth_bound(page, slice_bytes=5) >= _max_depth(page)
    assert _depth_bound(page.decode("latin-1")) >= _max_depth(page.decode("latin-1"))
