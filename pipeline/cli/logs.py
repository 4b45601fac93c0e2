"""Logging of every command: level from ``-v``/``-q``, text or JSON lines, stderr or a file.

On a terminal, log lines go through the shared rich console (:mod:`pipeline.terminal`)
so that they print above the progress bars; elsewhere they are plain lines on stderr.
httpx logs every request at INFO: that is noise unless ``-v`` is given.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from pipeline.logsafe import printable
from pipeline.terminal import console, stderr_is_terminal

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: marks the handler this module installed, so that a second call replaces it
_MARK = "_ogi_pipeline_handler"


def level_for(verbose: int, quiet: int) -> int:
    """INFO by default; each ``-v`` one level down (DEBUG), each ``-q`` one level up."""
    return min(logging.CRITICAL, max(logging.DEBUG, logging.INFO + 10 * (quiet - verbose)))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message; ``event``
    when the message starts with ``event=NAME`` (the crawl's structured lines); ``exc``
    with the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if message.startswith("event="):
            doc["event"] = message.split(None, 1)[0][len("event=") :]
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` is at the time of the record."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _Console(logging.Handler):
    """Log lines printed through the shared rich console: above any live progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            console().out(self.format(record), highlight=False)
        except Exception:
            self.handleError(record)


def handler_for(log_file: Path | None) -> logging.Handler:
    """The handler: the file (appended), else the console on a terminal, else stderr.
    Raises OSError when the file cannot be opened."""
    if log_file is not None:
        return logging.FileHandler(log_file, encoding="utf-8")
    if stderr_is_terminal():
        return _Console()
    return _Stderr()


class _Printable(logging.Filter):
    """Every text argument of every record made safe (:func:`~pipeline.logsafe.printable`):
    titles, URLs and reasons come from servers we do not control, whichever module logs
    them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.args:
            if isinstance(record.msg, str):
                record.msg = printable(record.msg, limit=2000)
        elif isinstance(record.args, tuple):
            record.args = tuple(
                printable(a, limit=500) if isinstance(a, str) else a for a in record.args
            )
        return True


def configure(
    *, verbose: int = 0, quiet: int = 0, fmt: str = "text", log_file: Path | None = None
) -> None:
    """Install the pipeline's one log handler on the root logger (replacing an earlier one)."""
    handler = handler_for(log_file)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_Printable())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level_for(verbose, quiet))
    # one INFO line per HTTP request: only with -v; httpcore's wire traces only with -vv
    logging.getLogger("httpx").setLevel(logging.INFO if verbose >= 1 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
