"""The offline demo: a bundled sample portal served on 127.0.0.1, crawled, extracted, staged.

``python -m pipeline demo`` needs no internet: :func:`run_demo` serves ``site/`` (real
report pages from the test corpus, see ``SOURCES.md``) on the loopback interface, crawls it
with the real crawler (which extracts and stages each report), and summarises the staged
Parquet data.
"""

from pipeline.demo.run import DEFAULT_PORT, DemoError, DemoResult, demo_portals, run_demo
from pipeline.demo.server import serve_site

__all__ = [
    "DEFAULT_PORT",
    "DemoError",
    "DemoResult",
    "demo_portals",
    "run_demo",
    "serve_site",
]
