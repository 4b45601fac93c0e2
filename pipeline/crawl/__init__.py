"""Find and fetch 政府信息公开工作年度报告 on county portals, politely and resumably.

``crawl(portals, data_dir)`` walks each portal's 年报 column (found from its start URLs by
link text), follows the pagination of its CMS family, fetches the report pages and their
attachments into the raw archive (:mod:`pipeline.archive`), extracts and stages each new
or changed report, and keeps its state in ``<data_dir>/state/crawl.sqlite``.
"""

from pipeline.crawl.config import ConfigError, Politeness, PortalConfig, load_config
from pipeline.crawl.engine import CrawlSummary, PortalSummary, crawl, crawl_async
from pipeline.crawl.state import CrawlLocked

__all__ = [
    "ConfigError",
    "CrawlLocked",
    "CrawlSummary",
    "Politeness",
    "PortalConfig",
    "PortalSummary",
    "crawl",
    "crawl_async",
    "load_config",
]
