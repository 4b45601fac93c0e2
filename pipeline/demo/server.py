"""A tiny static HTTP server for the sample portal, bound to 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any


def site_dir() -> Path:
    return Path(str(resources.files("pipeline.demo").joinpath("site")))


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.extensions_map = {
            ".html": "text/html; charset=utf-8",
            ".txt": "text/plain; charset=utf-8",
            "": "application/octet-stream",
        }
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the crawler logs what it fetches


@contextlib.contextmanager
def serve_site(port: int = 0, directory: Path | None = None) -> Iterator[str]:
    """Serve ``directory`` (default: the bundled site) on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_Handler, directory=str(directory or site_dir()))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
