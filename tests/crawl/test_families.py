"""Each family replica crawled end to end: every report and nothing else, the list paged
to its end, and a second run that fetches nothing unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.crawl import State
from pipeline.flows.nightly import nightly as crawl
from tests.family_portals import BUILDERS, Replica
from tests.portals import Site, fast

EXPECTED_FAMILY = {
    "gkmlpt": "gkmlpt",
    "hanweb_xxgk_post": "hanweb_xxgk",
    "hanweb_xxgk_get": "hanweb_xxgk",
    "jpaas": "jpaas",
    "ucap": "ucap",
    "lonsun": "lonsun",
    "pclist": "pclist",
    "slugs": "trs",
}


class Staged(list[Any]):
    def stage(self, data_dir: Path, items: list[Any]) -> None:
        self.extend(items)


def report_rows(data_dir: Path) -> dict[str, Any]:
    state = State(data_dir)
    try:
        return {r.url: r for r in state.rows(kind="report")}
    finally:
        state.close()


def fetched(replica: Replica, path: str) -> int:
    return len([h for h in replica.site.hits(path) if h.status in (200, 304)])


@pytest.mark.parametrize("name", list(BUILDERS))
def test_replica_crawl_finds_every_report_and_nothing_else(serve, tmp_path, name) -> None:
    site = serve(Site())
    replica = BUILDERS[name](site)
    staged = Staged()
    (first,) = crawl(
        [replica.portal()], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert first.completed and first.failed == 0 and first.blocked == 0, first.line()
    assert first.family == EXPECTED_FAMILY[name], first.line()
    assert first.reports_new == len(replica.reports), first.line()
    assert first.reports_listed == len(replica.reports)
    for path in replica.reports:
        assert fetched(replica, path) == 1, path
    for path in replica.decoys:
        assert site.hits(path) == [], path  # look-alikes and other documents: never fetched
    paths = " ".join(f"{h.path} {h.body.decode('utf-8', 'replace')}" for h in site.log)
    for page in replica.listings:
        assert page in paths, page  # paged to the end
    assert {Path(u.split("?")[0]).name for u in report_rows(tmp_path)} == {
        Path(p).name for p in replica.reports
    }
    for path in replica.attachments:
        assert fetched(replica, path) == 1, path
    assert len(staged) >= len(replica.reports) - len(replica.attachments) // 2

    # second night: straight to the remembered 年报 entry; nothing new, nothing refetched
    site.log.clear()
    (second,) = crawl(
        [replica.portal()], tmp_path, stage=staged.stage, politeness_override=fast()
    ).portals
    assert second.completed and second.failed == 0, second.line()
    assert second.reports_new == second.reports_changed == 0, second.line()
    assert second.reports_unchanged == len(replica.reports)
    assert second.how == "remembered"
    gets = [h for h in site.log if h.method == "GET" and h.path != "/robots.txt"]
    assert gets and {h.status for h in gets} == {304}, [(h.path, h.status) for h in gets]
    assert all(h.method == "GET" or "search.jsp" in h.path for h in site.log)
