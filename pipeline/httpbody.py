"""HTTP response bodies read with a hard cap on what they decode to.

httpx decodes each network chunk in full before the caller can count it, so a 7 KB
``Content-Encoding: gzip, gzip`` response inflates to gigabytes in one step. Here the raw
bytes are decoded by zlib with ``max_length``, a piece of at most :data:`PIECE` bytes at a
time through every coding, and the decoded bytes are counted as they come out: a body
stops at ``limit`` with memory bounded by the limit, whatever the compression ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import httpx

__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "BoundedDecoder", "UndecodableBody", "read_body"]

#: What we ask for: the codings decoded here (no br, zstd: no bounded decoder for them).
ACCEPT_ENCODING = "gzip, deflate"
PIECE = 64 * 1024  # decoded bytes per zlib call
MAX_CODINGS = 3  # "gzip, gzip" is already unusual; more is an attack
_REFUSED = frozenset({"br", "zstd", "compress", "x-compress"})


class BodyTooLarge(Exception):
    """The body is (or decodes to) more than the limit."""


class UndecodableBody(Exception):
    """A content coding we did not ask for, too many of them, or corrupt data."""


class _Inflate:
    """One gzip or deflate layer; never returns more than :data:`PIECE` bytes per piece."""

    def __init__(self, coding: str) -> None:
        self.gzip = coding in ("gzip", "x-gzip")
        self.inflater = zlib.decompressobj(zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS)
        self.started = False
        self.done = False  # end of the stream, or nothing more is wanted from this layer

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self.started and data and not self.gzip:
            self._sniff_raw_deflate(data)
        while data and not self.done:
            try:
                out = self.inflater.decompress(data, PIECE)
            except zlib.error as exc:
                raise UndecodableBody(f"corrupt compressed body: {exc}") from None
            # input zlib could not take within the cap waits here, not in a growing buffer
            data = self.inflater.unconsumed_tail
            self.done = self.inflater.eof  # bytes after the end are ignored, never buffered
            if out:
                yield out
            if len(out) == PIECE and not data and not self.done:
                data = b""  # more output may be pending inside zlib: ask for it
                yield from self._drain()

    def _drain(self) -> Iterator[bytes]:
        while not self.done:
            out = self.inflater.decompress(b"", PIECE)
            self.done = self.inflater.eof
            if out:
                yield out
            if len(out) < PIECE:
                return

    def _sniff_raw_deflate(self, data: bytes) -> None:
        """``deflate`` is zlib-wrapped by the RFC and raw deflate on many servers."""
        self.started = True
        try:
            zlib.decompressobj().decompress(data[:2])
        except zlib.error:
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)


def _codings(values: Iterable[str]) -> list[str]:
    """The codings to undo, in the order to undo them (the last applied first)."""
    codings = [v.strip().lower() for v in values if v.strip()]
    refused = [c for c in codings if c in _REFUSED]
    if refused:
        raise UndecodableBody(f"Content-Encoding {refused[0]} was not asked for")
    # unknown tokens ("identity", "utf-8" from misconfigured servers) are no coding: as httpx
    layers = [c for c in codings if c in ("gzip", "x-gzip", "deflate")]
    if len(layers) > MAX_CODINGS:
        raise UndecodableBody(f"{len(layers)} content codings (at most {MAX_CODINGS})")
    return layers[::-1]


class BoundedDecoder:
    """Decodes raw body bytes through the response's content codings, counting what comes
    out; :class:`BodyTooLarge` as soon as the decoded body passes ``limit``."""

    def __init__(self, content_encodings: Iterable[str], limit: int) -> None:
        self.layers = [_Inflate(c) for c in _codings(content_encodings)]
        self.limit = limit
        self.size = 0
        self.parts: list[bytes] = []

    def feed(self, raw: bytes) -> None:
        for piece in self._through(raw, 0):
            self.size += len(piece)
            if self.size > self.limit:
                self.parts.clear()
                raise BodyTooLarge(f"body decodes to over {self.limit} bytes")
            self.parts.append(piece)

    def _through(self, data: bytes, depth: int) -> Iterator[bytes]:
        if depth == len(self.layers):
            yield data
            return
        layer = self.layers[depth]
        for piece in layer.feed(data):
            yield from self._through(piece, depth + 1)
            if depth + 1 < len(self.layers) and self.layers[depth + 1].done:
                layer.done = True  # the inner stream ended: what this layer adds is ignored
                return

    def body(self) -> bytes:
        return b"".join(self.parts)


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed ``response``, at most ``limit`` bytes raw or decoded."""
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"Content-Length {declared} > {limit}")
    codings = response.headers.get_list("content-encoding", split_commas=True)
    decoder = BoundedDecoder(codings, limit)
    raw_size = 0
    async for raw in response.aiter_raw():
        raw_size += len(raw)
        if raw_size > limit:  # data after a compressed stream's end is read, not kept
            raise BodyTooLarge(f"body over {limit} bytes")
        decoder.feed(raw)
    return decoder.body()
