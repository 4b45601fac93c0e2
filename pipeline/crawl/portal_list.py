"""A user's list of portals (CSV: name, region code, URL) turned into ``[[portal]]`` entries
of the crawl config: headers recognised in English or Chinese (or none: the columns are
then name, code, URL), no duplicates (by URL, and by name), invalid rows reported.
Pure functions; the ``portals import`` command reads and writes the files."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipeline.crawl.config import PortalConfig

_NAME = ("name", "portal", "county", "名称", "名字", "区县", "县区", "单位", "地区")
_CODE = ("region_code", "code", "adcode", "区划代码", "行政区划代码", "代码")
_URL = ("url", "portal_url", "start_url", "website", "网址", "门户网址", "网站")


@dataclass(frozen=True, slots=True)
class PortalRow:
    line: int
    name: str
    region_code: str | None
    url: str


@dataclass(slots=True)
class ImportPlan:
    added: list[PortalRow] = field(default_factory=list)
    duplicates: list[PortalRow] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    cells = [c.strip().lower() for c in header]
    for name in names:
        if name in cells:
            return cells.index(name)
    return None


def normal_url(value: str) -> str | None:
    """An http(s) URL from a cell (``www.x.gov.cn`` gets ``http://``), or ``None``."""
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        return None
    return value if parts.path else value + "/"


def url_key(url: str) -> str:
    """What makes two start URLs the same portal: host, port and path, scheme (and the
    scheme's default port) and a final slash aside."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    where = (parts.hostname or "").lower() + (f":{port}" if port not in (None, 80, 443) else "")
    return f"{where}{parts.path.rstrip('/')}"


def read_rows(text: str) -> tuple[list[PortalRow], list[tuple[int, str]]]:
    """The rows of a CSV list, and the lines that could not be read (line, why)."""
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        return [], []
    header = rows[0]
    name_at, code_at, url_at = (_column(header, n) for n in (_NAME, _CODE, _URL))
    body = rows[1:] if url_at is not None or name_at is not None else rows
    if url_at is None:  # no header: name, region code, URL
        name_at, code_at, url_at = 0, 1, 2
    offset = len(rows) - len(body) + 1
    out: list[PortalRow] = []
    bad: list[tuple[int, str]] = []
    for i, row in enumerate(body):
        line = i + offset

        def cell(at: int | None, row: list[str] = row) -> str:
            return row[at].strip() if at is not None and at < len(row) else ""

        name, code, url = cell(name_at), cell(code_at), normal_url(cell(url_at))
        if not name:
            bad.append((line, "no name"))
        elif url is None:
            bad.append((line, f"not a URL: {cell(url_at)!r}"))
        else:
            out.append(PortalRow(line, name, code if re.fullmatch(r"\d{6}", code) else None, url))
    return out, bad


def plan_import(rows: list[PortalRow], existing: list[PortalConfig]) -> ImportPlan:
    """Which rows become new entries: a URL already configured (or met earlier in the list)
    is a duplicate; a name already taken gets its region code appended."""
    plan = ImportPlan()
    urls = {url_key(u) for p in existing for u in p.start_urls}
    names = {p.name for p in existing}
    for row in rows:
        if url_key(row.url) in urls:
            plan.duplicates.append(row)
            continue
        name = row.name
        if name in names:
            name = f"{row.name}（{row.region_code or row.line}）"
        if name in names:
            plan.duplicates.append(row)
            continue
        urls.add(url_key(row.url))
        names.add(name)
        plan.added.append(PortalRow(row.line, name, row.region_code, row.url))
    return plan


def toml_entries(rows: list[PortalRow]) -> str:
    """``[[portal]]`` tables for ``rows`` (TOML basic strings are JSON strings)."""
    blocks = []
    for row in rows:
        lines = ["[[portal]]", f"name = {json.dumps(row.name, ensure_ascii=False)}"]
        if row.region_code:
            lines.append(f'region_code = "{row.region_code}"')
        lines.append(f"start_urls = [{json.dumps(row.url, ensure_ascii=False)}]")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
