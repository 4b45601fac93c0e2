"""Report titles: is a title a 政府信息公开工作年度报告, and which year and agency it names.

One implementation for the crawler (listing link titles) and the extractor (the title
printed on the page), so both give the same answer for the same title.
"""

from __future__ import annotations

import re

#: A 年度报告 of information disclosure (the title of a report, a link to one).
REPORT_TITLE = re.compile(
    r"(政府)?信息公开(工作)?(年度)?(报告|年报)|政务公开(工作)?年度报告|公开年报"
)
#: Titles that look like one but are other annual reports (网站年度工作报表, 新媒体...).
LOOKALIKE_TITLE = re.compile(r"(网站|政务新媒体|新媒体).*(报表|报告)|工作报表")

_YEAR = r"((?:19|20)\d{2})"
_TITLE_YEAR = re.compile(_YEAR + r"\s*年")
# A trailing annotation: （更正版）, (修订), 【全文】 ...
_ANNOTATION = re.compile(r"[（(【\[][^（()）【】\[\]]{1,12}[）)】\]]$")
_AGENCY_BEFORE_YEAR = re.compile(r"^(?:关于)?(?P<agency>.+?)" + _YEAR + r"\s*年")
_AGENCY_AFTER_YEAR = re.compile(
    r"^[【\[(（]?" + _YEAR + r"\s*年度?[】\])）]?(?P<agency>.+?)(?:关于)?的?"
    r"(?:政府信息公开|政务公开|(?<!政府)信息公开)"
)
_VERB_PREFIX = re.compile(r"^.*?(?:公布|发布|印发|编制|现将|根据|汇报|关于)")
# How the names of government bodies end (人民政府, 办公室, 局, 委员会, 街道办事处, 镇, ...).
_AGENCY_END = re.compile(
    r"(政府|办公室|办公厅|局|委员会|委|办|办事处|街道|镇|乡|区|县|市|旗|中心|管委会|院|厅|署|"
    r"站|队|所|处|会|公司|集团)$"
)


def is_report_title(title: str, pattern: re.Pattern[str] | None = None) -> bool:
    """True for 政府信息公开年度报告-like titles, False for look-alikes (网站年度工作报表).

    ``pattern`` (a portal's own ``link_pattern``) replaces the built-in rule.
    """
    title = title.strip()
    if not title:
        return False
    if pattern is not None:
        return bool(pattern.search(title))
    return bool(REPORT_TITLE.search(title)) and not LOOKALIKE_TITLE.search(title)


def title_year(title: str | None) -> int | None:
    """The year a title names first (``2022年度柯城区...`` -> 2022)."""
    match = _TITLE_YEAR.search(title or "")
    return int(match.group(1)) if match else None


def plausible_agency(name: str | None) -> str | None:
    """``name`` if it reads as the name of a government body, else ``None``.

    A leading verb phrase (关于, 现将, 根据 ...) is dropped; the name must end as body names
    do (局, 办公室, 人民政府, 镇 ...) and be 2–40 characters.
    """
    if not name:
        return None
    name = _VERB_PREFIX.sub("", name).strip(' 《》"“”:：,，。-—_　')
    if 2 <= len(name) <= 40 and _AGENCY_END.search(name) and not name.startswith(("我", "本")):
        return name
    return None


def title_agency(title: str | None) -> str | None:
    """The publishing body a report title names, if any.

    ``鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告`` -> ``鄂尔多斯市人民政府办公室``;
    ``2022年度柯城区政府信息公开工作年度报告`` -> ``柯城区``;
    ``XX县2021年度政府信息公开工作年度报告（更正版）`` -> ``XX县``;
    ``2023年政府信息公开工作年度报告`` -> ``None``.
    """
    text = re.sub(r"\s+", "", title or "")
    while (stripped := _ANNOTATION.sub("", text)) != text:
        text = stripped
    for pattern in (_AGENCY_BEFORE_YEAR, _AGENCY_AFTER_YEAR):
        match = pattern.match(text)
        if match and (agency := plausible_agency(match["agency"])):
            return agency
    return None
