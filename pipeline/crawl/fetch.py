"""Polite HTTP fetching: one async httpx client, per-host gates, robots.txt, retries.

* Per host: at most ``per_host`` requests in flight and ``delay`` seconds (with jitter, and
  at least the robots.txt Crawl-delay) between request starts; globally ``concurrency``.
* Retries (tenacity): exponential backoff with jitter on timeouts, connection errors, 5xx
  and 429 (``Retry-After`` honoured, capped). No retry on other 4xx nor on anti-bot
  challenges, which come back as ``blocked`` with the reason.
* Redirects are followed by hand so that every hop is checked against the portal's hosts
  and robots.txt; a body larger than ``max_bytes`` is refused while streaming.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from pipeline.crawl.blocks import classify_block
from pipeline.crawl.config import Politeness
from pipeline.crawl.listing import Request

log = logging.getLogger("pipeline.crawl.fetch")

try:  # httpcore asks for sniffio on every request; a failed import costs a sys.path scan
    import sniffio  # noqa: F401
except ImportError:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


@dataclass(slots=True)
class Outcome:
    """What one logical fetch (retries and redirects included) came to."""

    request: Request
    status: str  # ok | not_modified | blocked | disallowed | failed | not_found | offsite
    url: str  # final URL after redirects
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reason: str | None = None
    attempts: int = 0
    requests: int = 0  # HTTP requests made, robots.txt included

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _TooLarge(Exception):
    pass


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TimeoutException | httpx.TransportError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Retryable):
        return exc.reason
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return f"connect-error: {exc}".strip()
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: {exc}".strip()
    return f"{type(exc).__name__}: {exc}"


class HostGate:
    """Per-host concurrency and minimum spacing between request starts."""

    def __init__(self, per_host: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    async def enter(self, delay: float) -> None:
        await self.semaphore.acquire()
        async with self.lock:
            now = time.monotonic()
            wait = self.next_start - now
            spacing = delay * random.uniform(0.8, 1.2) if delay > 0 else 0.0
            self.next_start = max(now, self.next_start) + spacing
        if wait > 0:
            await asyncio.sleep(wait)

    def leave(self) -> None:
        self.semaphore.release()


class Fetcher:
    def __init__(self, politeness: Politeness) -> None:
        self.politeness = politeness
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            headers={
                "User-Agent": politeness.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
            },
            timeout=httpx.Timeout(politeness.timeout),
            limits=httpx.Limits(max_connections=max(politeness.concurrency, 1) * 2),
            verify=True,
            trust_env=False,
        )
        self.global_gate = asyncio.Semaphore(politeness.concurrency)
        self.gates: dict[str, HostGate] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self.client.aclose()

    # ---------------------------------------------------------------- politeness

    def _gate(self, host: str, per_host: int) -> HostGate:
        gate = self.gates.get(host)
        if gate is None:
            gate = self.gates[host] = HostGate(per_host)
        return gate

    async def _send(
        self,
        politeness: Politeness,
        method: str,
        url: str,
        headers: dict[str, str],
        data: tuple[tuple[str, str], ...] = (),
        crawl_delay: float = 0.0,
    ) -> tuple[int, dict[str, str], bytes]:
        host = urlsplit(url).netloc
        gate = self._gate(host, politeness.per_host)
        delay = max(politeness.delay, crawl_delay) if politeness.delay > 0 else 0.0
        await gate.enter(delay)
        try:
            async with self.global_gate:
                async with asyncio.timeout(politeness.timeout):
                    return await self._stream(politeness, method, url, headers, data)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no complete answer within {politeness.timeout}s") from None
        finally:
            gate.leave()

    async def _stream(
        self,
        politeness: Politeness,
        method: str,
        url: str,
        headers: dict[str, str],
        data: tuple[tuple[str, str], ...],
    ) -> tuple[int, dict[str, str], bytes]:
        # the portal's own timeout and User-Agent, not the client's defaults
        headers = {**headers, "User-Agent": politeness.user_agent}
        kwargs: dict[str, object] = {"headers": headers, "timeout": politeness.timeout}
        if data:
            kwargs["data"] = dict(data)
        async with self.client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > politeness.max_bytes:
                raise _TooLarge(f"too-large: Content-Length {declared} > {politeness.max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > politeness.max_bytes:
                    raise _TooLarge(f"too-large: body over {politeness.max_bytes} bytes")
                chunks.append(chunk)
            out_headers = {k.lower(): v for k, v in response.headers.multi_items()}
            if "set-cookie" in response.headers:
                out_headers["set-cookie"] = "; ".join(response.headers.get_list("set-cookie"))
            return response.status_code, out_headers, b"".join(chunks)

    # ---------------------------------------------------------------- robots

    async def _robots(self, url: str, politeness: Politeness) -> tuple[Protego | None, int]:
        """The parsed robots.txt of ``url``'s origin (None = everything allowed)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self.robots:
            return self.robots[origin], 0
        lock = self.robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin in self.robots:
                return self.robots[origin], 0
            parser: Protego | None = None
            made = 0
            try:
                made = 1
                status, _headers, body = await self._send(
                    politeness, "GET", f"{origin}/robots.txt", {}
                )
                if status == 200 and body:
                    parser = Protego.parse(body.decode("utf-8", errors="replace"))
                log.debug("robots.txt %s: HTTP %s", origin, status)
            except Exception as exc:  # unreachable robots.txt: treat as no rules
                log.info("robots.txt %s unavailable (%s): no rules applied", origin, _reason(exc))
            self.robots[origin] = parser
            return parser, made

    # ---------------------------------------------------------------- fetch

    async def fetch(
        self,
        request: Request,
        politeness: Politeness,
        *,
        allowed: Callable[[str], bool],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Outcome:
        """Fetch ``request`` following redirects on allowed hosts; never raises."""
        outcome = Outcome(request=request, status="failed", url=request.url)
        method, url, data = request.method, request.url, request.data
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                outcome.url = url
                if not allowed(url):
                    outcome.status, outcome.reason = "offsite", f"off the portal's hosts: {url}"
                    return outcome
                crawl_delay = 0.0
                if politeness.robots:
                    robots, made = await self._robots(url, politeness)
                    outcome.requests += made
                    if robots is not None:
                        if not robots.can_fetch(url, politeness.user_agent):
                            outcome.status, outcome.reason = "disallowed", "robots.txt"
                            return outcome
                        crawl_delay = float(robots.crawl_delay(politeness.user_agent) or 0.0)
                headers: dict[str, str] = {}
                if request.referer:
                    headers["Referer"] = request.referer
                if request.ajax:
                    headers["X-Requested-With"] = "XMLHttpRequest"
                if method == "GET" and url == request.url:
                    if etag:
                        headers["If-None-Match"] = etag
                    if last_modified:
                        headers["If-Modified-Since"] = last_modified
                status, resp_headers, body = await self._attempts(
                    politeness, method, url, headers, data, crawl_delay, outcome
                )
                outcome.http_status, outcome.headers, outcome.body = status, resp_headers, body
                if status in REDIRECTS and "location" in resp_headers:
                    url = urljoin(url, resp_headers["location"].strip())
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, data = "GET", ()
                    continue
                return self._judge(outcome)
            outcome.status, outcome.reason = "failed", "too many redirects"
            return outcome
        except _TooLarge as exc:
            outcome.status, outcome.reason, outcome.body = "failed", str(exc), b""
            return outcome
        except Exception as exc:
            outcome.status, outcome.reason, outcome.body = "failed", _reason(exc), b""
            return outcome

    async def _attempts(
        self,
        politeness: Politeness,
        method: str,
        url: str,
        headers: dict[str, str],
        data: tuple[tuple[str, str], ...],
        crawl_delay: float,
        outcome: Outcome,
    ) -> tuple[int, dict[str, str], bytes]:
        backoff = wait_exponential_jitter(
            multiplier=politeness.backoff, max=politeness.backoff_max, jitter=politeness.backoff
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                return min(exc.retry_after, politeness.max_retry_after)
            return float(backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(max(politeness.retries, 1)),
            wait=wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                outcome.attempts += 1
                outcome.requests += 1
                status, resp_headers, body = await self._send(
                    politeness, method, url, headers, data, crawl_delay
                )
                transient = status == 429 or (status >= 500 and status != 521)
                if transient and classify_block(status, resp_headers, body) is None:
                    log.info("HTTP %s on %s, attempt %s", status, url, outcome.attempts)
                    raise _Retryable(
                        f"HTTP {status}", retry_after_seconds(resp_headers.get("retry-after"))
                    )
        return status, resp_headers, body

    @staticmethod
    def _judge(outcome: Outcome) -> Outcome:
        status = outcome.http_status or 0
        block = classify_block(status, outcome.headers, outcome.body)
        if block:
            outcome.status, outcome.reason = "blocked", block
        elif status == 304:
            outcome.status = "not_modified"
        elif 200 <= status < 300:
            outcome.status = "ok"
        elif status in (404, 410):
            outcome.status, outcome.reason = "not_found", f"HTTP {status}"
        else:
            outcome.status, outcome.reason = "failed", f"HTTP {status}"
        if outcome.status != "ok":
            outcome.body = b""
        return outcome
