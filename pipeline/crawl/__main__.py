"""``python -m pipeline.crawl [OPTIONS]``: the same as ``python -m pipeline crawl
[OPTIONS]`` (the logging options ``-v``, ``-q``, ``--log-format``, ``--log-file`` too)."""

from __future__ import annotations

import sys

from pipeline.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["crawl"]:  # ``python -m pipeline.crawl crawl ...`` too
        args = args[1:]
    return cli_main(["crawl", *args])


if __name__ == "__main__":
    raise SystemExit(main())
