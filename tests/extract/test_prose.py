"""No figure from running prose: narrative text with numbers yields no canonical figure.

Reports before 2019 (and the narrative parts of every report) print years, dates, counts,
percentages, telephone numbers, postcodes and document numbers (闽政办〔2015〕77号) in
sentences that name the tables' own labels. None of it is a table row.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import extract_document, layout
from tests.corpus import CORPUS

LABELS = [
    *layout.ACTIVE_ROW_LABELS,
    "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "申请人情况",
    "四、政府信息公开行政复议、行政诉讼情况", "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
    "行政复议", "行政诉讼", "结果维持", "结果纠正", "尚未审结", "总计", "（七）总计",
    "第二十条第（一）项", "信息内容", "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "（一）予以公开", "（二）部分公开", "1.属于国家秘密", "1.本机关不掌握相关政府信息",
    "2.重复申请", "（六）其他处理", "四、结转下年度继续办理", "其中：1.网站公开", "主动公开信息数",
    "本年度", "历年累计", "指标名称", "计量单位",
]
WORDS = ["我区", "共收到", "办理", "依申请公开", "政府信息", "其中", "同比增长", "全年", "办结",
         "均在法定期限内", "答复", "涉及", "各乡镇", "区直部门", "受理", "主动公开"]
MEASURE_WORDS = ["件", "条", "个", "项", "人次", "期", "起", "例"]
n = st.integers(0, 99999).map(str)
year = st.integers(2008, 2025).map(str)
NUMBERS = st.one_of(
    st.builds(lambda y: f"{y}年", year),
    st.builds(lambda y: f"{y}年度", year),
    st.builds(lambda y, m, d: f"{y}年{m}月{d}日", year, st.integers(1, 12), st.integers(1, 31)),
    st.builds(lambda k, u: f"{k}{u}", n, st.sampled_from(MEASURE_WORDS)),
    st.builds(lambda k: f"{k}%", n),
    st.builds(lambda a, b: f"{a}.{b}%", st.integers(0, 99), st.integers(0, 99)),
    st.builds(lambda y, k: f"闽政办〔{y}〕{k}号", year, st.integers(1, 300)),
    st.builds(lambda y, k: f"（岚综管办〔{y}〕{k}号）", year, st.integers(1, 300)),
    st.builds(lambda k: f"电话：{k}", st.integers(10_000_000, 99_999_999)),
    st.builds(lambda a, k: f"电话：0{a}-{k}", st.integers(100, 999), st.integers(10**6, 10**8 - 1)),
    st.builds(lambda k: f"邮编：{k}", st.integers(100_000, 999_999)),
    st.builds(lambda k: f"第{k}期", n),
    st.builds(lambda k: f"{k}万元，", n),
    st.builds(lambda k, p: f"{k}{p}", n, st.sampled_from(["，", "。", "；", "："])),
    st.just("pzxxgkb@163.com"),
    st.just("www.pingtan.gov.cn"),
)
PIECE = st.one_of(st.sampled_from(LABELS), st.sampled_from(WORDS), NUMBERS)
SENTENCE = st.builds(
    lambda pieces, glue, end: glue.join(pieces) + end,
    st.lists(PIECE, min_size=1, max_size=10),
    st.sampled_from(["", "，", "、"]),
    st.sampled_from(["。", "；", "！"]),
)
PROSE = settings(
    max_examples=int(os.environ.get("PROSE_EXAMPLES", "300")),  # more for a deeper search
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@PROSE
@given(st.lists(SENTENCE, min_size=1, max_size=60), st.sampled_from(["", "\n", " "]))
def test_narrative_with_numbers_yields_no_canonical_figure(
    sentences: list[str], joiner: str
) -> None:
    # "" : a whole page glued into one line (a crawler's innerText), "\n": one sentence a line.
    text = joiner.join(sentences)
    report = extract_document(text.encode("utf-8"), source="prose")
    assert [(f.key, f.raw) for f in report.fact_list] == []


def test_the_2016_report_gives_no_review_figures_from_its_phone_number() -> None:
    """055 (平潭 2016, one flattened line): before issue 10 its year and telephone number
    became Table 4 (review: upheld 2016, …, total 346085376)."""
    content = (CORPUS / "raw" / "055.txt").read_bytes()
    assert "电话：23165327".encode() in content
    report = extract_document(content, source="055")
    assert report.fact_list == []
    assert report.meta.national_format == "pre2019"
