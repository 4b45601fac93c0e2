"""Notebook-facing calls (stub)."""

from __future__ import annotations

from pipeline.model import Report


def extract(source: str) -> Report:
    raise NotImplementedError
