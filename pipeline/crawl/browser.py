"""The opt-in browser tier: a listing page that is only scripts (a list built by
JavaScript, or a JS gate) read again through headless Chromium.

Only portals with ``browser = true`` use it (:class:`~pipeline.crawl.config.PortalConfig`).
Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright (never a browser build of
Playwright's own: ``playwright install`` is not needed), started lazily on the first page
that needs it, once per crawl, with a fresh temporary profile, and closed at the end.

The browser is held to the crawl's politeness: every request it makes goes through
``page.route``. A request to an origin that is not the portal's, or for an image, font,
style sheet or media, is aborted; any other waits for its turn at the host's slot of the
:class:`~pipeline.crawl.fetch.Fetcher` (the same per-host spacing, per-host and global
limits as every plain request) after the robots.txt check, and at most
:data:`MAX_REQUESTS_PER_PAGE` go out per page. The rendered DOM (``page.content()`` after
``load`` and, within the portal's ``timeout``, network idle) comes back as an HTML
:class:`~pipeline.crawl.fetch.Outcome`, read like any listing page. A missing Playwright or
Chromium, or a browser that does not start, is an answer (``blocked: js-gate (browser tier
unavailable: ...)``), never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from pipeline.crawl.config import Politeness
from pipeline.crawl.fetch import Fetcher, Outcome
from pipeline.crawl.listing import Request
from pipeline.logsafe import printable

log = logging.getLogger("pipeline.crawl.browser")

CHROMIUM = "/usr/bin/chromium"  # Debian's package: apt-get install chromium
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Pages one portal may render in one run: the tier is for an entry page or a few list
#: pages, not for walking a whole site in a browser.
MAX_BROWSER_PAGES = 20
#: Requests one rendered page may make to the portal (the page itself included).
MAX_REQUESTS_PER_PAGE = 20
#: Resource types never fetched: they do not change the DOM's links.
SKIPPED_TYPES = frozenset({"image", "media", "font", "stylesheet", "manifest", "texttrack"})


class BrowserTier:
    """Headless Chromium for one crawl, sharing the crawl's :class:`Fetcher` politeness."""

    def __init__(self, fetcher: Fetcher, executable: str = CHROMIUM) -> None:
        self.fetcher = fetcher
        self.executable = executable
        self.unavailable: str | None = None  # why the browser cannot be used, once known
        self.pages = 0  # pages rendered in this crawl
        self._lock = asyncio.Lock()
        self._playwright: Any = None
        self._context: Any = None
        self._profile: str | None = None

    # ---------------------------------------------------------------- life cycle

    async def _start(self) -> Any:
        """The browser context, started on first use; None (and ``unavailable`` set) when
        Playwright or Chromium is missing or does not start."""
        async with self._lock:
            if self._context is not None or self.unavailable is not None:
                return self._context
            try:
                from playwright.async_api import async_playwright
            except ImportError:
                self.unavailable = "Playwright is not installed (pip install playwright)"
                return None
            if not os.access(self.executable, os.X_OK):
                self.unavailable = f"no Chromium at {self.executable} (apt-get install chromium)"
                return None
            self._profile = tempfile.mkdtemp(prefix="ogi-chromium-")
            try:
                self._playwright = await async_playwright().start()
                self._context = await self._playwright.chromium.launch_persistent_context(
                    self._profile,
                    executable_path=self.executable,
                    headless=True,
                    args=list(CHROMIUM_ARGS),
                    user_agent=self.fetcher.politeness.user_agent,
                    locale="zh-CN",
                    service_workers="block",
                    accept_downloads=False,
                )
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                self.unavailable = f"Chromium did not start: {printable(first)[:160]}"
                log.warning("event=browser_unavailable reason=%s", self.unavailable)
                await self._stop()
                return None
            log.info("event=browser_started executable=%s", self.executable)
            return self._context

    async def _stop(self) -> None:
        context, playwright, profile = self._context, self._playwright, self._profile
        self._context = self._playwright = self._profile = None
        if context is not None:
            with suppress(Exception):
                await context.close()
        if playwright is not None:
            with suppress(Exception):
                await playwright.stop()
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)

    async def close(self) -> None:
        """Close the browser (if it was started) and remove its profile."""
        async with self._lock:
            await self._stop()

    # ---------------------------------------------------------------- fetch

    async def fetch(
        self, request: Request, politeness: Politeness, *, allowed: Callable[[str], bool]
    ) -> Outcome:
        """Render ``request`` (a GET) and return its DOM as an HTML answer; never raises."""
        outcome = Outcome(request=request, status="blocked", url=request.url, attempts=1)
        if request.method != "GET" or request.data:
            outcome.reason = "js-gate (the browser tier renders GET pages only)"
            return outcome
        context = await self._start()
        if context is None:
            outcome.reason = f"js-gate (browser tier unavailable: {self.unavailable})"
            return outcome
        self.pages += 1
        refused: dict[str, str] = {}  # why the page itself was not requested
        page = None
        try:
            page = await context.new_page()

            async def route(route: Any) -> None:
                await self._route(route, politeness, allowed, outcome, refused, request.url)

            await page.route("**/*", route)
            deadline = asyncio.get_running_loop().time() + politeness.timeout
            try:
                response = await page.goto(
                    request.url,
                    wait_until="load",
                    referer=request.referer,
                    timeout=politeness.timeout * 1000,
                )
            except Exception as exc:
                return _refused(outcome, refused) or _failed(outcome, exc)
            left = deadline - asyncio.get_running_loop().time()
            if left > 0:
                with suppress(Exception):  # a page that keeps polling is read as it is
                    await page.wait_for_load_state("networkidle", timeout=left * 1000)
            html = await page.content()
            outcome.url = page.url
        except Exception as exc:
            return _failed(outcome, exc)
        finally:
            if page is not None:
                with suppress(Exception):
                    await page.unroute_all(behavior="ignoreErrors")
                with suppress(Exception):
                    await page.close()
        body = html.encode("utf-8")
        if len(body) > politeness.max_bytes:
            outcome.status, outcome.reason = "failed", f"too-large: rendered DOM {len(body)} bytes"
            return outcome
        outcome.http_status = response.status if response is not None else 200
        # no validators: the next run renders again (the script's data may change)
        outcome.headers = {"content-type": "text/html; charset=utf-8"}
        outcome.body = body
        judged = Fetcher._judge(outcome)
        log.info(
            "event=browser_page url=%s status=%s requests=%s bytes=%s",
            printable(outcome.url),
            judged.status,
            outcome.requests,
            len(body),
        )
        return judged

    async def _route(
        self,
        route: Any,
        politeness: Politeness,
        allowed: Callable[[str], bool],
        outcome: Outcome,
        refused: dict[str, str],
        page_url: str,
    ) -> None:
        """Every request of the page: off the portal's origins, or not needed for the DOM,
        aborted; the others sent in their turn at the host, after robots.txt."""
        req = route.request
        url = req.url
        try:
            document = req.is_navigation_request() and req.frame.parent_frame is None
            if not url.startswith(("http://", "https://")) or not allowed(url):
                if document:
                    refused[url] = "offsite"
                log.debug("event=browser_abort url=%s why=offsite", printable(url))
                await route.abort("blockedbyclient")
                return
            if req.resource_type in SKIPPED_TYPES or outcome.requests >= MAX_REQUESTS_PER_PAGE:
                await route.abort("blockedbyclient")
                return
            refusal, crawl_delay, made = await self.fetcher.robots_verdict(url, politeness)
            outcome.requests += made
            if refusal is not None:
                if document:
                    refused[url] = refusal
                await route.abort("blockedbyclient")
                return
            async with self.fetcher.slot(politeness, url, crawl_delay) as turn:
                outcome.requests += 1
                await route.continue_()
                # Chromium sends the request some time after continue_() returns: the turn
                # is held until its answer begins, so the next request to the host goes
                # ``delay`` after the server had this one, never sooner
                with suppress(Exception):
                    await asyncio.wait_for(req.response(), politeness.timeout)
                turn.answered()
        except Exception as exc:  # the page closed meanwhile, a deferred host ...
            log.debug("event=browser_route url=%s error=%s", printable(url), exc)
            with suppress(Exception):
                await route.abort("blockedbyclient")


def _refused(outcome: Outcome, refused: dict[str, str]) -> Outcome | None:
    """The page itself was not requested: robots.txt, a deferred host, off the origins."""
    if not refused:
        return None
    why = next(iter(refused.values()))
    if why == "disallowed":
        outcome.status, outcome.reason = "disallowed", "robots.txt"
    elif why == "offsite":
        outcome.status, outcome.reason = "offsite", "off the portal's origins"
    else:
        outcome.status, outcome.reason = "deferred", why
    return outcome


def _failed(outcome: Outcome, exc: Exception) -> Outcome:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    timeout = type(exc).__name__ == "TimeoutError"
    outcome.status = "failed"
    outcome.reason = "browser: timeout" if timeout else f"browser: {printable(first)[:120]}"
    outcome.body = b""
    return outcome
