"""The project's version (the one source: pyproject reads it from here) and the User-Agent
every request of the pipeline sends."""

from __future__ import annotations

__version__ = "0.1.0"

#: Names the project; operators add their contact URL with ``user_agent`` in the config.
USER_AGENT = (
    f"gov-ogi-pipeline/{__version__} (research crawler for government information-disclosure "
    "annual reports; polite, robots.txt honoured)"
)
