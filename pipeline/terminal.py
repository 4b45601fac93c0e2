"""The one terminal console of the process (stderr), shared by the log handler and the
progress bars so that a log line is printed above a live bar instead of through it."""

from __future__ import annotations

import sys

from rich.console import Console

_console: Console | None = None


def console() -> Console:
    """The process's stderr console (rich resolves ``sys.stderr`` at every write)."""
    global _console
    if _console is None:
        _console = Console(stderr=True)
    return _console


def stderr_is_terminal() -> bool:
    """Progress bars only on a terminal: never in cron mail, journald or a log file."""
    return sys.stderr.isatty()
