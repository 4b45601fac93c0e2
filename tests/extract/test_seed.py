"""The seed report (000, 柯城区 2023) extracts fully with every identity passing."""

from __future__ import annotations

from pipeline.extract import extract_document
from tests.corpus import CORPUS


def test_seed_report_is_complete_and_every_identity_passes() -> None:
    report = extract_document((CORPUS / "raw" / "000.txt").read_bytes(), source="000.txt")
    assert report.meta.status == "ok"
    assert report.meta.national_format == "2021"
    assert report.meta.report_year == 2023
    assert report.meta.agency == "衢州市柯城区人民政府办公室"
    assert report.meta.index_no == "1133080257773966XH/2024-81780"
    assert report.meta.published == "2024-01-29"
    assert report.meta_frame.loc[0, "index_no"] == "1133080257773966XH/2024-81780"
    assert len(report.fact_list) == 200
    identities = [
        f
        for f in report.finding_list
        if f.check in {"balance", "outcome_sum", "row_total", "review_total"}
    ]
    assert len(identities) == 7 + 7 + 25 + 3
    assert {f.status for f in identities} == {"pass"}
    facts = report.facts
    row = facts[(facts.row == "new_received") & (facts.column == "total")].iloc[0]
    assert row.value == 30 and row.row_label == "一、本年新收政府信息公开申请数量"
    assert report.fact("reviews_lawsuits/review/upheld").value == 1


def test_broken_identity_is_reported_not_corrected() -> None:
    """035 prints 法律服务机构 1 under a 总计 of 0: a fail finding, both numbers kept."""
    report = extract_document((CORPUS / "raw" / "035.txt").read_bytes(), source="035.txt")
    fails = {(f.check, f.row) for f in report.finding_list if f.status == "fail"}
    assert ("row_total", "new_received") in fails
    assert ("row_total", "granted") in fails
    assert report.fact("applications/new_received/total").value == 0
    assert report.fact("applications/new_received/legal_services").value == 1


def test_truncated_document_is_partial_with_findings() -> None:
    report = extract_document((CORPUS / "raw" / "008.txt").read_bytes(), source="008.txt")
    assert report.meta.status == "partial"
    checks = {f.check for f in report.finding_list}
    assert {"rows_missing", "table_missing"} <= checks
    assert report.fact("applications/denied_process_info/total") is None


def test_figures_under_unknown_labels_are_a_finding_not_a_guess() -> None:
    """028 (a PDF-to-markdown mess) has figures whose labels were torn apart."""
    report = extract_document((CORPUS / "raw" / "028.md").read_bytes(), source="028.md")
    unrecognised = [f for f in report.finding_list if f.check == "row_unrecognised"]
    assert len(unrecognised) == 1 and unrecognised[0].table == "applications"
    assert "'明确6'" in unrecognised[0].message


def test_extract_takes_a_path_and_gives_money_as_exact_decimals() -> None:
    import pathlib
    from decimal import Decimal

    import pipeline

    report = pipeline.extract(pathlib.Path(CORPUS / "raw" / "043.html"))
    fee = report.facts.set_index(["row", "column"]).loc[("fees", "amount_10k_yuan"), "amount"]
    assert isinstance(fee, Decimal) and fee == Decimal("9116.36")
    assert report.meta.source.endswith("043.html")
