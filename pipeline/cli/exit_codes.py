"""Exit codes of ``python -m pipeline``, one meaning each (documented in the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: nothing could be done: a source or data directory unreadable, nothing fetched
    FAILED = 1
    #: the command line or the portal config is invalid
    USAGE = 2
    #: another crawl or re-extraction holds the data directory's writer lock
    LOCKED = 3
    #: ``extract``: the document was read but holds no report tables
    NO_TABLES = 4
    #: ``crawl``: some portals failed or were blocked (the others were crawled)
    PARTIAL = 5
    #: ``extract``: the document's tables cannot be read (printed as images, encrypted,
    #: damaged, or its converter is not installed)
    UNREADABLE = 6
    #: interrupted (Ctrl-C, SIGINT)
    INTERRUPTED = 130
    #: terminated (SIGTERM, as sent by systemd and ``timeout``)
    TERMINATED = 143
