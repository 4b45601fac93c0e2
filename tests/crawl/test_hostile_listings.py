"""Hostile listing pages (issue 8 §4): markup made so that a parser's time grows with the
square of the page. Each page here took minutes before; reading it is now linear, so the
crawl of every portal goes on. Servers run on 127.0.0.1; nothing is mocked."""

from __future__ import annotations

import time

from selectolax.lexbor import LexborHTMLParser

from pipeline.crawl.families.base import between
from pipeline.crawl.families.hanweb import hanweb_datastore
from pipeline.crawl.families.jpaas import pagination
from pipeline.crawl.links import attachment_links, extract_links, iframe_links
from pipeline.crawl.listing import Cursor, Request, parse_listing
from pipeline.flows.nightly import nightly as crawl
from pipeline.html_depth import cap_nesting
from tests.portals import Reply, Site, article_page, corpus, fast, portal

# Generous bounds: each page below took from 50 s to over 10 minutes with the quadratic
# readers, and well under a second with the linear ones.
BOUND_S = 10.0
TITLE = "柯城区2023年政府信息公开工作年度报告"
REPORT_LINK = f'<a href="/r/1.html" title="{TITLE}">{TITLE}</a>'


def _page(body: str) -> str:
    return f'<html><meta charset="utf-8"><body>{REPORT_LINK}{body}</body></html>'


def _timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = fn(*args)
    assert time.monotonic() - started < BOUND_S
    return result


def test_unclosed_datastore_tags_read_in_linear_time() -> None:
    """40,000 unclosed ``<datastore>`` in 440 KB: 77 s per portal before (each regex match
    rescanned the page to its end), and the real records are still read."""
    record = f"<record><![CDATA[<li>{REPORT_LINK}</li>]]></record>"
    page = f"<datastore><recordset>{record}</recordset></datastore>" + "<datastore>" * 40_000
    assert len(page) > 440_000
    store = _timed(hanweb_datastore, page, "http://127.0.0.1/col/col1/index.html")
    assert store is not None and store.record_count == 1
    cursor = Cursor(Request("http://127.0.0.1/col/col1/index.html"), "hanweb")
    listing = _timed(parse_listing, page, cursor)
    assert {link.url for link in listing.links} == {"http://127.0.0.1/r/1.html"}


def test_between_matches_the_lazy_regex_it_replaces() -> None:
    import re

    text = "<x>1</x> <x>2<x>3</x> <x>4"  # nested opening, unclosed last
    lazy = re.findall(r"<x>(.*?)</x>", text)
    assert between(text, re.compile("<x>"), re.compile("</x>")) == lazy == ["1", "2<x>3"]


def test_jpaas_pagination_behind_twenty_thousand_unclosed_divs() -> None:
    div = "<div id=\"page\" queryData=\"{'webId':'5','tagId':'1'}\" count=\"120\" rows=\"15\">"
    page = _page("<div class='" * 20_000 + div)
    query, count, rows = _timed(pagination, page)
    assert (query, count, rows) == ({"webId": "5", "tagId": "1"}, 120, 15)


def test_a_listing_of_twenty_thousand_links_reads_linearly_with_its_dates() -> None:
    """Each link asked its containers for their links: a list of 8,000 links took 116 s."""
    items = "".join(
        f'<li><a href="/r/{i}.html">{TITLE}</a><span>2024-01-{i % 28 + 1:02d}</span></li>'
        for i in range(20_000)
    )
    links = _timed(extract_links, _page(f"<ul>{items}</ul>"), "http://127.0.0.1/nb/")
    assert len(links) == 20_001
    assert (links[5].url, links[5].date) == ("http://127.0.0.1/r/4.html", "2024-01-05")
    assert links[0].date is None  # the first link's container holds all the others


def test_repeated_attachment_and_iframe_sources_are_read_once() -> None:
    page = _page("<a href='/f/a.pdf'>" * 40_000 + "<iframe src='/list.html'>" * 40_000)
    assert _timed(attachment_links, page, "http://127.0.0.1/r/1.html") == [
        "http://127.0.0.1/f/a.pdf"
    ]
    assert _timed(iframe_links, page, "http://127.0.0.1/r/1.html") == ["http://127.0.0.1/list.html"]


def test_unclosed_iframe_tags_read_in_linear_time() -> None:
    """``<iframe`` with no ``>``: the tag regex ran to the end of the page from each one
    (20,000 in 180 KB took 35 s)."""
    page = _page("<iframe x" * 40_000 + "<iframe src='/list.html'>")
    assert _timed(iframe_links, page, "http://127.0.0.1/nb/") == ["http://127.0.0.1/list.html"]


def test_deep_nesting_is_capped_before_parsing() -> None:
    """80,000 unclosed ``<div>``: lexbor scans its stack of open elements at each one
    (13 s for 40,000, growing with the square); capped, the parse is instant, and the
    text, the links and the tables are all there."""
    page = _page("<div>" * 80_000 + "<table><tr><td>12</td></tr></table>" + "</div>" * 10)
    capped, removed = _timed(cap_nesting, page)
    assert removed == (80_000 - 512) + 10  # the start tags past the cap, and their end tags
    tree = _timed(LexborHTMLParser, capped)
    assert tree.css_first("td").text() == "12"
    assert [a.attributes["href"] for a in tree.css("a")] == ["/r/1.html"]


def test_ordinary_pages_are_left_as_they_are() -> None:
    for name in ("042.html", "043.html", "044.html"):
        page = corpus(name)
        assert cap_nesting(page) == (page, 0)


def test_a_hostile_listing_does_not_hold_up_the_crawl(serve, tmp_path) -> None:
    """One portal's listing is a parser bomb (unclosed datastores and 80,000 nested divs);
    both portals are crawled and both reports fetched within the bound."""
    hostile, calm = serve(Site()), serve(Site())
    bomb = "<datastore>" * 40_000 + "<div>" * 80_000
    hostile.add("/nb/", _page(bomb))
    calm.add("/nb/", _page(""))
    for site in (hostile, calm):
        site.add("/r/1.html", article_page(TITLE, corpus("043.html")))
    portals = [portal(hostile, "/nb/", name="甲区"), portal(calm, "/nb/", name="乙区")]
    started = time.monotonic()
    result = crawl(portals, tmp_path, politeness_override=fast())
    assert time.monotonic() - started < 3 * BOUND_S
    assert [p.reports_new for p in result.portals] == [1, 1]
    assert all("/r/1.html" in site.paths() for site in (hostile, calm))


def test_a_listing_of_three_hundred_reports_is_fetched_over_several_runs(serve, tmp_path) -> None:
    """The 20,000-link listing in small: the portal's request budget (config
    ``max_requests``, 2,000 by default) cuts each run, the summary says so, and the next
    runs go on with the rest without asking any report twice."""
    site = serve(Site())
    paths = [f"/r/{i}.html" for i in range(300)]
    lis = "".join(f'<li><a href="{p}" title="{TITLE}">{TITLE}</a></li>' for p in paths)
    site.add("/nb/", _page(f"<ul>{lis}</ul>"))
    for path in paths:
        site.add(path, article_page(TITLE, "<p>正文</p>"))
    budget = fast(max_requests=120)
    results = [crawl([portal(site, "/nb/")], tmp_path, politeness_override=budget).portals[0]]
    assert not results[0].completed
    assert (
        results[0].reasons["request budget hit (120 requests): the rest is left for the next run"]
        == 1
    )
    while not results[-1].completed and len(results) < 5:
        results.append(
            crawl([portal(site, "/nb/")], tmp_path, politeness_override=budget).portals[0]
        )
    assert [r.completed for r in results] == [False, False, True]
    assert sum(r.reports_new for r in results) == 300
    asked = [p for p in site.paths() if p.startswith("/r/")]
    assert sorted(asked) == sorted(paths)  # each report once over the three runs


def test_other_portals_go_on_while_a_huge_listing_is_read(serve, tmp_path) -> None:
    """A listing of 20,000 links takes seconds to read; it is read off the event loop, so
    another portal's requests go out meanwhile instead of waiting for it."""
    huge, calm = serve(Site()), serve(Site())
    lis = "".join(f'<li><a href="/r/{i}.html">{TITLE}</a></li>' for i in range(20_000))
    huge.add("/nb/", _page(f"<ul>{lis}</ul>"))
    paths = [f"/r/{i}.html" for i in range(100)]
    calm.add("/nb/", _page("".join(f'<a href="{p}">{TITLE}</a>' for p in paths)))
    for path in paths:  # a slow server: one report every 0.05 s at the most
        calm.routes[path] = Reply(200, article_page(TITLE, "<p>正文</p>").encode(), delay=0.05)
    portals = [portal(huge, "/nb/", name="甲区"), portal(calm, "/nb/", name="乙区")]
    crawl(portals, tmp_path, politeness_override=fast(per_host=1, max_requests=30))
    listed = huge.hits("/nb/")[0].at
    first_report = min(h.at for h in huge.log if h.path.startswith("/r/"))
    during = [h for h in calm.log if listed < h.at < first_report]
    assert first_report - listed > 0.5  # the listing took a while to read ...
    # ... and the other portal's requests went on meanwhile: 13-18 of the ~30 its slow
    # server allows in that time (the reading thread still takes its share of the GIL);
    # 1 when the listing was read on the event loop
    assert len(during) >= 5
