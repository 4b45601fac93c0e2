"""The corpus copy in tests/fixtures must match ../shared/corpus (and the pre-2019 reports
of ../shared/corpus-pre2019, moved into the same folders) whenever they exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS

SHARED_ROOT = Path(__file__).resolve().parents[2] / "shared"
SHARED = SHARED_ROOT / "corpus"
SHARED_PRE2019 = SHARED_ROOT / "corpus-pre2019"


@pytest.mark.parametrize("shared_corpus", [SHARED, SHARED_PRE2019], ids=["corpus", "pre2019"])
@pytest.mark.parametrize("folder", ["raw", "gold"])
def test_fixture_copy_matches_shared_corpus(shared_corpus: Path, folder: str) -> None:
    if not shared_corpus.is_dir():
        pytest.skip(f"{shared_corpus} is not beside the project")
    shared = {p.name: p.read_bytes() for p in (shared_corpus / folder).iterdir() if p.is_file()}
    assert shared, f"{shared_corpus / folder} is empty"
    ours = {p.name: p.read_bytes() for p in (CORPUS / folder).iterdir() if p.is_file()}
    missing = sorted(set(shared) - set(ours))
    differing = sorted(name for name in set(shared) & set(ours) if shared[name] != ours[name])
    assert missing == [], f"copy these from {shared_corpus / folder}: {missing}"
    assert differing == [], f"these differ from {shared_corpus / folder}: {differing}"
