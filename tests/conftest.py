from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.stage import compact, stage_reports
from tests.gold_items import gold_item

#: Real reports with hand-checked figures: 平潭 2020/2021/2022 (one agency, three years),
#: 柯城区 2023 (the seed), 上海 2019 (2019 format, blanks), 016 (year not stated).
DOCS = ("044", "001", "043", "000", "021", "016")


@pytest.fixture()
def staged(tmp_path: Path) -> Path:
    """The gold reports staged and compacted (published: plain Parquet readers see them)."""
    stage_reports(tmp_path, [gold_item(doc) for doc in DOCS])
    compact(tmp_path)
    return tmp_path


# the loopback portal server, for the crawler's, the flows' and the commands' tests
from tests.portals import serve  # noqa: E402, F401
