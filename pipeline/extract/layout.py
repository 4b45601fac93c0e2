"""The national table layouts: which rows and columns exist, and how labels name them.

Row labels are matched on :func:`pipeline.extract.cells.label_form`, so full-width
brackets, stray spaces and traditional characters are already folded away here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

# The canonical keys and labels, re-exported: the extractor reads them as layout.X.
from pipeline.canonical import ACTIVE_COLUMN_LABELS as ACTIVE_COLUMN_LABELS
from pipeline.canonical import APPLICANT_COLUMN_LABELS as APPLICANT_COLUMN_LABELS
from pipeline.canonical import APPLICANT_COLUMNS as APPLICANT_COLUMNS
from pipeline.canonical import REVIEW_COLUMN_LABELS as REVIEW_COLUMN_LABELS
from pipeline.canonical import REVIEW_COLUMNS as REVIEW_COLUMNS
from pipeline.canonical import REVIEW_ROW_LABELS as REVIEW_ROW_LABELS
from pipeline.canonical import REVIEW_ROWS as REVIEW_ROWS

Format = Literal["2021", "2019"]

# Table 2 (主动公开): rows and their columns, per national format.
ACTIVE_COLUMNS: dict[Format, dict[str, tuple[str, ...]]] = {
    "2021": {
        "regulations": ("issued", "repealed", "in_force"),
        "normative_documents": ("issued", "repealed", "in_force"),
        "licensing": ("decisions",),
        "penalty": ("decisions",),
        "coercion": ("decisions",),
        "fees": ("amount_10k_yuan",),
    },
    "2019": {
        "regulations": ("made", "published", "total_published"),
        "normative_documents": ("made", "published", "total_published"),
        "licensing": ("previous_count", "change", "decisions"),
        "other_services": ("previous_count", "change", "decisions"),
        "penalty": ("previous_count", "change", "decisions"),
        "coercion": ("previous_count", "change", "decisions"),
        "fees": ("previous_count", "change"),
        "procurement": ("count", "amount"),
    },
}
ACTIVE_ROW_LABELS = {
    "规章": "regulations",
    "行政规范性文件": "normative_documents",
    "规范性文件": "normative_documents",
    "行政许可": "licensing",
    "其他对外管理服务事项": "other_services",
    "行政处罚": "penalty",
    "行政强制": "coercion",
    "行政事业性收费": "fees",
    "行政事业型收费": "fees",  # a typo seen in real reports
    "政府集中采购": "procurement",
}
_ENUMERATOR = re.compile(
    r"^(?:\([一二三四五六七八九十]{1,2}\)|[一二三四五六七八九十]{1,2}、|\d{1,2}[.、])"
)
_ANNOTATION = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】")
MAX_ADDED_WORD = 4  # "规章类", "行政许可事项": a short local word beside a national label
_CJK_WORD = re.compile(r"[\u3400-\u9fff]+")


@lru_cache(maxsize=8192)
def without_annotations(form: str) -> str:
    """A label without the local annotations in brackets after its words, of any length
    ("规章(含本级政府规章)" -> "规章"), and without the rest of a bracket the line broke
    off; a leading enumerator such as "(二)" stays."""
    enumerator = _ENUMERATOR.match(form)
    head = enumerator.group() if enumerator else ""
    rest = form[len(head) :]
    previous = None
    while previous != rest:  # nested brackets, innermost first
        previous, rest = rest, _ANNOTATION.sub("", rest)
    for opening in ("(", "[", "【"):
        if opening in rest:
            rest = rest[: rest.index(opening)]
    return head + rest


@lru_cache(maxsize=8192)
def active_row(form: str) -> str | None:
    """The Table 2 row a label names: a national label, maybe with an annotation in
    brackets or a short local word added; never a label named only in the annotation."""
    stem = without_annotations(form)
    enumerator = _ENUMERATOR.match(stem)
    if enumerator:
        stem = stem[enumerator.end() :]
    if stem in ACTIVE_ROW_LABELS:
        return ACTIVE_ROW_LABELS[stem]
    if not stem or len(stem) > max(map(len, ACTIVE_ROW_LABELS)) + MAX_ADDED_WORD:
        return None
    named = [
        label
        for label in ACTIVE_ROW_LABELS
        if (stem.startswith(label) or stem.endswith(label)) and label in stem
    ]
    if not named:
        return None
    label = max(named, key=len)
    added = stem.replace(label, "", 1)
    if (
        len(added) > MAX_ADDED_WORD
        or _CJK_WORD.fullmatch(added) is None
        or any(other in added for other in ACTIVE_ROW_LABELS)
    ):
        return None  # not a word: marks or figures glued to the label ("规章///")
    return ACTIVE_ROW_LABELS[label]


#: Money figures: decimals, kept apart from the integer counts.
MONEY_CELLS = frozenset({("fees", "amount_10k_yuan"), ("procurement", "amount")})

# Table 3 (收到和处理申请): outcome rows, per national format.
_DENIED = (
    "denied_state_secret",
    "denied_prohibited_by_law",
    "denied_three_safeties",
    "denied_third_party",
    "denied_internal_affairs",
    "denied_process_info",
    "denied_enforcement_files",
    "denied_inquiry",
)
_UNAVAILABLE = ("unavailable_not_held", "unavailable_needs_creation", "unavailable_unclear")
_NOT_PROCESSED = (
    "not_processed_petition",
    "not_processed_duplicate",
    "not_processed_publication",
    "not_processed_excessive",
    "not_processed_confirmation",
)
OTHER_2021 = ("other_no_correction", "other_unpaid_fee", "other_other")
OUTCOME_ROWS: dict[Format, tuple[str, ...]] = {
    "2021": ("granted", "partially_granted", *_DENIED, *_UNAVAILABLE, *_NOT_PROCESSED, *OTHER_2021),
    "2019": ("granted", "partially_granted", *_DENIED, *_UNAVAILABLE, *_NOT_PROCESSED, "other"),
}
APPLICATION_ROWS: dict[Format, tuple[str, ...]] = {
    fmt: ("new_received", "carried_over", *rows, "total_handled", "carried_forward")
    for fmt, rows in OUTCOME_ROWS.items()
}

# Keywords that name a Table 3 row, tried in order (部分公开 before 予以公开 and so on).
_APPLICATION_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new_received", ("本年新收",)),
    ("carried_over", ("上年结转",)),
    ("carried_forward", ("结转下年",)),
    ("partially_granted", ("部分公开",)),
    ("granted", ("予以公开",)),
    ("denied_state_secret", ("国家秘密",)),
    ("denied_prohibited_by_law", ("禁止公开",)),
    ("denied_three_safeties", ("三安全一稳定",)),
    ("denied_third_party", ("第三方合法权益",)),
    ("denied_internal_affairs", ("内部事务",)),
    ("denied_process_info", ("过程性信息",)),
    ("denied_enforcement_files", ("行政执法案卷",)),
    ("denied_inquiry", ("行政查询事项",)),
    ("unavailable_not_held", ("不掌握",)),
    ("unavailable_needs_creation", ("另行制作",)),
    ("unavailable_unclear", ("补正后申请内容", "仍不明确")),
    ("not_processed_petition", ("信访举报投诉",)),
    ("not_processed_duplicate", ("重复申请",)),
    ("not_processed_publication", ("公开出版物",)),
    ("not_processed_excessive", ("大量反复申请",)),
    ("not_processed_confirmation", ("重新出具",)),
    ("other_no_correction", ("逾期不补正",)),
    ("other_unpaid_fee", ("缴纳费用", "收费通知")),
)
_OTHER_OTHER = re.compile(r"^(3[.、]?)?其他$")
_TOTAL_HANDLED = re.compile(r"^(\(七\)|七、)?总计$")
_OTHER_GROUP = re.compile(r"^(\(六\)|六、)其他(处理)?$|^其他处理$")
_GROUPS = ("本年度办理结果", "不予公开", "无法提供", "不予处理")

# Table 4 (行政复议、行政诉讼): 15 figures in national order.
REVIEW_CELLS = tuple((row, column) for row in REVIEW_ROWS for column in REVIEW_COLUMNS)

# Words that only one of the two national formats prints.
FORMAT_SIGNALS: dict[Format, tuple[str, ...]] = {
    "2019": (
        "本年新制作数量",
        "本年新公开数量",
        "对外公开总数量",
        "上一年项目数量",
        "其他对外管理服务事项",
        "采购项目数量",
        "采购总金额",
        "政府集中采购",
        "第二十条第(九)项",
    ),
    "2021": (
        "本年制发件数",
        "本年废止件数",
        "现行有效件数",
        "本年处理决定数量",
        "本年收费金额",
        "逾期不补正",
        "缴纳费用",
    ),
}

MAX_LABEL_LENGTH = 80  # longer cells are prose, never a row label
_SENTENCE_END = re.compile(r"[。；！？;!?]")


def is_prose(form: str) -> bool:
    """A cell of running text, never a label: too long, or a sentence ends in it."""
    return len(form) > MAX_LABEL_LENGTH or _SENTENCE_END.search(form) is not None


@lru_cache(maxsize=8192)
def application_row(form: str) -> str | None:
    """The Table 3 row a label names, if it names one by its own words (not by the words
    of an annotation in brackets)."""
    if len(form) > MAX_LABEL_LENGTH:
        return None
    form = without_annotations(form)
    for row, keywords in _APPLICATION_KEYWORDS:
        if any(word in form for word in keywords):
            return row
    return None


def is_other_other(form: str) -> bool:
    return _OTHER_OTHER.match(without_annotations(form)) is not None


def is_total_handled(form: str) -> bool:
    return _TOTAL_HANDLED.match(without_annotations(form)) is not None


def is_other_group(form: str) -> bool:
    return _OTHER_GROUP.match(without_annotations(form)) is not None


@lru_cache(maxsize=8192)
def is_application_group(form: str) -> bool:
    form = without_annotations(form)
    return len(form) <= 12 and any(word in form for word in _GROUPS)


_COLUMN_WORDS = frozenset(
    {
        *APPLICANT_COLUMN_LABELS.values(),
        *ACTIVE_COLUMN_LABELS.values(),
        "法人或其他组织",
        "申请人情况",
        "信息内容",
        *REVIEW_COLUMN_LABELS.values(),
        "行政复议",
        "行政诉讼",
    }
)


def is_column_word(form: str) -> bool:
    return form in _COLUMN_WORDS


@lru_cache(maxsize=8192)
def could_be_label(form: str) -> bool:
    """Whether a cell could start or name a row, a group, a heading or a column by itself
    (a numbered item, a national label, a table heading): then it is never the wrapped rest
    of the label before it."""
    return (
        _ENUMERATOR.match(form) is not None
        or form.startswith("其中")
        or is_prose(form)
        or application_row(form) is not None
        or active_row(form) is not None
        or is_application_group(form)
        or is_other_group(form)
        or is_other_other(form)
        or is_total_handled(form)
        or is_boundary(form)
        or is_review_header(form)
        or form in _COLUMN_WORDS
    )


# Section anchors: where each table begins and where the tables end.
@lru_cache(maxsize=8192)
def starts_active(form: str) -> bool:
    return form.startswith(("第二十条", "信息内容")) or (
        len(form) <= 20 and "主动公开政府信息情况" in form
    )


@lru_cache(maxsize=8192)
def starts_applications(form: str) -> bool:
    return (
        "勾稽关系" in form
        or form == "申请人情况"
        or (len(form) <= 30 and "收到和处理政府信息公开申请" in form)
    )


_SECTION_NUMBER = re.compile(r"^[一二三四五六七八九十]{1,2}、")


@lru_cache(maxsize=8192)
def starts_reviews(form: str) -> bool:
    if form in ("行政复议", "行政复议情况"):
        return True
    return (
        len(form) <= 40
        and _SECTION_NUMBER.match(form) is not None
        and "复议" in form
        and ("诉讼" in form or form.startswith("四、"))
    )


_REVIEW_HEADER_WORDS = ("结果维持", "结果纠正", "尚未审结", "复议后起诉", "未经复议", "维持")


@lru_cache(maxsize=8192)
def is_review_header(form: str) -> bool:
    """A heading cell of Table 4 (its column and case-type headings)."""
    return any(word in form for word in _REVIEW_HEADER_WORDS)


@lru_cache(maxsize=8192)
def ends_tables(form: str) -> bool:
    return len(form) <= 40 and (
        form.startswith("五、") or "存在的主要问题" in form or form.startswith("六、其他需要")
    )


@lru_cache(maxsize=8192)
def is_boundary(form: str) -> bool:
    """Where one table starts or the tables end."""
    return (
        starts_active(form)
        or starts_applications(form)
        or starts_reviews(form)
        or ends_tables(form)
    )


# A format's words and the rest of the line: matched over the forms joined by line
# breaks (forms hold no white space), it finds each form that prints one once.
_SIGNAL_PATTERNS = {
    fmt: re.compile(f"(?:{'|'.join(map(re.escape, words))})[^\n]*")
    for fmt, words in FORMAT_SIGNALS.items()
}


def detect_format(forms: list[str]) -> Format | None:
    """The national format whose own words the cells print more often (in more cells)."""
    joined = "\n".join(forms)  # two regex passes instead of two searches per form
    votes = {fmt: len(pattern.findall(joined)) for fmt, pattern in _SIGNAL_PATTERNS.items()}
    if votes["2019"] == votes["2021"]:
        return None
    return "2019" if votes["2019"] > votes["2021"] else "2021"
