"""The one terminal console of the process (stderr), shared by the log handler and the
progress bars so that a log line is printed above a live bar instead of through it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_console: Console | None = None


def console() -> Console:
    """The process's stderr console (rich resolves ``sys.stderr`` at every write)."""
    global _console
    if _console is None:
        from rich.console import Console  # here: off a terminal, rich (~35 ms) is never loaded

        _console = Console(stderr=True)
    return _console


def stderr_is_terminal() -> bool:
    """Progress bars only on a terminal: never in cron mail, journald or a log file."""
    return sys.stderr.isatty()
