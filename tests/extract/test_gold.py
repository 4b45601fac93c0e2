"""Every gold figure of every corpus document, extracted with the same value.

Picks up every file in tests/fixtures/corpus/gold, so a new gold file is tested as is.
"""

from __future__ import annotations

import pytest
import zhconv

from pipeline.extract import extract_document
from tests.corpus import NO_WRONG_ONLY, GoldDocument, as_decimal, gold_documents

DOCUMENTS = gold_documents()
# Figures in a report whose three tables are printed in full.
FULL_REPORT_FIGURES = {"2021": 10 + 25 * 7 + 15, "2019": 22 + 23 * 7 + 15, "pre2019": 0}


def _extract(document: GoldDocument):
    return extract_document(document.read(), source=str(document.path))


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.id for d in DOCUMENTS])
def test_no_figure_differs_from_gold(document: GoldDocument) -> None:
    report = _extract(document)
    wrong = []
    for fact in report.fact_list:
        if fact.key not in document.facts:
            if document.id not in NO_WRONG_ONLY:
                wrong.append((fact.key, "not in gold", fact.raw))
            continue
        if as_decimal(document.facts[fact.key]) != fact.number:
            wrong.append((fact.key, document.facts[fact.key], fact.raw))
    assert wrong == []


@pytest.mark.parametrize(
    "document",
    [d for d in DOCUMENTS if d.id not in NO_WRONG_ONLY],
    ids=[d.id for d in DOCUMENTS if d.id not in NO_WRONG_ONLY],
)
def test_every_gold_figure_is_extracted(document: GoldDocument) -> None:
    report = _extract(document)
    got = {fact.key for fact in report.fact_list}
    assert sorted(set(document.facts) - got) == []


PRE2019 = [d for d in DOCUMENTS if d.gold["template"] == "pre2019"]
PRE2019_GOLD = [d for d in PRE2019 if "pre2019_figures" in d.gold]


@pytest.mark.parametrize("document", PRE2019, ids=[d.id for d in PRE2019])
def test_a_report_before_2019_has_no_canonical_figure(document: GoldDocument) -> None:
    report = _extract(document)
    assert report.fact_list == []
    assert report.meta.national_format == "pre2019"


@pytest.mark.parametrize("document", PRE2019_GOLD, ids=[d.id for d in PRE2019_GOLD])
def test_pre2019_figures_in_full(document: GoldDocument) -> None:
    """Every figure of the statistics table, as printed, in table order, and nothing else."""
    report = _extract(document)
    got = {f"{f.label} [{f.period}]": f for f in report.pre2019_list}
    gold = document.gold["pre2019_figures"]
    assert list(got) == list(gold)
    assert {k: f.number for k, f in got.items()} == {k: as_decimal(v) for k, v in gold.items()}
    units = {f.label: f.unit for f in report.pre2019_list}
    assert units == document.gold.get("pre2019_units", {label: None for label in units})
    marks = {k: f.raw.strip() for k, f in got.items() if f.semantic == "mark"}
    assert marks == {k: v for k, v in document.gold.get("marks", {}).items() if k in gold}


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.id for d in DOCUMENTS])
def test_marks_are_kept_as_printed(document: GoldDocument) -> None:
    report = _extract(document)
    for key, mark in document.gold.get("marks", {}).items():
        fact = report.fact(key)
        assert fact is not None and fact.semantic == "mark" and fact.raw.strip() == mark


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.id for d in DOCUMENTS])
def test_national_format_and_year(document: GoldDocument) -> None:
    report = _extract(document)
    if document.facts or document.gold["template"] == "pre2019":
        assert report.meta.national_format == document.gold["template"]
    assert report.meta.report_year == document.gold["report_year"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.id for d in DOCUMENTS])
def test_status_follows_completeness(document: GoldDocument) -> None:
    report = _extract(document)
    if not document.facts:
        assert report.meta.status == "no_tables"
    elif len(document.facts) == FULL_REPORT_FIGURES[document.gold["template"]]:
        assert report.meta.status == "ok"
    elif not document.gold["complete"]:
        assert report.meta.status == "partial"


def test_every_gold_figure_counted() -> None:
    """The corpus as a whole: all gold figures of fully counted documents, none wrong."""
    total = found = 0
    for document in DOCUMENTS:
        if document.id in NO_WRONG_ONLY:
            continue
        facts = {f.key: f for f in _extract(document).fact_list}
        for key, value in document.facts.items():
            total += 1
            found += key in facts and facts[key].number == as_decimal(value)
    assert total >= 2000  # the corpus is there
    assert found == total


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.id for d in DOCUMENTS])
def test_agency_is_the_printed_one_or_left_out(document: GoldDocument) -> None:
    """Never a sentence fragment or a pronoun (我镇) where the agency should be."""
    agency = _extract(document).meta.agency
    gold = document.gold["agency"]
    gold = zhconv.convert(gold, "zh-cn") if gold else gold
    if document.id in AGENCY_FOUND:
        assert agency == gold
    else:
        assert agency is None or (gold is not None and agency in gold)


# Documents whose printed agency the metadata reader finds (18 of the 23 that print one).
AGENCY_FOUND = frozenset(
    {
        "000",
        "001",
        "004",
        "005",
        "009",
        "010",
        "013",
        "014",
        "018",
        "020",
        "021",
        "025",
        "032",
        "033",
        "035",
        "042",
        "043",
        "044",
    }
)
