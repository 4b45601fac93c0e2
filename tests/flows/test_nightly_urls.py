"""One report per page, however the portal spells its URL from night to night."""

from __future__ import annotations

import itertools
from pathlib import Path

from pipeline.flows.nightly import nightly
from pipeline.load import reports
from tests.corpus import CORPUS
from tests.portals import Hit, Reply, Site, article_page, fast, portal

TITLE = "衢州市柯城区人民政府办公室2023年政府信息公开工作年度报告"


def test_a_fresh_session_id_each_night_leaves_one_staged_report(serve, tmp_path: Path) -> None:
    nights = itertools.count(1)

    def listing(hit: Hit) -> Reply:  # every night a new ;jsessionid= and a tracking parameter
        n = next(nights)
        href = f"/r/1.html;jsessionid=SESSION{n:012d}ABCDEF?utm_source=list{n}"
        body = (
            f'<html><meta charset="utf-8"><body><a href="{href}" title="{TITLE}">{TITLE}</a>'
            "<span>2024-01-20</span></body></html>"
        )
        return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"}, etag=False)

    site = Site()
    site.handle("/nb/", listing)
    site.add("/r/1.html", article_page(TITLE, (CORPUS / "raw" / "000.txt").read_bytes()))
    site = serve(site)
    for _ in range(3):
        nightly([portal(site, "/nb/")], tmp_path, politeness_override=fast())
    staged = reports(data_dir=tmp_path)
    assert len(staged) == 1 and staged["url"].iloc[0] == site.url("/r/1.html")
    assert len(site.hits("/r/1.html")) == 3  # asked each night, under one key
    assert [h.status for h in site.hits("/r/1.html")][1:] == [304, 304]
