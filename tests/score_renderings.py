"""Figures found and wrong per rendering class, against the corpus gold.

    python -m tests.score_renderings

Classes: ``original`` (every corpus document as kept), and the ``glued``, ``spaced`` and
``lines`` renderings of the HTML pages (see tests/make_renderings.py). A canonical figure
is wrong when its key is not in the gold or its value differs; pre-2019 figures are scored
against ``pre2019_figures`` when the extractor reports them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pipeline.extract import extract_document
from tests.corpus import NO_WRONG_ONLY, GoldDocument, as_decimal, gold_documents
from tests.make_renderings import MODES, RENDERINGS

CLASSES = ("original", *MODES)


@dataclass
class Score:
    total: int = 0
    found: int = 0
    wrong: int = 0

    def add(self, other: Score) -> None:
        self.total += other.total
        self.found += other.found
        self.wrong += other.wrong


def pre2019_records(report: object) -> dict[str, Decimal | None]:
    """``label [period]`` -> value of the pre-2019 figures a report carries (none before)."""
    figures = getattr(report, "pre2019_list", None) or []
    return {f"{f.label} [{f.period}]": f.number for f in figures}


def score(content: bytes, document: GoldDocument) -> tuple[Score, Score]:
    """(canonical, pre2019) scores of one rendering of ``document``."""
    canonical = Score(total=len(document.facts))
    try:
        report = extract_document(content, source=str(document.path))
    except MemoryError:  # the un-gluing blow-up before issue 10; run under a ulimit
        print(f"{document.id}: MemoryError", file=sys.stderr)
        return canonical, Score(total=len(document.gold.get("pre2019_figures", {})))
    for fact in report.fact_list:
        expected = document.facts.get(fact.key, "absent")
        if expected == "absent":
            canonical.wrong += document.id not in NO_WRONG_ONLY
        elif as_decimal(expected) != fact.number:  # type: ignore[arg-type]
            canonical.wrong += 1
        else:
            canonical.found += 1
    if "pre2019_figures" not in document.gold:
        return canonical, Score()  # no gold for its statistics table (033)
    gold = document.gold["pre2019_figures"]
    pre = Score(total=len(gold))
    for key, number in pre2019_records(report).items():
        if key not in gold or as_decimal(gold[key]) != number:
            pre.wrong += 1
        else:
            pre.found += 1
    return canonical, pre


def renderings(document: GoldDocument) -> dict[str, Path]:
    paths = {"original": document.path}
    for mode in MODES:
        path = RENDERINGS / f"{document.id}.{mode}.txt"
        if path.exists():
            paths[mode] = path
    return paths


def scores() -> dict[str, dict[str, tuple[Score, Score]]]:
    """Rendering class -> document id -> (canonical, pre2019) scores."""
    table: dict[str, dict[str, tuple[Score, Score]]] = {c: {} for c in CLASSES}
    for document in gold_documents():
        for name, path in renderings(document).items():
            table[name][document.id] = score(path.read_bytes(), document)
    return table


def main() -> None:
    table = scores()
    summary = {}
    for name, per_document in table.items():
        canonical, pre = Score(), Score()
        for c, p in per_document.values():
            canonical.add(c)
            pre.add(p)
        summary[name] = {"documents": len(per_document), "canonical": vars(canonical),
                         "pre2019": vars(pre)}
        print(f"{name:9} {len(per_document):3} documents  canonical found {canonical.found}"
              f"/{canonical.total} wrong {canonical.wrong}   pre2019 found {pre.found}/"
              f"{pre.total} wrong {pre.wrong}")
    for name, per_document in table.items():
        details = {i: f"{c.found}/{c.total}-{c.wrong}w p{p.found}/{p.total}-{p.wrong}w"
                   for i, (c, p) in per_document.items()}
        print(name, json.dumps(details))


if __name__ == "__main__":
    main()
