"""The metadata block report pages of the 信息公开 platforms print above the body (索引号 /
发布机构 / 成文日期 / 发布日期, reference portals.md §3.2, portal-families.md §4.1-4.2), and
the check of the 索引号 against the portal's region. Pure functions of the page text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.dates import iso_date

_LABELS = {
    "index_no": ("索引号",),
    "agency": ("发布机构", "发文机关", "发布单位", "发文单位"),
    "written": ("成文日期", "成文时间"),
    "published": ("发布日期", "发布时间", "公开日期", "公开时间"),
}
_ANY_LABEL = "|".join(re.escape(x) for group in _LABELS.values() for x in group)
# label, optional colon, the value up to the end of its line/cell (the next cell may hold it)
_PAIR = re.compile(
    r"(?P<label>"
    + _ANY_LABEL.replace("索引号", r"索\s*引\s*号")
    + r")\s*[:：]?\s*(?P<value>[^\n]{0,80})"
)
_LABEL_START = re.compile(r"^\s*(" + _ANY_LABEL + r"|公开方式|文号|发文字号|分类|主题|有效性|名称)")
_INDEX = re.compile(r"^[0-9A-Za-z][0-9A-Za-z/\-_.]{3,}")
_AGENCY = re.compile(r"^[\u4e00-\u9fff（）()]{2,40}")
# 统一社会信用代码: registration office, organ type, 6-digit region, 9-char organ code, check
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}(\d{6})[0-9A-HJ-NPQRTUWXY]{9}[0-9A-HJ-NPQRTUWXY]")
_REGION = re.compile(r"^(\d{6})(?=[/\-_—])")
TEXT_WINDOW = 8000  # the block sits above the body
#: Characters of markup parsed for the block: it sits in the first few KB of a page (3.4 KB
#: into the corpus's 106 KB 042.html), and parsing a whole 45 MB page of cells to read 8,000
#: characters of its text took 1.4 GB and 8 s in the crawling process, on its event loop.
HTML_WINDOW = 1 << 20


@dataclass(frozen=True, slots=True)
class PageMeta:
    index_no: str | None = None
    agency: str | None = None
    written: str | None = None  # 成文日期, ISO
    published: str | None = None  # 发布日期, ISO

    @property
    def date(self) -> str | None:
        return self.published or self.written


def page_text(html: str) -> str:
    """The visible text of the page's first :data:`HTML_WINDOW` characters of markup, one
    cell or block per line."""
    tree = HTMLParser(html[:HTML_WINDOW])
    for node in tree.css("script, style"):
        node.decompose()
    body = tree.body or tree.root
    return body.text(separator="\n") if body is not None else ""


def read_block(text: str) -> PageMeta:
    """索引号, 发布机构, 成文日期 and 发布日期 from a page's text (see :func:`page_text`):
    label and value in one cell (``索引号：330803/2021-46933``) or in neighbouring cells."""
    text = re.sub(r"[ \t\u3000\xa0]+", " ", text[:TEXT_WINDOW])
    text = re.sub(r"\n\s*\n+", "\n", text)
    found: dict[str, str] = {}
    for match in _PAIR.finditer(text):
        label = re.sub(r"\s+", "", match["label"])
        key = next(k for k, names in _LABELS.items() if label in names)
        value = match["value"].strip()
        if not value or value in ":：":
            # the value is in the next cell
            rest = text[match.end() :].lstrip(" :：\n")
            value = rest.split("\n", 1)[0].strip()
        if key in found or not value or _LABEL_START.match(value):
            continue
        found[key] = value
    index = _INDEX.match(found.get("index_no", ""))
    agency = _AGENCY.match(found.get("agency", ""))
    return PageMeta(
        index_no=index.group(0) if index else None,
        agency=agency.group(0) if agency else None,
        written=iso_date(found.get("written")),
        published=iso_date(found.get("published")),
    )


def index_region(index_no: str | None) -> str | None:
    """The region code a 索引号 starts with: its 6-digit prefix (``330803/2021-46933``) or the
    region part of a 统一社会信用代码 (``1133080257773966XH/2024-81780`` -> ``330802``);
    ``None`` for other schemes (9-digit organ codes, site-specific numbers)."""
    if not index_no:
        return None
    index_no = index_no.strip().upper()
    match = _REGION.match(index_no)
    if match:
        return match.group(1)
    match = _USCC.match(index_no)
    if match and (len(index_no) == 18 or not index_no[18].isalnum()):
        return match.group(1)
    return None


def region_mismatch(index_no: str | None, region_code: str | None) -> str | None:
    """A reason when the 索引号 names another region than the portal's, else ``None``
    (match, or nothing to compare)."""
    found = index_region(index_no)
    if not found or not region_code or found == region_code:
        return None
    return f"索引号 region {found} is not the portal's {region_code}"
