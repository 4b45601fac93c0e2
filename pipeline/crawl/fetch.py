"""Polite HTTP fetching: one async httpx client, per-host gates, robots.txt, retries.

* Per host: at most ``per_host`` requests in flight, and a request goes no earlier than
  ``delay`` seconds (jittered upwards, at least the robots.txt Crawl-delay) after the
  previous one to the host was sent; globally ``concurrency``.
* Retries (tenacity): exponential backoff with jitter on timeouts, connection errors, 5xx
  and 429 (``Retry-After`` honoured for the whole host). No retry on other 4xx nor on
  anti-bot challenges, which come back as ``blocked`` with the reason.
* A host whose Retry-After or Crawl-delay asks for more than ``max_retry_after`` /
  ``max_crawl_delay`` is not waited for: it is deferred to the next run, and every fetch
  from it in this run comes back ``deferred`` without a request.
* Each attempt has a total deadline of ``timeout`` seconds (connect, headers and body),
  so a server trickling one byte a second ends like a silent one.
* Redirects are followed by hand so that every hop is checked against the portal's origins
  and robots.txt; a body that is, or decodes to, more than ``max_bytes`` is refused while
  streaming (:mod:`pipeline.httpbody`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
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
from pipeline.crawl.config import LIMITS, Politeness
from pipeline.crawl.listing import Request
from pipeline.httpbody import ACCEPT_ENCODING, BodyTooLarge, UndecodableBody, read_body
from pipeline.logsafe import printable

log = logging.getLogger("pipeline.crawl.fetch")

try:  # httpcore asks for sniffio on every request; a failed import costs a sys.path scan
    import sniffio  # noqa: F401
except ImportError:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
#: Keep-alive connections kept open at most, across hosts (each host keeps ``per_host``).
MAX_KEPT_CONNECTIONS = 512
#: Seconds an idle keep-alive connection is kept: longer than the usual delay, shorter
#: than Apache's 5 s keep-alive timeout, so that we close it before the server does.
KEEPALIVE_SECONDS = 4.0


@dataclass(slots=True)
class Outcome:
    """What one logical fetch (retries and redirects included) came to."""

    request: Request
    # ok | not_modified | blocked | disallowed | failed | not_found | offsite | deferred
    status: str
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


#: Tries for a host's robots.txt before the host is left for the next run.
ROBOTS_ATTEMPTS = 2


class _Deferred(Exception):
    """The host asked to be left alone longer than we wait: try it next run."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def host_key(url: str) -> str:
    """Politeness is per host and port (an origin without its scheme)."""
    return urlsplit(url).netloc.lower()


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
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
    """Per-host concurrency, and spacing measured from when requests really went out.

    ``ready_at`` is the earliest time the next request to the host may be sent. A request
    holds ``lock`` from its turn until its bytes are on the wire; see :class:`_Turn`.
    """

    def __init__(self, per_host: int) -> None:
        self.semaphore = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.ready_at = 0.0  # time.monotonic()

    def hold_off(self, until: float) -> None:
        self.ready_at = max(self.ready_at, until)


class _Turn:
    """One request's turn at a host gate.

    The next request may go ``spacing`` after this one was sent (:meth:`sent`, from
    httpcore's trace hook) and, once the response starts, ``spacing`` after that too
    (:meth:`answered`): the server has read the request by then, so it never sees two
    requests closer than ``delay``, whatever the network did to either.
    """

    def __init__(self, gate: HostGate, delay: float) -> None:
        self.gate = gate
        # jitter only lengthens the spacing: never less than ``delay``
        self.spacing = delay * random.uniform(1.0, 1.2) if delay > 0 else 0.0
        self.holding = False

    async def begin(self) -> None:
        await self.gate.lock.acquire()
        self.holding = True
        wait = self.gate.ready_at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def sent(self) -> None:
        """On the wire (or failed before it): the next request may take its turn."""
        if self.holding:
            self.holding = False
            self.gate.hold_off(time.monotonic() + self.spacing)
            self.gate.lock.release()

    def answered(self) -> None:
        self.sent()
        self.gate.hold_off(time.monotonic() + self.spacing)

    async def trace(self, event: str, _info: dict[str, object]) -> None:
        if event.endswith("send_request_body.complete"):
            self.sent()


class HostPools(httpx.AsyncBaseTransport):
    """A small connection pool per host (scheme, host, port): ``per_host`` keep-alive
    connections each, so a host's next request reuses its connection however many hosts
    the crawl visits, and no request scans a pool of every host's connections.

    At most :data:`MAX_KEPT_CONNECTIONS` connections stay open: past that, the pools used
    least recently that have no request in flight are closed (their hosts reconnect).
    """

    def __init__(self, per_host: int, context: ssl.SSLContext) -> None:
        self.per_host = max(1, per_host)
        self.context = context
        self.max_pools = max(1, MAX_KEPT_CONNECTIONS // self.per_host)
        self.pools: OrderedDict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = (
            OrderedDict()
        )
        self.busy: dict[tuple[bytes, bytes, int | None], int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self.pools.get(key)
        if pool is None:
            await self._evict()
            limits = httpx.Limits(
                # the host gate holds a host to its portal's per_host (which may be more
                # than the crawl's default): the pool does not queue behind it
                max_connections=int(LIMITS["per_host"]),
                max_keepalive_connections=self.per_host,
                keepalive_expiry=KEEPALIVE_SECONDS,
            )
            pool = self.pools[key] = httpx.AsyncHTTPTransport(
                verify=self.context, limits=limits, trust_env=False
            )
        self.pools.move_to_end(key)
        self.busy[key] = self.busy.get(key, 0) + 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._done(key)
            raise
        response.stream = _Tracked(response.stream, lambda: self._done(key))  # type: ignore[arg-type]
        return response

    def _done(self, key: tuple[bytes, bytes, int | None]) -> None:
        self.busy[key] -= 1
        if not self.busy[key]:
            del self.busy[key]

    async def _evict(self) -> None:
        if len(self.pools) < self.max_pools:
            return
        idle = [k for k in self.pools if k not in self.busy]  # least recently used first
        for key in idle[: len(self.pools) - self.max_pools + 1]:
            await self.pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _Tracked(httpx.AsyncByteStream):
    """A response body that says when it is closed (its request is then done)."""

    def __init__(self, stream: httpx.AsyncByteStream, done: Callable[[], None]) -> None:
        self.stream = stream
        self.done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            done, self.done = self.done, None
            if done is not None:  # once, however often the stream is closed
                done()


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, which reads an answer's cookies only when it sets some: wrapping
    every answer for ``http.cookiejar`` took 0.17 ms of each request (3% of a crawl's
    event loop), and most answers set none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def quiet_cookie_jar(client: httpx.AsyncClient) -> bool:
    """Give ``client`` a :class:`_Cookies` jar; True when it took.

    httpx has no public way to: ``AsyncClient(cookies=...)`` and the ``cookies`` setter copy a
    ``Cookies`` into a plain one, a ``CookieJar`` passed instead is reached only after the
    answer is wrapped (half the cost), and event hooks run after the jar has read the answer.
    So the jar goes where httpx 0.28 keeps it (``_cookies``, what ``client.cookies``
    returns), and only when it is there: on any other layout the client keeps httpx's own
    jar, and cookies work as before, only slower."""
    jar = _Cookies()
    if getattr(client, "_cookies", None) is not client.cookies:
        return False
    try:
        client._cookies = jar
    except AttributeError:  # a slotted or read-only attribute in another release
        return False
    return client.cookies is jar


class Fetcher:
    def __init__(self, politeness: Politeness) -> None:
        self.politeness = politeness
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            headers={
                "User-Agent": politeness.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            timeout=httpx.Timeout(politeness.timeout),
            # keep-alive per host: one pool of 2×concurrency connections for hundreds of
            # hosts opened a connection per request, and scanned the pool on every one
            transport=HostPools(politeness.per_host, httpx.create_ssl_context()),
            trust_env=False,
        )
        quiet_cookie_jar(self.client)
        self.global_gate = asyncio.Semaphore(politeness.concurrency)
        self.gates: dict[str, HostGate] = {}
        self.robots: dict[str, Protego | None] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}
        self.deferred: dict[str, str] = {}  # host -> why it waits for the next run

    async def close(self) -> None:
        await self.client.aclose()

    # ---------------------------------------------------------------- politeness

    def _gate(self, host: str, per_host: int) -> HostGate:
        gate = self.gates.get(host)
        if gate is None:
            gate = self.gates[host] = HostGate(per_host)
        return gate

    def _defer(self, url: str, reason: str) -> _Deferred:
        host = host_key(url)
        if host not in self.deferred:
            self.deferred[host] = reason
            log.warning("event=host_deferred host=%s reason=%s", printable(host), reason)
        return _Deferred(self.deferred[host])

    async def _send(
        self,
        politeness: Politeness,
        method: str,
        url: str,
        headers: dict[str, str],
        data: tuple[tuple[str, str], ...] = (),
        crawl_delay: float = 0.0,
    ) -> tuple[int, dict[str, str], bytes]:
        async with self.slot(politeness, url, crawl_delay) as turn:
            try:
                async with asyncio.timeout(politeness.timeout):
                    return await self._stream(politeness, method, url, headers, data, turn)
            except TimeoutError:
                raise httpx.ReadTimeout(
                    f"no complete answer within {politeness.timeout}s"
                ) from None

    @asynccontextmanager
    async def slot(
        self, politeness: Politeness, url: str, crawl_delay: float = 0.0
    ) -> AsyncIterator[_Turn]:
        """A turn at ``url``'s host: its per-host and global limits, and the spacing from
        the previous request to the host. The request goes out inside the block; the
        next one to the host may go ``delay`` after :meth:`_Turn.sent` (called on leaving
        the block at the latest). Raises for a host deferred to the next run.
        Used by the plain requests and by the browser tier (:mod:`pipeline.crawl.browser`).
        """
        host = host_key(url)
        gate = self._gate(host, politeness.per_host)
        delay = max(politeness.delay, crawl_delay) if politeness.delay > 0 else 0.0
        async with gate.semaphore:
            turn = _Turn(gate, delay)
            try:
                await turn.begin()
                if host in self.deferred:  # deferred while this request waited its turn
                    raise _Deferred(self.deferred[host])
                async with self.global_gate:
                    yield turn
            finally:
                turn.sent()  # also when nothing went out (refused connection): spaced from now

    async def robots_verdict(
        self, url: str, politeness: Politeness
    ) -> tuple[str | None, float, int]:
        """``(refusal, crawl_delay, requests made)`` for fetching ``url``: ``refusal`` is
        ``"disallowed"`` (robots.txt), a deferral reason, or None when the URL may be
        fetched ``crawl_delay`` seconds after the previous request to its host."""
        if host_key(url) in self.deferred:
            return self.deferred[host_key(url)], 0.0, 0
        if not politeness.robots:
            return None, 0.0, 0
        try:
            robots, made = await self._robots(url, politeness)
        except _Deferred as exc:
            return exc.reason, 0.0, 1
        if robots is None:
            return None, 0.0, made
        if not robots.can_fetch(url, politeness.user_agent):
            return "disallowed", 0.0, made
        crawl_delay = _crawl_delay(robots, politeness.user_agent)
        if crawl_delay > politeness.max_crawl_delay:
            return self._defer(url, _crawl_delay_reason(crawl_delay, politeness)).reason, 0.0, made
        return None, crawl_delay, made

    async def _stream(
        self,
        politeness: Politeness,
        method: str,
        url: str,
        headers: dict[str, str],
        data: tuple[tuple[str, str], ...],
        turn: _Turn,
    ) -> tuple[int, dict[str, str], bytes]:
        # the portal's own timeout and User-Agent, not the client's defaults
        headers = {**headers, "User-Agent": politeness.user_agent}
        kwargs: dict[str, object] = {
            "headers": headers,
            "timeout": politeness.timeout,
            "extensions": {"trace": turn.trace},
        }
        if data:
            kwargs["data"] = dict(data)
        async with self.client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
            turn.answered()
            body = await read_body(response, politeness.max_bytes)
            out_headers = {k.lower(): v for k, v in response.headers.multi_items()}
            if "set-cookie" in response.headers:
                out_headers["set-cookie"] = "; ".join(response.headers.get_list("set-cookie"))
            return response.status_code, out_headers, body

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
            # Unreachable (a timeout, a cut answer, or 5xx): RFC 9309 says assume everything
            # disallowed, so the host waits for the next run; retried as any fetch first.
            # 4xx: no rules.
            tries = Outcome(Request(f"{origin}/robots.txt"), "failed", f"{origin}/robots.txt")
            robots_politeness = replace(politeness, retries=ROBOTS_ATTEMPTS)
            problem: str | None = None
            try:
                status, _headers, body = await self._attempts(
                    robots_politeness, "GET", tries.url, {}, (), 0.0, tries
                )
            except _Deferred:
                raise
            except httpx.ConnectError:
                # nothing answers at this origin: its pages fail the same way (and an
                # https start URL falls back to http), so no request goes unchecked
                return None, tries.requests
            except Exception as exc:
                problem = _reason(exc)
            else:
                log.debug("robots.txt %s: HTTP %s", printable(origin), status)
                if status >= 500:  # one the retries leave alone (an anti-bot page, 521)
                    problem = f"HTTP {status}"
            if problem is not None:
                reason = f"robots.txt unreachable ({problem}): host left for the next run"
                raise self._defer(url, printable(reason))
            parser = (
                Protego.parse(body.decode("utf-8", errors="replace"))
                if status == 200 and body
                else None
            )
            self.robots[origin] = parser
            return parser, tries.requests

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
                if not allowed(url):  # an origin is scheme, host and port: see PortalConfig
                    outcome.status = "offsite"
                    outcome.reason = f"off the portal's origins: {printable(url)}"
                    return outcome
                if host_key(url) in self.deferred:
                    raise _Deferred(self.deferred[host_key(url)])
                crawl_delay = 0.0
                if politeness.robots:
                    robots, made = await self._robots(url, politeness)
                    outcome.requests += made
                    if robots is not None:
                        if not robots.can_fetch(url, politeness.user_agent):
                            outcome.status, outcome.reason = "disallowed", "robots.txt"
                            return outcome
                        crawl_delay = _crawl_delay(robots, politeness.user_agent)
                        if crawl_delay > politeness.max_crawl_delay:
                            raise self._defer(url, _crawl_delay_reason(crawl_delay, politeness))
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
        except _Deferred as exc:
            outcome.status, outcome.reason, outcome.body = "deferred", exc.reason, b""
            return outcome
        except BodyTooLarge as exc:
            outcome.status, outcome.reason, outcome.body = "failed", f"too-large: {exc}", b""
            return outcome
        except UndecodableBody as exc:
            outcome.status, outcome.reason, outcome.body = "failed", f"undecodable: {exc}", b""
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
                return exc.retry_after  # within the cap: larger ones defer the host
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
                    log.info("HTTP %s on %s, attempt %s", status, printable(url), outcome.attempts)
                    after = retry_after_seconds(resp_headers.get("retry-after"))
                    if after is not None:
                        self._back_off(url, after, politeness)
                    raise _Retryable(f"HTTP {status}", after)
        return status, resp_headers, body

    def _back_off(self, url: str, seconds: float, politeness: Politeness) -> None:
        """A Retry-After holds the whole host, not only this URL; past the cap the host
        is deferred to the next run rather than waited for."""
        if seconds > politeness.max_retry_after:
            raise self._defer(
                url,
                f"Retry-After {seconds:g} s over the {politeness.max_retry_after:g} s cap: "
                "host left for the next run",
            )
        self._gate(host_key(url), politeness.per_host).hold_off(time.monotonic() + seconds)

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


def _crawl_delay_reason(crawl_delay: float, politeness: Politeness) -> str:
    return (
        f"robots.txt Crawl-delay {crawl_delay:g} s over the "
        f"{politeness.max_crawl_delay:g} s cap: host left for the next run"
    )


def _crawl_delay(robots: Protego, user_agent: str) -> float:
    try:
        value = float(robots.crawl_delay(user_agent) or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return value if value >= 0 else 0.0  # NaN and negatives: no delay asked; inf: deferred
