"""Tables rebuilt from word positions (pipeline.extract.word_grid).

The layouts are those of tables printed without ruling lines (a Word document saved as
PDF, the table of corpus page 032): labels wrapped inside their cell with the figures
centred beside them, a group label one or two characters per line beside its rows, a
header cell over several columns, and running text around the table.
"""

from __future__ import annotations

from pipeline.extract.grid import GridCell, grid_cells
from pipeline.extract.word_grid import PlacedWord, word_grids, word_rows

H = 12.0  # glyph height; lines of one cell are 17 points apart, rows 20
COLUMNS = (270.0, 314.0, 367.0)


def line(top: float, *cells: tuple[float, str]) -> list[PlacedWord]:
    """Words of one printed line: ``(x0, text)`` pairs; a Chinese character is 12 points
    wide, a digit or mark 6."""
    return [PlacedWord(text, x0, x0 + _width(text), top, top + H) for x0, text in cells]


def _width(text: str) -> float:
    return sum(H if ord(ch) > 0x2E7F else H / 2 for ch in text)


def figures(top: float, *values: str) -> list[tuple[float, str]]:
    return [(x, v) for x, v in zip(COLUMNS, values, strict=True)]


def table_032() -> list[PlacedWord]:
    words: list[PlacedWord] = []
    words += line(480, (58, "三、收到和处理政府信息公开申请情况。"))  # running text
    words += line(520, (270, "自然人"), (314, "商业企业"), (367, "总计"))
    words += line(540, (58, "一、本年新收申请数量"), *figures(540, "13612", "252", "13864"))
    # (二)'s label wraps over three lines, its figures centred on the second
    words += line(560, (111, "（二）部分公开（区分处理"))
    words += line(577, (111, "的，只计这一情形，不计"), *figures(577, "2120", "39", "2159"))
    words += line(594, (111, "情形）"))
    # a group label, two characters a line, beside three rows
    words += line(614, (111, "（三"), (149.6, "1.属于国家秘密"), *figures(614, "13", "0", "13"))
    words += line(631, (111, "）不"), (149.6, "2.其他法律行政"))
    words += line(640, *figures(640, "30", "-", "30"))
    words += line(648, (111, "予公"), (149.6, "法规禁止公开"))
    words += line(668, (111, "开"), (149.6, "3.危及安全稳定"), *figures(668, "11", "/", "11"))
    words += line(760, (58, "四、行政复议、行政诉讼情况，如下表所示：略。"))
    return words


def test_rows_columns_and_wrapped_labels() -> None:
    (grid,) = word_grids(table_032())
    rows: dict[int, list[str]] = {}
    for cell in sorted(grid, key=lambda c: (c.row, c.column)):
        rows.setdefault(cell.row, []).append(cell.text)
    assert list(rows.values()) == [
        ["自然人", "商业企业", "总计"],
        ["一、本年新收申请数量", "13612", "252", "13864"],
        ["（二）部分公开（区分处理\n的，只计这一情形，不计\n情形）", "2120", "39", "2159"],
        ["（三\n）不\n予公\n开", "1.属于国家秘密", "13", "0", "13"],
        ["2.其他法律行政\n法规禁止公开", "30", "-", "30"],
        ["3.危及安全稳定", "11", "/", "11"],
    ]
    # the first column (where 一、 starts) is empty beside the indented labels: text
    # columns left of the figures widen the label, never become blank "figures"
    wrapped = next(c for c in grid if c.text.startswith("（二"))
    assert (wrapped.column, wrapped.colspan) == (0, 3)
    group = next(c for c in grid if c.text.startswith("（三"))
    assert (group.column, group.rowspan, group.colspan) == (1, 3, 1)


def test_cells_read_in_order_as_an_html_table_would() -> None:
    (grid,) = word_grids(table_032())
    cells = grid_cells(grid)
    at = cells.index("1.属于国家秘密")
    assert cells[at - 1].startswith("（三") and cells[at + 1 : at + 4] == ["13", "0", "13"]
    at = cells.index("2.其他法律行政 法规禁止公开")
    assert cells[at + 1 : at + 4] == ["30", "-", "30"]


def test_blank_figure_cells_are_blank_and_label_only_rows_have_no_cells() -> None:
    words = line(100, (58, "规章"), (200, "3"), (260, "5"), (320, "74"))
    words += line(120, (58, "行政规范性文件"), (200, "8"), (320, "18"))  # blank middle cell
    words += line(140, (58, "行政许可"))  # a row whose label stands alone (or a wrap?)
    words += line(160, (58, "行政处罚"), (200, "1"), (260, "2"), (320, "3"))
    (grid,) = word_grids(words)
    assert GridCell(1, 2, 1, 1, "") in grid  # printed blank: a blank cell
    label_only = [c for c in grid if c.row == 2]
    assert [c.text for c in label_only] == ["行政许可"]
    # the grid reader fills the rest of that row with holes: it never reads as blank
    assert grid_cells(grid)[-8:-4] == ["行政许可", "\ufffd", "\ufffd", "\ufffd"]


def test_a_change_of_columns_starts_a_new_table() -> None:
    words = line(100, (58, "信息内容"), (150, "本年制发件数"), (230, "本年废止件数"))
    words += line(120, (58, "规章"), (150, "3"), (230, "5"))
    words += line(160, (58, "一、本年新收政府信息公开申请数量"), (300, "7"), (350, "9"))
    words += line(180, (58, "二、上年结转政府信息公开申请数量"), (300, "1"), (350, "2"))
    first, second = word_grids(words)
    assert sorted(c.text for c in first if c.row == 1) == ["3", "5", "规章"]
    assert [c.text for c in second if c.row == 0][1:] == ["7", "9"]


def test_figures_set_close_are_still_two_cells_and_prose_is_no_table() -> None:
    words = line(100, (58, "行政处罚"), (120, "12"), (150, "7"))  # 6 points apart
    assert [[c.text for c in row] for row in word_rows(words)] == [["行政处罚", "12", "7"]]
    prose = line(100, (58, "2025年全市共收到申请1234件，办结1200件。"))
    assert word_rows(prose) == []
    assert word_rows([]) == []
