"""``python -m pipeline.crawl``: the crawl command alone (as ``python -m pipeline crawl``)."""

from __future__ import annotations

import argparse
import logging
import sys

from pipeline.crawl.command import register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.crawl")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    raw = list(sys.argv[1:] if argv is None else argv)
    if not raw or raw[0] != "crawl":
        raw = ["crawl", *raw] if not raw or raw[0] not in ("-v", "--verbose") else raw
    args = parser.parse_args(raw)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
