"""Row labels OCR misread, put right by the national labels they stand between.

Table 3's rows are found by keywords (:func:`layout.application_row`); one misread
character ("茜止公开" for 禁止公开, "稳 IE" for 稳定) loses the row, and with it every
column identity that sums the row. The national tables print their rows in one order, so
a label that names no row, standing between two rows read right with exactly the rows
between them in national order missing, can only be one of those: it is taken for the one
its characters are closest to (edit distance over the Chinese characters), when that one
is close (at most :data:`MAX_DISTANCE` of its characters differ) and clearly closer than
any other. With a missing row left over, a cell could be filed under its neighbour's
row, and the identities, which add a row up wherever it is filed, would not see it: then
the cell must also be far from every other missing row (more than twice
:data:`MAX_DISTANCE` of its characters differ). The figures of a row so named are still
staged only where the identities prove them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from pipeline.extract import layout
from pipeline.extract.cells import label_form, read_value

#: The labels of Table 3's rows as the national tables print them.
NATIONAL_LABELS: dict[str, str] = {
    "new_received": "本年新收政府信息公开申请数量",
    "carried_over": "上年结转政府信息公开申请数量",
    "granted": "予以公开",
    "partially_granted": "部分公开",
    "denied_state_secret": "属于国家秘密",
    "denied_prohibited_by_law": "其他法律行政法规禁止公开",
    "denied_three_safeties": "危及“三安全一稳定”",
    "denied_third_party": "保护第三方合法权益",
    "denied_internal_affairs": "属于三类内部事务信息",
    "denied_process_info": "属于四类过程性信息",
    "denied_enforcement_files": "属于行政执法案卷",
    "denied_inquiry": "属于行政查询事项",
    "unavailable_not_held": "本机关不掌握相关政府信息",
    "unavailable_needs_creation": "没有现成信息需要另行制作",
    "unavailable_unclear": "补正后申请内容仍不明确",
    "not_processed_petition": "信访举报投诉类申请",
    "not_processed_duplicate": "重复申请",
    "not_processed_publication": "要求提供公开出版物",
    "not_processed_excessive": "无正当理由大量反复申请",
    "not_processed_confirmation": "要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_unpaid_fee": "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "carried_forward": "结转下年度继续办理",
}
_ORDER = {row: k for k, row in enumerate(layout.APPLICATION_ROWS["2021"])}
MAX_DISTANCE = 0.35  # share of the national label's characters
_MARGIN = 2  # edits: the runner-up must be at least this much farther
_CJK = re.compile(r"[\u3400-\u9fff]")
_ENUMERATOR = re.compile(
    r"^\s*(?:\d{1,2}\s*[.．、,，]?|[（(]\s*[一二三四五六七八九十]{1,3}\s*[）)])?"
)
_LONGEST = 60  # characters of a cell compared: a longer one is prose, never a row label


@dataclass(frozen=True, slots=True)
class Relabelled:
    cell: int
    read: str
    row: str


def _chinese(text: str) -> str:
    return "".join(_CJK.findall(text))


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def _closest(text: str, rows: list[str]) -> str | None:
    """The row among ``rows`` whose national label ``text`` is close to, and clearly
    closer to than to any other; ``None`` if none is."""
    read = _chinese(text)
    if len(read) < 2 or len(read) > _LONGEST:
        return None
    scored = sorted((distance(read, _chinese(NATIONAL_LABELS[row])), row) for row in rows)
    best, row = scored[0]
    if best > MAX_DISTANCE * len(_chinese(NATIONAL_LABELS[row])):
        return None
    if len(scored) > 1 and scored[1][0] - best < _MARGIN:
        return None
    return row


def _unlike_the_rest(text: str, row: str, missing: list[str]) -> bool:
    """``text`` is far from every missing row but ``row``: more than twice
    :data:`MAX_DISTANCE` of each one's characters differ."""
    read = _chinese(text)
    return all(
        distance(read, _chinese(NATIONAL_LABELS[other]))
        > 2 * MAX_DISTANCE * len(_chinese(NATIONAL_LABELS[other]))
        for other in missing
        if other != row
    )


def relabel(cells: list[str]) -> tuple[list[str], list[Relabelled]]:
    """The cells with misread Table 3 row labels put right, and what was put right."""
    named: list[tuple[int, str]] = []
    unnamed: list[int] = []
    for i, text in enumerate(cells):
        if read_value(text) is not None:
            continue
        form = label_form(text)
        row = layout.application_row(form)
        if row is not None:
            named.append((i, row))
        elif not layout.is_application_group(form) and len(form) <= _LONGEST:
            unnamed.append(i)
    seen = {row for _, row in named}
    found: list[Relabelled] = []
    for (start, before), (end, after) in itertools.pairwise(named):
        missing = [
            row
            for row in layout.APPLICATION_ROWS["2021"][_ORDER[before] + 1 : _ORDER[after]]
            if row in NATIONAL_LABELS and row not in seen
        ]
        between = [i for i in unnamed if start < i < end]
        if not missing or not between or _ORDER[after] <= _ORDER[before]:
            continue
        chosen = [(i, _closest(cells[i], missing)) for i in between]
        picked = [(i, row) for i, row in chosen if row is not None]
        rows = [row for _, row in picked]
        if rows != sorted(set(rows), key=_ORDER.__getitem__):
            continue  # two cells for one row, or out of national order: leave them
        if len(rows) != len(missing) and not all(
            _unlike_the_rest(cells[i], row, missing) for i, row in picked
        ):
            # a missing row left over, which a cell might really be: filed under its
            # neighbour, no identity would see it (a row adds up wherever it is filed)
            continue
        found.extend(Relabelled(i, cells[i], row) for i, row in picked)
    out = list(cells)
    for fix in found:
        prefix = _ENUMERATOR.match(fix.read)
        out[fix.cell] = (prefix.group(0) if prefix else "") + NATIONAL_LABELS[fix.row]
    return out, found
