"""Reading one table cell: its label form for matching, or its figure.

Small pure functions; everything here is cached because real reports repeat the same
few hundred cell texts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import zhconv

from pipeline.model import Semantic

# Printed "no figure" marks: not applicable, none, dash, slash and underscore variants.
MARKS = frozenset({"/", "\\", "-", "--", "—", "——", "–", "―", "‐", "－", "－－", "无", "_"})
# Any short run of dashes, slashes or underscores ("／", "__", "— —", "---") is a mark too.
_MARK_RUN = re.compile(r"^[-_/\\—–―‐－─━～~]{1,6}$")
_BLANKS = "\u00a0\u3000\u200b\ufeff\t\r\n "
_NUMBER = re.compile(
    r"""^(?P<sign>[+-])?
        (?P<digits>\d{1,3}(?:,\d{3})+|\d+)
        (?P<fraction>\.\d+)?
        (?P<unit>万元|亿元|元|件|项|个|条|宗|次|人次|户)?$""",
    re.VERBOSE,
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class CellValue:
    """What a value cell says: a number, a blank, or a mark such as "/"."""

    semantic: Semantic
    raw: str
    number: Decimal | None = None
    unit: str | None = None
    #: ``number`` as an int when it is a whole number (set by :func:`read_value`, which
    #: is cached: read once per cell text rather than for every figure emitted)
    integer: int | None = field(default=None, compare=False, repr=False)

    @property
    def is_integral(self) -> bool:
        if self.integer is not None:
            return True
        return self.number is not None and self.number == self.number.to_integral_value()


#: Integer digits of the longest figure read (Parquet keeps 18 for counts, 20 for money).
MAX_DIGITS = 18


@lru_cache(maxsize=65536)
def read_value(raw: str) -> CellValue | None:
    """Read a cell as a figure; ``None`` when the cell is text (a label or heading)."""
    text = raw.strip(_BLANKS)
    if not text:
        return CellValue("blank", raw)
    folded = unicodedata.normalize("NFKC", text)
    if folded in MARKS or text in MARKS or _MARK_RUN.match("".join(folded.split())):
        return CellValue("mark", raw)
    match = _NUMBER.match(folded)
    if match is None:
        return None
    digits = match["digits"].replace(",", "")
    if len(digits) > MAX_DIGITS:  # no count or amount is this long: digits run together
        return CellValue("number", raw, None, match["unit"])
    try:
        number = Decimal(f"{match['sign'] or ''}{digits}{match['fraction'] or ''}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        return None
    integer = int(number) if number == number.to_integral_value() else None
    return CellValue("number", raw, number, match["unit"], integer)


@lru_cache(maxsize=65536)
def label_form(raw: str) -> str:
    """The form labels are matched in: NFKC (full-width to ASCII), no white space,
    simplified characters, one kind of quote."""
    text = unicodedata.normalize("NFKC", raw)
    text = _SPACES.sub("", text).strip(_BLANKS).lstrip("#*>")  # markdown heading marks
    if any(ord(ch) > 0x2E7F for ch in text):
        text = zhconv.convert(text, "zh-cn")
    return text.replace("“", '"').replace("”", '"').replace("〞", '"').replace("〝", '"')
