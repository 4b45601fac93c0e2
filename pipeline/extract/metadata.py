"""Report metadata printed on the page: title, agency, year, publication date, 索引号."""

from __future__ import annotations

import re
from dataclasses import dataclass

import zhconv

from pipeline.dates import DATE, iso_date, iso_from_match
from pipeline.titles import plausible_agency, title_agency, title_year

_YEAR = r"((?:19|20)\d{2})"
_TITLE_LINE = re.compile(r"(信息公开|政务公开).{0,12}(年度报告|年报|工作报告)|年度报告$")
_REPORT_PHRASE = re.compile(
    r"(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)?"
    + _YEAR
    + r"\s*年度?\s*(?:的)?(?:政府信息公开|政务公开|信息公开)"
)
_PERIOD_START = re.compile(_YEAR + r"\s*年\s*0?1\s*月\s*0?1\s*日")
_ANY_YEAR = re.compile(_YEAR + r"\s*年")
_PUBLISHED = re.compile(
    r"(?P<field>发布|发文|公开|成文)(?:时间|日期)\s*[:：]?\s*\|?\s*" + DATE.pattern
)
# The publication date proper first: platforms print 成文日期 (when it was written) before
# 发布日期 (when it was published) in their metadata block.
_DATE_FIELDS = ("发布", "公开", "发文", "成文")
_INDEX_NO = re.compile(r"索\s*引\s*号\s*[:：]?\s*\|?\s*([0-9A-Za-z][0-9A-Za-z/\-_.]{3,})")
_AGENCY_FIELD = re.compile(
    r"(?:发布机构|发布单位|来源单位|信息来源)\s*[:：]\s*\|?\s*([\u4e00-\u9fff（）()]{2,40})"
)
_META_NAMES = {
    "title": ("ArticleTitle", "title", "og:title"),
    "agency": ("ContentSource", "Author", "author"),
    "published": (
        "PubDate",
        "pubdate",
        "publishdate",
        "firstpublishedtime",
        "article:published_time",
    ),
}


@dataclass(slots=True)
class PageMetadata:
    title: str | None = None
    agency: str | None = None
    report_year: int | None = None
    published: str | None = None
    index_no: str | None = None


# Characters a traditional-script report all but certainly prints (公開, 報告, 條例, ...).
_TRADITIONAL_HINTS = re.compile("[開報條處資數關發機項區縣鎮務實於]")


def _simplified(text: str) -> str:
    if _TRADITIONAL_HINTS.search(text) is None:
        return text  # converting costs milliseconds; most pages are simplified already
    return zhconv.convert(text, "zh-cn")


# A crawler's header line names its field: "标题: 平潭综合实验区2016年度…".
_FIELD_NAME = re.compile(r"^(?:标题|题目|title)\s*[:：]\s*", re.IGNORECASE)


def find_title(lines: list[str]) -> str | None:
    """The first title-like line, preferring one that names a year."""
    # every title pattern holds 报 (年度报告, 年报, 工作报告): other lines are skipped unread
    candidates = [
        line
        for line in (_FIELD_NAME.sub("", raw.strip(" |#*")) for raw in lines[:400] if "报" in raw)
        if 6 <= len(line) <= 80 and _TITLE_LINE.search(line) and not line.startswith("《")
    ]
    with_year = [line for line in candidates if title_year(line)]
    best = with_year or candidates
    return best[0] if best else None


def agency_beside_title(lines: list[str], title: str) -> str | None:
    """A title printed without its agency often has the agency on the line above or below."""
    stripped = [line.strip(" |#*") for line in lines[:400]]
    if title not in stripped:
        return None
    at = stripped.index(title)
    for neighbour in stripped[max(at - 1, 0) : at] + stripped[at + 1 : at + 2]:
        if len(neighbour) <= 30 and (name := plausible_agency(neighbour)) == neighbour:
            return name
    return None


def report_year(title: str | None, text: str) -> int | None:
    if year := title_year(title):
        return year
    for pattern in (_REPORT_PHRASE, _PERIOD_START, _ANY_YEAR):
        match = pattern.search(text)
        if match:
            return int(match.group(_YEAR_GROUP[pattern]))
    return None


_YEAR_GROUP = {_REPORT_PHRASE: 2, _PERIOD_START: 1, _ANY_YEAR: 1}


def read_metadata(text: str, meta_tags: dict[str, str] | None = None) -> PageMetadata:
    """Metadata from the page's text (and its ``<meta>`` tags where it is HTML)."""
    head = _simplified(text[:6000])
    lines = head.splitlines()
    tags = {k.lower(): v for k, v in (meta_tags or {}).items() if v}

    def tag(kind: str) -> str | None:
        for name in _META_NAMES[kind]:
            value = tags.get(name.lower())
            if value:
                return _simplified(value.strip())
        return None

    title = find_title(lines) or tag("title")
    agency = (title_agency(title) or agency_beside_title(lines, title)) if title else None
    if agency is None:
        phrase = _REPORT_PHRASE.search(head)
        agency = plausible_agency(phrase["agency"]) if phrase else None
    if agency is None:
        field = _AGENCY_FIELD.search(head)
        agency = plausible_agency(field.group(1) if field else tag("agency"))
    published = None
    dated = {m["field"]: m for m in reversed(list(_PUBLISHED.finditer(head)))}
    for field_name in _DATE_FIELDS:
        if field_name in dated and (published := iso_from_match(dated[field_name])):
            break
    if published is None and (value := tag("published")):
        published = iso_date(value)
    index = _INDEX_NO.search(head)
    return PageMetadata(
        title=title,
        agency=agency,
        report_year=report_year(title, head),
        published=published,
        index_no=index.group(1) if index else None,
    )
