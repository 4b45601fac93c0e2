"""The bundled sample portal (``site/``: real report pages from the test corpus, see
``SOURCES.md``) and a static server for it on 127.0.0.1; :mod:`pipeline.flows.demo` runs
the demo on it."""

from pipeline.demo.server import serve_site, site_dir

__all__ = ["serve_site", "site_dir"]
