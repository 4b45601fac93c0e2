"""Find and fetch 政府信息公开工作年度报告 on county portals, politely and resumably.

:func:`crawl_async` walks each portal's 年报 column (found from its start URLs by link
text), follows the pagination of its CMS family, fetches the report pages and their
attachments, and hands every body to a :class:`~pipeline.crawl.sink.Sink`; its state (one
row per URL) lives in ``<data_dir>/state/crawl.sqlite``. The crawler knows nothing of
report tables: :mod:`pipeline.flows.nightly` composes it with the archive, the extractor
and staging.
"""

from typing import TYPE_CHECKING

from pipeline.crawl.config import Politeness, PortalConfig, load_config
from pipeline.crawl.sink import Fetched, Resource, Sink
from pipeline.crawl.state import State, UrlRow
from pipeline.crawl.summary import CrawlSummary, PortalSummary

if TYPE_CHECKING:
    from pipeline.crawl.engine import crawl_async

__all__ = [
    "CrawlSummary",
    "Fetched",
    "Politeness",
    "PortalConfig",
    "PortalSummary",
    "Resource",
    "Sink",
    "State",
    "UrlRow",
    "crawl_async",
    "load_config",
]


def __getattr__(name: str) -> object:
    """:func:`crawl_async`, imported on first use: the engine loads the HTTP client and the
    browser tier, which what reads the state (``status``, the flows' reports) never needs."""
    if name == "crawl_async":
        from pipeline.crawl.engine import crawl_async

        return crawl_async
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
