"""The bundled corpus: real report documents and their hand-checked gold figures."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pipeline.model import Fact

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"

# Documents whose figures count for "no wrong figure" only (see the gold notes): machine
# conversions of PDFs that lost labels (020, 028). 001 (cells run together) left this list
# with issue 10: every one of its gold figures is read, and nothing else.
NO_WRONG_ONLY = frozenset({"020", "028"})


@dataclass(frozen=True)
class GoldDocument:
    id: str
    path: Path
    gold: dict

    @property
    def facts(self) -> dict[str, int | float | None]:
        return self.gold["facts"]

    def read(self) -> bytes:
        return self.path.read_bytes()

    def wrong_figures(self, facts: Iterable[Fact]) -> list[str]:
        """The figures of ``facts`` that gold does not have, or has as another number
        (``key: read raw, gold value``); a blank is right only where gold has none."""
        return [
            f"{f.key}: read {f.raw!r}, gold {self.facts.get(f.key, 'absent')}"
            for f in facts
            if f.key not in self.facts or as_decimal(self.facts[f.key]) != f.number
        ]


def gold_documents() -> list[GoldDocument]:
    documents = []
    for gold_path in sorted((CORPUS / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        matches = sorted((CORPUS / "raw").glob(f"{gold_path.stem}.*"))
        assert len(matches) == 1, f"gold {gold_path.name} has {len(matches)} documents"
        documents.append(GoldDocument(gold_path.stem, matches[0], gold))
    return documents


def as_decimal(value: int | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))
