"""Damaged documents: the extractor returns a report with findings, never an exception.

Real corpus documents are cut, spliced and sprinkled with junk by hypothesis; every
result must be a well-formed report: the documented columns, a status, no key twice.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import extract_document
from pipeline.model import FACT_COLUMNS, FINDING_COLUMNS
from tests.corpus import gold_documents

DOCUMENTS = [d.read() for d in gold_documents()]
#: What is sprinkled into documents (also by benchmarks/check_extract_same.py).
JUNK_BYTES = [
    b"|",
    b"||",
    b"\n",
    b"<td>",
    b"</td>",
    b"<tr>",
    b"</table>",
    b"<table>",
    b"rowspan=99",
    b'<td colspan="0">',
    b"\xff\xfe",
    b"\xe4\xb8",
    b"0",
    b"-1",
    b"\xef\xbc\x88",
    b"&nbsp;",
    b"<!--",
    b"<script>",
    "总计".encode(),
    "（六）其他处理".encode(),
    "行政复议".encode(),
]
JUNK = st.sampled_from(JUNK_BYTES)
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    content = bytearray(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(0, 6))):
        where = draw(st.integers(0, max(len(content) - 1, 0)))
        action = draw(st.sampled_from(["cut", "delete", "insert", "duplicate"]))
        if action == "cut":
            del content[where:]
        elif action == "delete":
            del content[where : where + draw(st.integers(1, 400))]
        elif action == "insert":
            content[where:where] = draw(JUNK)
        else:
            content[where:where] = content[where : where + draw(st.integers(1, 400))]
    return bytes(content)


def _well_formed(content: bytes) -> None:
    report = extract_document(content, source="fuzz")
    assert report.meta.status in ("ok", "partial", "no_tables", "image_only", "unreadable")
    assert list(report.facts.columns) == list(FACT_COLUMNS)
    assert list(report.findings.columns) == list(FINDING_COLUMNS)
    if report.meta.status == "no_tables":
        assert report.fact_list == []
    keys = [f.key for f in report.fact_list]
    assert len(keys) == len(set(keys))


@FUZZ
@given(damaged())
def test_damaged_corpus_documents_never_raise(content: bytes) -> None:
    _well_formed(content)


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(content: bytes) -> None:
    _well_formed(content)


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list("|\n 0123456789/-—规章总计其他（六）三、<>td")), max_size=600
    )
)
def test_table_like_noise_never_raises(text: str) -> None:
    _well_formed(text.encode("utf-8"))
