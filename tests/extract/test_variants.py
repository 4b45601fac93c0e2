"""Real variants of the national tables, made from corpus pages and held to their gold:
local annotations and words beside the national labels, traditional characters, the marks
for "nothing", labels wrapped over two lines, and excerpts that start inside a table."""

from __future__ import annotations

import zhconv

from pipeline.extract import extract_document
from pipeline.model import Report
from tests.corpus import CORPUS, GoldDocument, gold_documents
from tests.make_renderings import RENDERINGS

GOLD = {d.id: d for d in gold_documents()}
SEED = (CORPUS / "raw" / "000.txt").read_text(encoding="utf-8")  # 柯城区 2023, pipe text
LINES_043 = (RENDERINGS / "043.lines.txt").read_text(encoding="utf-8")  # 平潭 2022


def _extract(text: str) -> Report:
    return extract_document(text.encode("utf-8"), source="variant")


def _replace(text: str, pairs: dict[str, str]) -> str:
    for old, new in pairs.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _wrong_and_found(report: Report, document: GoldDocument) -> tuple[list[str], int]:
    wrong = document.wrong_figures(report.fact_list)
    return wrong, len(report.fact_list) - len(wrong)


def test_labels_with_local_annotations_and_words() -> None:
    text = _replace(SEED, {
        "规章 | 0 | 0 | 0 |": "规章（含本级政府规章） | 0 | 0 | 0 |",
        "行政规范性文件 | 10 |": "行政规范性文件（含区政府办公室、区级部门制发的） | 10 |",
        "行政许可 | 0 |": "行政许可事项 | 0 |",
        # The annotation names another row (部分公开): the row is still 予以公开.
        "(一)予以公开 |": "(一)予以公开（含依申请公开后转为主动公开的） |",
    })
    report = _extract(text)
    assert _wrong_and_found(report, GOLD["000"]) == ([], 200)
    assert report.fact("active_disclosure/normative_documents/in_force").value == 64  # type: ignore[union-attr]
    assert report.fact("applications/granted/total").value == 6  # type: ignore[union-attr]


def test_traditional_characters() -> None:
    report = _extract(zhconv.convert(SEED, "zh-tw"))
    assert "規章" in zhconv.convert(SEED, "zh-tw")
    assert _wrong_and_found(report, GOLD["000"]) == ([], 200)


def test_marks_for_nothing_are_kept_as_printed() -> None:
    text = _replace(SEED, {
        "规章 | 0 | 0 | 0 |": "规章 | _ | ／ | -- |",
        "(三)不予公开 | 1.属于国家秘密 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |":
            "(三)不予公开 | 1.属于国家秘密 | — | 无 | / |  | 0 | 0 | 0 |",
    })
    report = _extract(text)
    marks = {
        f.key: (f.semantic, f.raw) for f in report.fact_list
        if f.row in ("regulations", "denied_state_secret")
    }
    assert marks["active_disclosure/regulations/issued"] == ("mark", "_")
    assert marks["active_disclosure/regulations/repealed"] == ("mark", "／")
    assert marks["active_disclosure/regulations/in_force"] == ("mark", "--")
    assert [marks[f"applications/denied_state_secret/{c}"] for c in (
        "natural_person", "commercial", "research", "social_welfare", "legal_services",
    )] == [("mark", "—"), ("mark", "无"), ("mark", "/"), ("blank", ""), ("number", "0")]
    assert len(report.fact_list) == 200


def test_labels_wrapped_over_two_lines() -> None:
    text = _replace(LINES_043, {
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请":
            "1.申请人无正当理由逾期不补正、行政机\n关不再处理其政府信息公开申请",
        # Neither half names the row: "重新出具" is cut in two.
        "5.要求行政机关确认或重新出具已获取信息": "5.要求行政机关确认或重\n新出具已获取信息",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）":
            "（二）部分公开（区分处理的，只计这一情\n形，不计其他情形）",
        "1.本机关不掌握相关政府信息": "1.本机关不掌握相关政府\n信息",
        "\n行政规范性文件\n": "\n行政规范\n性文件\n",
    })
    assert _wrong_and_found(_extract(LINES_043), GOLD["043"]) == ([], 200)
    report = _extract(text)
    assert _wrong_and_found(report, GOLD["043"]) == ([], 200)
    confirmation = report.fact("applications/not_processed_confirmation/total")
    assert confirmation is not None
    assert confirmation.row_label == "5.要求行政机关确认或重新出具已获取信息"


def test_excerpts_that_start_inside_a_table() -> None:
    """A page-start excerpt (a PDF's second page, a cut text): no table heading before the
    rows, which still name themselves."""
    gold = GOLD["043"]
    for start, rows_after in (("（三）不予公开", 21), ("2.重复申请", 9)):
        report = _extract(LINES_043[LINES_043.index(start) :])
        wrong, found = _wrong_and_found(report, gold)
        assert wrong == [] and found == rows_after * 7 + 15


def test_no_cut_off_table_without_a_figure_after_the_label() -> None:
    """Before any heading, a row label counts only when a figure follows it, and only for a
    table whose heading the document never prints."""
    text = "（一）予以公开和部分公开的申请共10件。\n2.重复申请\n一是\n3\n"
    assert _extract(text).fact_list == []


def test_a_year_read_before_2019_does_not_erase_printed_national_tables() -> None:
    """The year of a report is read from its text; the national tables themselves (200
    figures here) outweigh a year misread as 2015, with a finding."""
    report = _extract(SEED.replace("2023", "2015"))
    assert report.meta.report_year == 2015
    assert _wrong_and_found(report, GOLD["000"]) == ([], 200)
    assert "year_conflict" in {f.check for f in report.finding_list}
