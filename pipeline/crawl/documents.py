"""Documents: a report page or attachment (or a resource the sink asked for) once
fetched: archived, its attachments queued, its page metadata and outcome recorded, and
handed to the sink."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from pipeline.crawl.fetch import Outcome
from pipeline.crawl.links import (
    attachment_links,
)
from pipeline.crawl.listing import Request
from pipeline.crawl.pagemeta import page_text, read_block, region_mismatch
from pipeline.crawl.portal_run import UNPROCESSED, Job, PortalRun, body_change, decode_html
from pipeline.crawl.state import UrlRow
from pipeline.sniff import looks_like_html

log = logging.getLogger("pipeline.crawl")


class Documents(PortalRun):
    """The report side of a portal's run."""

    async def _document(
        self, job: Job, outcome: Outcome, fetched_at: datetime, previous: UrlRow | None
    ) -> None:
        attachments: list[str] = []
        page: dict[str, object] = {}
        if job.kind == "report" and looks_like_html(outcome.body, outcome.content_type):
            html = decode_html(outcome.body, outcome.content_type)
            attachments = self._enqueue_attachments(job, html, outcome.url)
            page = self._page_meta(html, outcome.url)
        if job.kind == "report":  # kept, so that the page is not parsed again while unchanged
            page["attachments"] = json.dumps(attachments, ensure_ascii=False)
        doc = self._fetched(job, outcome, fetched_at, attachments)
        sha = await self.sink.keep(doc)
        change = body_change(previous, sha)
        if job.kind == "report":
            counter = {"new": "reports_new", "changed": "reports_changed"}.get(
                change, "reports_unchanged"
            )
            setattr(self.summary, counter, getattr(self.summary, counter) + 1)
        elif job.kind == "resource":
            self.summary.resources += 1
        else:
            self.summary.attachments += 1
        extra = {**(UNPROCESSED if change != "unchanged" else {}), **page}
        self._record(
            job,
            outcome,
            status="ok",
            change=change,
            sha=sha,
            fetched_at=fetched_at,
            previous=previous,
            **extra,
        )
        if change != "unchanged" and job.kind != "resource":  # the sink reads those itself
            await self.sink.take(doc, self.summary)
        log.info(
            "event=%s portal=%s url=%s status=%s change=%s bytes=%s",
            job.kind,
            self.portal.name,
            outcome.url,
            outcome.http_status,
            change,
            len(outcome.body),
        )

    def _page_meta(self, html: str, url: str) -> dict[str, object]:
        """The report page's 索引号 / 发布机构 / dates for the state; a 索引号 naming another
        region than the portal's is counted and given as a reason (not a failure)."""
        meta = read_block(page_text(html))
        why = region_mismatch(meta.index_no, self.portal.region_code)
        if why:
            self.summary.region_mismatches += 1
            self.summary.reasons[f"note: {why}"] += 1
            log.info("event=region_mismatch portal=%s url=%s %s", self.portal.name, url, why)
        return {"index_no": meta.index_no, "page_agency": meta.agency, "page_date": meta.date}

    def _enqueue_attachments(self, job: Job, html: str, page_url: str) -> list[str]:
        if not html:
            return []
        found = [u for u in attachment_links(html, page_url) if self.portal.allows(u)]
        for url in found:
            self._enqueue_attachment(job, url, page_url)
        return found

    def _enqueue_attachment(self, job: Job, url: str, page_url: str) -> None:
        request = Request(url, referer=page_url)
        self._enqueue(Job("attachment", request, parent=job.request.key, link=job.link))

    def _report_children(self, job: Job, row: UrlRow, page_url: str) -> None:
        """The attachments of an unchanged report page: those found when its body was
        fetched at the same URL, else read again from its archived body."""
        if row.attachments is not None and (row.final_url or row.url) == page_url:
            for url in json.loads(row.attachments):
                if self.portal.allows(url):
                    self._enqueue_attachment(job, url, page_url)
            return
        body = self.sink.kept(row.sha256 or "")
        if body is not None and looks_like_html(body, row.content_type):
            self._enqueue_attachments(job, decode_html(body, row.content_type), page_url)
