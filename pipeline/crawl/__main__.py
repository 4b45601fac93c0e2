"""``python -m pipeline.crawl [-v] [OPTIONS]``: the same as ``python -m pipeline [-v] crawl
[OPTIONS]`` (``-v``/``--verbose`` may come anywhere)."""

from __future__ import annotations

import sys

from pipeline.cli import main as cli_main

_VERBOSE = ("-v", "--verbose")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["crawl"]:  # ``python -m pipeline.crawl crawl ...`` too
        args = args[1:]
    verbose = [a for a in args if a in _VERBOSE][:1]
    return cli_main([*verbose, "crawl", *(a for a in args if a not in _VERBOSE)])


if __name__ == "__main__":
    raise SystemExit(main())
