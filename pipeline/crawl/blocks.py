"""Answers that are not the page asked for: anti-bot walls (瑞数, 加速乐, WAFs), soft 404s
and redirects to the home page. Pure functions of the answer."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_RS_MARKERS = (b"$_ts", b"r='m'", b'r="m"')
_JSL_MARKERS = (b"__jsl_clearance", b"__jsluid")
_WAF_MARKERS = (
    "安全狗".encode(),
    "云锁".encode(),
    "访问被拦截".encode(),
    "网站防火墙".encode(),
    "您的访问被阻断".encode(),
    b"yunsuo_session",
    b"Attention Required! | Cloudflare",
    b"cf-chl-",
    b"Web Application Firewall",
)


def classify_block(status: int, headers: dict[str, str], body: bytes) -> str | None:
    """The anti-bot wall this answer comes from, or ``None`` for an ordinary answer."""
    head = body[:16384]
    cookies = headers.get("set-cookie", "")
    if status in (412, 202) and any(m in head for m in _RS_MARKERS):
        return "rs-challenge"
    if status == 412:
        return "challenge-412"
    if status == 521:
        return "jsl-challenge"
    # 加速乐 fronts whole sites: its header and cookie come with ordinary 200 and 304
    # answers too, so they mark a challenge only on a refusal (not on 404/410, 429, 5xx)
    behind_jsl = "x-via-jsl" in headers or "__jsluid" in cookies
    if behind_jsl and 400 <= status < 500 and status not in (404, 410, 429):
        return "jsl-challenge"
    if len(body) < 8192 and (
        any(m in head for m in _JSL_MARKERS) or (behind_jsl and b"document.cookie" in head)
    ):
        return "jsl-challenge"  # a small page whose script sets the clearance cookie
    if b"$_ts" in head and len(body) < 16384 and status != 200:
        return "rs-challenge"
    small_or_refused = status in (403, 405, 406, 418, 429, 493, 503) or len(body) < 16384
    if small_or_refused and any(m in head for m in _WAF_MARKERS):
        return "waf"
    if status == 200 and b"$_ts" in head and b"<script" in head and len(body) < 8192:
        return "rs-challenge"
    return None


_SOFT_404 = re.compile("找不到|页面不存在|不存在或已被删除|404 Not Found|页面未找到|无法找到该页")


def is_soft_404(status: int, html: str) -> bool:
    """An HTTP 200 error page (small body saying 页面不存在/找不到/404)."""
    return status == 200 and len(html) < 2048 and bool(_SOFT_404.search(html))


def is_site_root(url: str) -> bool:
    path = urlsplit(url).path
    return path in ("", "/", "/index.html", "/index.htm", "/index.shtml", "/index.jsp")


_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\s[^>]*href\s*=\s*[\"']?(?!javascript:|#)[^\"'\s>]", re.IGNORECASE)
_TAGS = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]+>", re.IGNORECASE | re.S)
JS_SHELL_BYTES = 5000  # the reference's "<5 KB shell" repeated across a prefecture


def is_js_shell(html: str) -> bool:
    """A small page that is only scripts: a JS gate or a list built by JavaScript, which a
    plain HTTP crawl cannot read (reference portal-families.md §1.4, §6)."""
    if len(html) >= JS_SHELL_BYTES or not _SCRIPT.search(html) or _ANCHOR.search(html):
        return False
    text = _TAGS.sub(" ", html)
    return len("".join(text.split())) < 200
