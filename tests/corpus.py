"""The bundled corpus: real report documents and their hand-checked gold figures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

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
