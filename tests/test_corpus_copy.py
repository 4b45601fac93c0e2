"""The corpus copy in tests/fixtures must match ../shared/corpus whenever it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import CORPUS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpus is not beside the project")
@pytest.mark.parametrize("folder", ["raw", "gold"])
def test_fixture_copy_matches_shared_corpus(folder: str) -> None:
    shared = {p.name: p.read_bytes() for p in (SHARED / folder).iterdir() if p.is_file()}
    assert shared, f"{SHARED / folder} is empty"
    ours = {p.name: p.read_bytes() for p in (CORPUS / folder).iterdir() if p.is_file()}
    missing = sorted(set(shared) - set(ours))
    differing = sorted(name for name in set(shared) & set(ours) if shared[name] != ours[name])
    assert missing == [], f"copy these from {SHARED / folder}: {missing}"
    assert differing == [], f"these differ from {SHARED / folder}: {differing}"
