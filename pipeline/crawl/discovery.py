"""Discovery: how a portal's 年报 entries are found and its listing pages walked.

Remembered entries first, then the start URLs and the columns, hubs and year sub-columns
their pages lead to, then slug probes; each listing page is read (fetched, rendered or
from the archive), its report links queued and its next page followed."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import datetime

from pipeline.crawl.blocks import is_js_shell, is_site_root, is_soft_404
from pipeline.crawl.browser import MAX_BROWSER_PAGES
from pipeline.crawl.families import slugs
from pipeline.crawl.fetch import Outcome
from pipeline.crawl.links import (
    Link,
    column_links,
    hub_links,
    iframe_links,
    page_redirect,
    report_links,
    year_links,
)
from pipeline.crawl.listing import Cursor, Entry, Listing, Request, parse_listing
from pipeline.crawl.portal_run import EntryInfo, Job, PortalRun, body_change, decode_html
from pipeline.crawl.state import UrlRow, now

log = logging.getLogger("pipeline.crawl")

_PAGER_TEXT = re.compile(
    r"^\s*(\d+|下一页|上一页|下页|上页|首页|尾页|末页|next|prev|[<>›‹«»]+)?\s*$", re.IGNORECASE
)

#: Listing pages deeper than this (start URL = 0) are not searched for more entries:
#: root -> 信息公开 hub -> catalogue tree -> 年报 list is the longest path the families need.
MAX_DISCOVERY_DEPTH = 2
#: Year sub-columns inside year sub-columns ... stop here.
MAX_DEPTH = 5
#: Days after which a portal is searched again even though its remembered 年报 entries
#: still work: a department may have opened its own 年报 list since.
REDISCOVER_DAYS = 30


class Discovery(PortalRun):
    """The listing side of a portal's run."""

    async def _phases(self, resumed: bool) -> None:
        """Remembered 年报 entries first; discovery from the start URLs when there are none
        or one of them moved (404, or no report links any more); slug probes last."""
        # a resumed run replays from the start: what it finished costs no request
        recipes = [] if resumed else self.state.recipes(self.portal.name)
        if recipes:
            for recipe in recipes:
                cursor = Cursor.from_json(recipe.cursor)
                self.entries[recipe.entry] = EntryInfo(cursor, recipe.how, remembered=True)
                # a start URL keeps depth 0: the scheme that answered last time is tried first
                depth = 0 if cursor.request.url in self.portal.start_urls else 1
                self._enqueue(
                    Job(
                        "listing",
                        cursor.request,
                        cursor,
                        depth=depth,
                        entry=recipe.entry,
                        column=True,
                        how=recipe.how,
                    )
                )
            await self.queue.join()
            moved = [r for r in recipes if not self.entries[r.entry].reports]
            due = _older_than(max(r.found_at for r in recipes), REDISCOVER_DAYS)
            if (not moved and not due) or self.budget_hit:
                return
            for recipe in moved:
                log.info(
                    "event=entry_moved portal=%s entry=%s how=%s",
                    self.portal.name,
                    recipe.entry,
                    recipe.how,
                )
                self.summary.reasons["年报 entry moved: rediscovered"] += 1
                self.seen.discard(recipe.entry)  # a start URL is asked again in discovery
        for url in self.portal.start_urls:
            request = Request(url)
            info = self.entries.setdefault(
                request.key, EntryInfo(Cursor(request, self.portal.family), "start-url")
            )
            info.rediscovered = info.remembered
            self._enqueue(
                Job("listing", request, Cursor(request, self.portal.family), entry=request.key)
            )
        await self.queue.join()
        if self.report_urls or self.budget_hit or not self.visited:
            return  # found, out of budget, or nothing readable (down, gated): no guessing
        # nothing found by families or link text: the folders where sibling portals of the
        # prefecture keep theirs, then the usual slug folders
        bases = [*self.portal.start_urls, *self.visited[:2]]
        siblings = self.state.sibling_recipes(self.portal.name, self.portal.region_code)
        sibling = slugs.sibling_entries([r.cursor for r in siblings], bases[0])
        for probe in [*sibling, *slugs.probe_entries(bases)]:
            self._discover(probe, depth=0, referer=None)
        await self.queue.join()

    def _conclude(self) -> None:
        """Remember the entries that listed reports; forget remembered ones that did not."""
        summary = self.summary
        summary.reports_listed = len(self.report_urls)
        found = [(k, e) for k, e in self.entries.items() if e.reports]
        for key, info in found:
            summary.entries.append(info.cursor.request.url)
            self.state.remember(
                self.portal.name,
                key,
                family=info.family,
                how=info.how,
                cursor=info.cursor.to_json(),
                reports=len(info.reports),
                region_code=self.portal.region_code,
                discovered=info.rediscovered or not info.remembered,
            )
        if found:
            first = found[0][1]
            summary.family = first.family
            summary.how = "remembered" if first.remembered else first.how
        elif self.sniffed:
            summary.family = self.sniffed.most_common(1)[0][0]
        if self.budget_hit:
            return  # an incomplete run cannot tell a moved entry from an unvisited one
        for key, info in self.entries.items():
            if info.remembered and not info.reports:
                self.state.forget(self.portal.name, key)

    # ------------------------------------------------------------------ listings

    async def _listing(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        html = await asyncio.to_thread(decode_html, outcome.body, outcome.content_type)
        if is_soft_404(outcome.http_status or 0, html) or (
            (job.depth > 0 or job.probe)
            and is_site_root(outcome.url)
            and not is_site_root(job.request.url)
        ):
            outcome.status, outcome.reason = "not_found", "soft 404 / redirect to the home page"
            self._record_failure(job, outcome)
            return
        if (
            not job.request.ajax
            and is_js_shell(html)
            and not self._readable(job, html, outcome.url)
        ):
            # a list built by JavaScript, or a JS gate: plain HTTP reads nothing here
            rendered = await self._render(job, outcome)
            if rendered is None:
                return
            outcome, html = rendered
        sha = await self.sink.keep(self._fetched(job, outcome, fetched_at))
        change = body_change(previous, sha)
        self._record(
            job,
            outcome,
            status="ok",
            change=change,
            sha=sha,
            fetched_at=fetched_at,
            previous=previous,
        )
        self.summary.listing_pages += 1
        log.info(
            "event=listing portal=%s url=%s status=%s change=%s",
            self.portal.name,
            outcome.url,
            outcome.http_status,
            change,
        )
        await self._follow_listing(job, html, outcome.url)

    async def _render(self, job: Job, outcome: Outcome) -> tuple[Outcome, str] | None:
        """A listing page that is only scripts, rendered by the browser tier when the
        portal asks for it (``browser = true``); None when it stays unread (recorded)."""
        if not self.portal.browser or self.browser is None:
            reason = "js-gate (no browser tier: set browser = true)"
        elif self.rendered >= MAX_BROWSER_PAGES:
            reason = f"js-gate (browser page cap {MAX_BROWSER_PAGES} hit)"
        else:
            self.rendered += 1
            self.fetches += 1  # one more page against --max-pages, whatever it loads
            request = replace(job.request, url=outcome.url)
            result = await self.browser.fetch(request, self.politeness, allowed=self.portal.allows)
            self.summary.requests += result.requests
            if result.status != "ok":
                if result.status != "blocked":  # failed, disallowed, deferred: as any fetch
                    self._record_failure(job, result)
                    return None
                reason = result.reason or "js-gate (browser)"
            else:
                html = decode_html(result.body, result.content_type)
                if not is_js_shell(html) or self._readable(job, html, result.url):
                    self.summary.reasons["note: listing pages rendered by the browser"] += 1
                    return result, html
                reason = "js-gate (scripts only, also in the browser)"
        outcome.status, outcome.reason = "blocked", reason
        self._record_failure(job, outcome)
        return None

    def _readable(self, job: Job, html: str, page_url: str) -> bool:
        """Whether a script-only page still gives something: a redirect, or what a family
        reads in its scripts (gkmlpt's ``window._CONFIG``)."""
        if page_redirect(html, page_url):
            return True
        cursor = job.cursor or Cursor(job.request, self.portal.family)
        listing = parse_listing(
            html, replace(cursor, request=replace(cursor.request, url=page_url))
        )
        return bool(listing.links or listing.entries or listing.next)

    async def _listing_from_archive(
        self, job: Job, sha: str, content_type: str | None, page_url: str
    ) -> None:
        body = await asyncio.to_thread(self.sink.kept, sha)
        if body is None:
            log.warning("event=archive_missing url=%s sha256=%s", job.request.url, sha)
            return
        html = await asyncio.to_thread(decode_html, body, content_type)
        await self._follow_listing(job, html, page_url)

    async def _follow_listing(self, job: Job, html: str, page_url: str) -> None:
        cursor = job.cursor or Cursor(job.request, self.portal.family)
        if page_url != cursor.request.url and cursor.request.method == "GET":
            cursor = replace(cursor, request=replace(cursor.request, url=page_url))
        # off the event loop: a large listing takes a while to read, and other portals'
        # requests must go out meanwhile
        listing = await asyncio.to_thread(parse_listing, html, cursor)
        if listing.family != "static":
            self.sniffed[listing.family] += 1
        if len(self.visited) < 10 and not job.request.ajax:
            self.visited.append(page_url)
        reports = [
            r for r in report_links(listing.links, self.pattern) if self.portal.allows(r.url)
        ]
        new = 0
        nxt_url = listing.next.request.url if listing.next else None
        for link in listing.links:
            if link.url == nxt_url or _PAGER_TEXT.match(link.title):
                continue
            if link.url not in self.listed:
                self.listed.add(link.url)
                new += 1
        self._count_reports(job, listing, reports)
        for link in reports:
            if self.list_only:
                continue
            self._enqueue(
                Job(
                    "report", Request(link.url, referer=page_url), link=link, parent=job.request.key
                )
            )
        self._follow_entries(job, listing, html, page_url, bool(reports))
        if listing.capped:
            self.summary.capped += 1
            self.summary.reasons[listing.capped] += 1
            log.warning(
                "event=pagination_cap portal=%s url=%s reason=%s",
                self.portal.name,
                page_url,
                listing.capped,
            )
        if listing.next is None:
            return
        nxt = listing.next
        retry = nxt.page == cursor.page  # the same page asked another way (JPAAS tagId)
        if job.cursor is not None and job.cursor.page > 0 and new == 0 and not retry:
            log.info(
                "event=pagination_stop portal=%s url=%s reason=no-new-links",
                self.portal.name,
                page_url,
            )
            return
        if self.portal.allows(nxt.request.url):
            self._enqueue(
                Job(
                    "listing",
                    nxt.request,
                    nxt,
                    depth=job.depth,
                    entry=job.entry,
                    column=job.column,
                    how=job.how,
                )
            )

    def _count_reports(self, job: Job, listing: Listing, reports: list[Link]) -> None:
        if not reports:
            return
        self.report_urls.update(r.url for r in reports)
        info = self.entries.get(job.entry or "")
        if info is not None:
            info.reports.update(r.url for r in reports)
            info.families[listing.family] += len(reports)

    def _follow_entries(
        self, job: Job, listing: Listing, html: str, page_url: str, has_reports: bool
    ) -> None:
        """Everything a listing page points to besides its next page: the continuations of
        its own list (a JSON search, year sub-columns, an iframe holding the list) and, on a
        page without reports, the 年报 columns and hubs it leads to."""
        child = job.depth + 1
        for entry in listing.entries:
            if entry.how == "ucap-search" and child <= MAX_DEPTH:
                self._continue(job, entry.cursor, entry.how)  # the column's own list
        years = year_links(listing.links)
        # a start URL may be the 年报 column itself: two or more bare-year links say so
        if job.column or has_reports or (job.depth == 0 and len(years) >= 2):
            for link in years:
                if child <= MAX_DEPTH and self.portal.allows(link.url) and link.url != page_url:
                    cursor = Cursor(Request(link.url, referer=page_url), self.portal.family)
                    self._continue(job, cursor, "year-subcolumn")
        if has_reports or job.depth > MAX_DISCOVERY_DEPTH or job.request.ajax:
            return
        for entry in listing.entries:
            if entry.how != "ucap-search":
                self._discover(entry, job.depth + 1, page_url)
        # discovery by text: a 政府信息公开 page links to the 年报 column
        targets = column_links(listing.links) if job.depth <= 1 else []
        for link in targets:
            if self.portal.allows(link.url) and link.url != page_url:
                self.state.verify_root(self.portal.name, link.url, "link-text")
                cursor = Cursor(Request(link.url), self.portal.family)
                self._discover(Entry(cursor, "link-text"), job.depth + 1, page_url)
        if job.depth == 0 and not targets:
            for link in hub_links(listing.links):
                if self.portal.allows(link.url) and link.url != page_url:
                    cursor = Cursor(Request(link.url), self.portal.family)
                    self._discover(Entry(cursor, "hub-link", column=False), 1, page_url)
        if targets or listing.entries:
            return
        # a shell whose list is in a same-portal iframe, or a page that moves by script
        frames = iframe_links(html, page_url)
        redirect = page_redirect(html, page_url) if not listing.links else None
        for url in [*frames, *([redirect] if redirect else [])]:
            if self.portal.allows(url):
                cursor = Cursor(Request(url, referer=page_url), self.portal.family)
                self._continue(job, cursor, "iframe" if url in frames else "redirect")

    def _continue(self, job: Job, cursor: Cursor, how: str) -> None:
        """A listing that belongs to the same 年报 entry as ``job``."""
        self._enqueue(
            Job(
                "listing",
                cursor.request,
                cursor,
                depth=job.depth + 1,
                entry=job.entry,
                column=job.column or how == "year-subcolumn",
                how=job.how,
            )
        )

    def _discover(self, entry: Entry, depth: int, referer: str | None) -> None:
        """A listing found by discovery: a 年报 entry of its own."""
        request = entry.cursor.request
        if not self.portal.allows(request.url):
            return
        if request.key in self.seen:
            if request.key in self.entries:  # a remembered entry met again by discovery
                self.entries[request.key].rediscovered = True
            return
        if referer and request.referer is None:
            request = replace(request, referer=referer)
        cursor = replace(entry.cursor, request=request)
        self.entries.setdefault(request.key, EntryInfo(cursor, entry.how)).rediscovered = True
        if entry.column and entry.how != "link-text":
            self.state.verify_root(self.portal.name, request.url, entry.how)
        self._enqueue(
            Job(
                "listing",
                request,
                cursor,
                depth=depth,
                entry=request.key,
                column=entry.column,
                probe=entry.probe,
                how=entry.how,
            )
        )


def _older_than(stamp: str, days: int) -> bool:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    return (now() - when).days >= days
