"""The publishing body's level and kind, read from its name (and the portal's region code),
so researchers can compare like with like: a county government with a county government,
not with a township or a county education bureau. ``unknown`` when the name does not say."""

from __future__ import annotations

import re

import zhconv

LEVELS = ("province", "city", "county", "township", "unknown")
KINDS = (
    "government",  # 人民政府 (and the 管委会 of a zone that governs like one)
    "government_office",  # 人民政府办公室 / 办公厅
    "department",  # 局, 委员会, 办 ... of a government
    "township",  # 乡/镇人民政府
    "subdistrict",  # 街道办事处
    "unknown",
)

_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市")
_TOWNSHIP = re.compile(r"(镇|乡|苏木)(人民政府)?$")
_SUBDISTRICT = re.compile(r"街道(办事处)?$")
_OFFICE = re.compile(r"人民政府办公(室|厅)$")
_GOVERNMENT = re.compile(r"(人民政府|管理委员会|管委会|实验区|新区)$")
_DEPARTMENT = re.compile(r"(局|委员会|委|办公室|办|厅|署|中心|院|站|队|所|处|会)$")
# the body's own administrative level, from the last division its name names
_COUNTY = re.compile(r"(县|(?<!自治)区|旗|特区|林区)")
_CITY = re.compile(r"(市|州|盟|地区)")
_PROVINCE = re.compile(r"(省|自治区)")


def _name(agency: str | None) -> str:
    """The name folded to simplified characters (縣 -> 县, 鎮 -> 镇)."""
    name = (agency or "").strip()
    return zhconv.convert(name, "zh-cn") if name else name


def publisher_kind(agency: str | None) -> str:
    name = _name(agency)
    if not name:
        return "unknown"
    for kind, pattern in (
        ("subdistrict", _SUBDISTRICT),
        ("township", _TOWNSHIP),
        ("government_office", _OFFICE),
        ("government", _GOVERNMENT),
        ("department", _DEPARTMENT),
    ):
        if pattern.search(name):
            return kind
    if re.search(r"(省|市|县|区|旗|州|盟)$", name):
        return "government"  # a place name alone (柯城区, 鄂尔多斯市) stands for its government
    return "unknown"


def publisher_level(agency: str | None, region_code: str | None = None) -> str:
    """The administrative level of the publishing body."""
    name = _name(agency)
    kind = publisher_kind(name)
    if kind in ("township", "subdistrict"):
        return "township"
    if name:
        # the division named last decides: 衢州市柯城区… is a county body, 湛江市… a city one
        head = re.split(r"人民政府|管理委员会|管委会", name)[0] or name
        if name.startswith(_MUNICIPALITIES) and not _COUNTY.search(head[3:]):
            return "province"
        positions = {
            level: max((m.end() for m in pattern.finditer(head)), default=-1)
            for level, pattern in (
                ("county", _COUNTY),
                ("city", _CITY),
                ("province", _PROVINCE),
            )
        }
        level, at = max(positions.items(), key=lambda item: item[1])
        if at >= 0:
            return level
    return _level_of_code(region_code)


def _level_of_code(code: str | None) -> str:
    """A 6-digit division code: XX0000 a province, XXXX00 a city, else a county."""
    if not code or not re.fullmatch(r"\d{6}", code):
        return "unknown"
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"
