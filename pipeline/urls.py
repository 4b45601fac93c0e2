"""One spelling per page: :func:`canonical_url` turns the many URLs a portal hands out for
one report into a single string fit to be an id.

Portals append session ids (``;jsessionid=`` in the path, ``JSESSIONID``, ``PHPSESSID``
or ``sid`` in the query) and tracking parameters, print the default port or not, mix the
case of scheme and host, and add fragments. None of these changes the page. Everything
else, the order of the remaining query parameters included, is kept: a CMS may read its
parameters by position, and an id should move only when the page does.

Built on w3lib's ``canonicalize_url`` (percent-encoding, IDNA, dot segments, case of
the host), without its sorting of the query.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, parse_qsl_to_bytes

__all__ = ["canonical_url"]

DEFAULT_PORTS = {"http": 80, "https": 443}

#: query parameters that only ever carry a session (compared lower-cased)
SESSION_PARAMS = frozenset(
    {
        "jsessionid",
        "phpsessid",
        "aspsessionid",
        "sessionid",
        "session_id",
        "sessid",
        "cfid",
        "cftoken",
    }
)
#: ``sid`` is a session id on some servers and a site id on others: dropped only when its
#: value looks like a session token (long and random-looking), never a short site number.
_SESSION_TOKEN = re.compile(r"[0-9A-Za-z_\-.!]{16,}")
#: tracking and cache-busting parameters (compared lower-cased); ``utm_*`` besides
TRACKING_PARAMS = frozenset(
    {"gclid", "fbclid", "msclkid", "yclid", "spm", "_hsenc", "_hsmi", "mc_cid", "mc_eid"}
)
#: ``;jsessionid=...`` and the like in any path segment (Java servlets rewrite URLs so)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sessionid|sid)=[^/;?#]*", flags=re.IGNORECASE)


def _dropped(key: bytes, value: bytes) -> bool:
    name = key.decode("latin-1").lower()
    if name in SESSION_PARAMS or name.startswith("aspsessionid"):
        return True
    if name == "sid":
        return _SESSION_TOKEN.fullmatch(value.decode("latin-1")) is not None
    return name in TRACKING_PARAMS or name.startswith("utm_")


def _query(query: str) -> str:
    """The query without session and tracking parameters, encoded as w3lib does, in its
    original order."""
    pairs = parse_qsl_to_bytes(query, keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if not _dropped(k, v)])


def _netloc(scheme: str, netloc: str) -> str:
    """``netloc`` without the scheme's default port and a trailing dot on the host."""
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not colon or "]" in port:  # no port (an IPv6 literal's colons are not one)
        host, port = hostport, ""
    if port.isdigit() and int(port) == DEFAULT_PORTS.get(scheme):
        port = ""
    host = host.rstrip(".") if not host.endswith("]") else host
    return f"{userinfo}{at}{host}{':' + port if port else ''}"


def _stable(url: str, passes: int = 4) -> str:
    """w3lib's canonical form, taken again until it no longer changes: decoding an escaped
    unreserved character can form a new escape (``%%30a`` -> ``%0a``, then ``%0A``)."""
    for _ in range(passes):
        again = canonicalize_url(url)
        if again == url:
            break
        url = again
    return url


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL; any other string comes back stripped.

    >>> canonical_url("HTTP://WWW.Kecheng.GOV.cn:80/art/2024/1/20/art_1229_1.html"
    ...               ";jsessionid=0A1B?b=2&a=1&utm_source=wx#top")
    'http://www.kecheng.gov.cn/art/2024/1/20/art_1229_1.html?b=2&a=1'
    """
    url = url.strip()
    if urlsplit(url).scheme.lower() not in DEFAULT_PORTS:
        return url
    before_query, _, rest = url.partition("?")
    before_query = before_query.split("#", 1)[0]
    query = rest.split("#", 1)[0]
    # Session ids out of the path before w3lib, which keeps path parameters as they are.
    before_query = _PATH_SESSION.sub("", before_query)
    try:
        base = _stable(before_query)
    except ValueError:  # a port that is not a number, a host IDNA refuses: leave it be
        return url
    parts = urlsplit(base)
    return urlunsplit(
        (parts.scheme, _netloc(parts.scheme, parts.netloc), parts.path, _query(query), "")
    )
