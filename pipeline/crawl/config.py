"""Load ``config/portals.toml`` into :class:`PortalConfig` objects.

The smallest valid entry is::

    [[portal]]
    name = "柯城区"
    start_urls = ["http://www.kecheng.gov.cn/"]

Optional per portal: ``region``, ``region_code`` (6 digits), ``family``
(``auto``/``trs``/``hanweb``/``static``), ``link_pattern`` (regex on link titles that
replaces the built-in 年报 title pattern), ``extra_hosts`` (``host`` or ``*.domain``),
``browser`` (true: a listing page that is only scripts is rendered by headless Chromium,
:mod:`pipeline.crawl.browser`) and
politeness overrides (``delay``, ``per_host``, ``timeout``, ``max_bytes``, ``retries``,
``backoff``, ``backoff_max``, ``max_retry_after``, ``max_crawl_delay``, ``robots``) and
the portal's budgets for one run (``max_requests``, ``max_seconds``); each
number must be finite and within :data:`LIMITS`. A top-level ``[defaults]``
table sets politeness for every portal plus ``concurrency`` and ``user_agent``, which are
crawl-wide (one client, one global limit) and rejected in a ``[[portal]]`` table.
Errors raise :class:`ConfigError` with a one-line message naming the portal and the field.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from pipeline.errors import ConfigError
from pipeline.version import USER_AGENT

Family = Literal[
    "auto", "trs", "hanweb", "static", "gkmlpt", "hanweb_xxgk", "jpaas", "ucap", "lonsun", "pclist"
]
FAMILIES: tuple[str, ...] = (
    *("auto", "trs", "hanweb", "static"),
    *("gkmlpt", "hanweb_xxgk", "jpaas", "ucap", "lonsun", "pclist"),  # pipeline/crawl/families
)


@dataclass(frozen=True, slots=True)
class Politeness:
    """How hard the crawler may hit one host, and how long it waits."""

    delay: float = 1.0  # minimum seconds between two requests sent to one host
    per_host: int = 1  # requests in flight per host
    concurrency: int = 32  # requests in flight overall (hosts are spaced by their own gates)
    timeout: float = 20.0  # seconds for one whole request (connect + body)
    max_bytes: int = 50 * 1024 * 1024  # bodies larger than this are refused
    retries: int = 4  # attempts per URL on timeouts, connection errors, 5xx and 429
    backoff: float = 1.0  # first retry wait (s); doubles, with jitter
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After defers the host to the next run
    max_crawl_delay: float = 60.0  # a longer robots.txt Crawl-delay defers the host too
    # Budgets of one portal in one run: a portal listing 20,000 reports, or a pager that
    # never ends, is cut there and resumed by the next run (the summary says so).
    max_requests: int = 2000
    max_seconds: float = 3 * 3600.0
    user_agent: str = USER_AGENT  # set ``user_agent`` in the config to add a contact URL
    robots: bool = True

    @classmethod
    def off(cls, **changes: Any) -> Politeness:
        """No delay and tiny backoff: for tests, demos and loopback benchmarks."""
        base = cls(delay=0.0, per_host=4, backoff=0.01, backoff_max=0.05, max_retry_after=2.0)
        return replace(base, **changes)


@dataclass(frozen=True, slots=True)
class PortalConfig:
    name: str
    start_urls: tuple[str, ...]
    region: str | None = None
    region_code: str | None = None
    family: Family = "auto"
    link_pattern: str | None = None
    extra_hosts: tuple[str, ...] = ()
    browser: bool = False  # JS gates / JS-built lists read through headless Chromium
    politeness: Politeness = field(default_factory=Politeness)

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(
            {urlsplit(u).hostname or "" for u in self.start_urls} | set(self.extra_hosts)
        )

    def allows(self, url: str) -> bool:
        """True if ``url``'s origin (scheme, host, port) is one of the portal's.

        On the default ports, http and https of a host named by a start URL on a default
        port or by ``extra_hosts`` (sites move from one to the other). On another port,
        only the host and port of a start URL (either scheme: the crawl tries both) or
        a ``host:port`` in ``extra_hosts``. Another port of an allowed host is another
        server, not the portal.
        """
        target = origin(url)
        if target is None:
            return False
        scheme, host, port = target
        starts = [o for o in map(origin, self.start_urls) if o is not None]
        if port == DEFAULT_PORTS[scheme]:
            names = [h for s, h, p in starts if p == DEFAULT_PORTS[s]]
            names += [h for h in self.extra_hosts if ":" not in h]
            return any(_host_matches(host, name) for name in names)
        if any((h, p) == (host, port) for s, h, p in starts if p != DEFAULT_PORTS[s]):
            return True
        return any(_host_matches(host, h) for h in self.extra_hosts if h.endswith(f":{port}"))


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, the port made explicit; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # a port that is not a number or out of range
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host.rstrip("."), port if port is not None else DEFAULT_PORTS[scheme]


def _host_matches(host: str, allowed: str) -> bool:
    """``allowed`` is ``name``, ``*.domain`` (the domain and its subdomains), either with
    an optional ``:port`` (already matched by the caller)."""
    allowed = allowed.lower().rsplit(":", 1)[0] if ":" in allowed else allowed.lower()
    if allowed.startswith("*."):
        return host == allowed[2:] or host.endswith(allowed[1:])
    return host == allowed


_POLITENESS_FIELDS: dict[str, type | tuple[type, ...]] = {
    "delay": (int, float),
    "per_host": int,
    "concurrency": int,
    "timeout": (int, float),
    "max_bytes": int,
    "retries": int,
    "backoff": (int, float),
    "backoff_max": (int, float),
    "max_retry_after": (int, float),
    "max_crawl_delay": (int, float),
    "max_requests": int,
    "max_seconds": (int, float),
    "user_agent": str,
    "robots": bool,
}
#: crawl-wide settings: only under [defaults]
_GLOBAL_FIELDS = {
    "concurrency": "the limit on requests in flight is crawl-wide",
    "user_agent": "one User-Agent names the crawler on every portal",
}
_PORTAL_FIELDS = {
    "name",
    "region",
    "region_code",
    "start_urls",
    "family",
    "link_pattern",
    "extra_hosts",
    "browser",
} | (set(_POLITENESS_FIELDS) - set(_GLOBAL_FIELDS))


#: Largest accepted value of each number: beyond these a value is a typo or an attack on
#: the crawl itself (``delay = 1e9`` never finishes, ``per_host = 1e8`` floods a portal).
LIMITS: dict[str, float] = {
    "delay": 3600.0,
    "per_host": 16,
    "concurrency": 256,
    "timeout": 600.0,
    "max_bytes": 1024 * 1024 * 1024,
    "retries": 20,
    "backoff": 600.0,
    "backoff_max": 3600.0,
    "max_retry_after": 3600.0,
    "max_crawl_delay": 3600.0,
    "max_requests": 1_000_000,
    "max_seconds": 24 * 3600.0,
}


def _fail(portal: str, field_name: str, message: str) -> ConfigError:
    where = portal if portal.startswith("[") else f"portal {portal!r}"
    return ConfigError(f"{where}: field {field_name!r}: {message}")


def _expected(kinds: type | tuple[type, ...]) -> str:
    if kinds is int:
        return "a whole number"
    return "a number" if kinds == (int, float) else getattr(kinds, "__name__", str(kinds))


def _politeness(table: dict[str, Any], base: Politeness, portal: str) -> Politeness:
    changes: dict[str, Any] = {}
    for key, kinds in _POLITENESS_FIELDS.items():
        if key not in table:
            continue
        value: Any = table[key]
        numeric = kinds in (int, (int, float))
        if isinstance(value, bool) and kinds is not bool:
            raise _fail(portal, key, f"expected a number, got {value!r}")
        if not isinstance(value, kinds):
            raise _fail(portal, key, f"expected {_expected(kinds)}, got {value!r}")
        value = cast(Any, value)  # checked just above
        if numeric and not math.isfinite(value):
            raise _fail(portal, key, f"must be a finite number, got {value!r}")
        if numeric and value < 0:
            raise _fail(portal, key, f"must not be negative, got {value!r}")
        if numeric and value > LIMITS[key]:
            raise _fail(portal, key, f"must be at most {LIMITS[key]:g}, got {value!r}")
        if value == 0 and key in (
            *("per_host", "concurrency", "retries", "max_bytes", "timeout"),
            *("max_requests", "max_seconds"),
        ):
            raise _fail(portal, key, "must be greater than zero")
        changes[key] = float(value) if kinds == (int, float) else value
    return replace(base, **changes)


def _valid_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def parse_portal(table: Any, index: int, defaults: Politeness) -> PortalConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"portal #{index + 1}: expected a [[portal]] table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(f"#{index + 1}", "name", "required, a non-empty string")
    name = name.strip()
    for key, why in _GLOBAL_FIELDS.items():
        if key in table:
            raise _fail(name, key, f"set it under [defaults]: {why}")
    unknown = sorted(set(table) - _PORTAL_FIELDS)
    if unknown:
        raise _fail(name, unknown[0], "unknown field")
    urls = table.get("start_urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls:
        raise _fail(name, "start_urls", "required, a non-empty list of http(s) URLs")
    for url in urls:
        if not _valid_url(url):
            raise _fail(name, "start_urls", f"not an http(s) URL: {url!r}")
    for key in ("region", "link_pattern"):
        if key in table and not isinstance(table[key], str):
            raise _fail(name, key, f"expected a string, got {table[key]!r}")
    code = table.get("region_code")
    if code is not None:
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)
        if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code):
            raise _fail(name, "region_code", f"expected 6 digits, got {code!r}")
    family = table.get("family", "auto")
    if family not in FAMILIES:
        raise _fail(name, "family", f"expected one of {', '.join(FAMILIES)}, got {family!r}")
    pattern = table.get("link_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _fail(name, "link_pattern", f"bad regular expression: {exc}") from None
    extra = table.get("extra_hosts", [])
    if not isinstance(extra, list) or not all(
        isinstance(h, str) and h and "/" not in h for h in extra
    ):
        raise _fail(name, "extra_hosts", "expected a list of host names")
    browser = table.get("browser", False)
    if not isinstance(browser, bool):
        raise _fail(name, "browser", f"expected true or false, got {browser!r}")
    return PortalConfig(
        name=name,
        start_urls=tuple(u.strip() for u in urls),
        region=table.get("region"),
        region_code=code,
        family=family,
        link_pattern=pattern,
        extra_hosts=tuple(h.lower() for h in extra),
        browser=browser,
        politeness=_politeness(table, defaults, name),
    )


def parse_config(data: dict[str, Any]) -> list[PortalConfig]:
    defaults_table = data.get("defaults", {})
    if not isinstance(defaults_table, dict):
        raise ConfigError("[defaults]: expected a table")
    unknown = sorted(set(defaults_table) - set(_POLITENESS_FIELDS))
    if unknown:
        raise ConfigError(f"[defaults]: field {unknown[0]!r}: unknown field")
    defaults = _politeness(defaults_table, Politeness(), "[defaults]")
    tables = data.get("portal")
    if not isinstance(tables, list) or not tables:
        raise ConfigError("no [[portal]] entries")
    portals = [parse_portal(t, i, defaults) for i, t in enumerate(tables)]
    seen: set[str] = set()
    for portal in portals:
        if portal.name in seen:
            raise _fail(portal.name, "name", "duplicate portal name")
        seen.add(portal.name)
    return portals


def select_portals(
    portals: list[PortalConfig], names: list[str], path: str | Path
) -> list[PortalConfig]:
    """The portals named (all when ``names`` is empty); :class:`ConfigError` for a name the
    config at ``path`` does not have."""
    if not names:
        return portals
    known = {p.name for p in portals}
    missing = [n for n in names if n not in known]
    if missing:
        raise ConfigError(f"no portal named {missing[0]!r} in {path}")
    return [p for p in portals if p.name in set(names)]


def load_config(path: str | Path) -> list[PortalConfig]:
    """Read and validate a portals TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data)
