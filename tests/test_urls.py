"""canonical_url: one spelling per report URL (issue 8 §6), on URLs as portals print them."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.urls import canonical_url

TRS = "http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html"
HANWEB = "http://www.dingxi.gov.cn/art/2024/1/20/art_12377_900000.html"


@pytest.mark.parametrize(
    "spelling",
    [
        TRS,
        "HTTP://WWW.KECHENG.GOV.CN/zfxxgknb/202401/t20240120_1.html",
        "http://www.kecheng.gov.cn:80/zfxxgknb/202401/t20240120_1.html",
        "http://www.kecheng.gov.cn./zfxxgknb/202401/t20240120_1.html",
        "http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html#",
        "http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html?",
        "http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html#table3",
        "http://www.kecheng.gov.cn/zfxxgknb/./202401/t20240120_1.html",
        "http://www.kecheng.gov.cn/zfxxgknb/202312/../202401/t20240120_1.html",
        "  http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html\n",
        "http://www.kecheng.gov.cn/zfxxgknb/202401/t20240120_1.html?utm_source=wechat"
        "&utm_medium=social&utm_campaign=nb",
    ],
)
def test_spellings_of_one_trs_report(spelling: str) -> None:
    assert canonical_url(spelling) == TRS


@pytest.mark.parametrize(
    "spelling",
    [
        HANWEB,
        HANWEB + ";jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        HANWEB + ";jsessionid=0A1B2C3D4E5F.node1",
        HANWEB + ";JSESSIONID=abc123!-1729481",
        HANWEB + "?JSESSIONID=0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        HANWEB + "?jsessionid=x",
        HANWEB + "?PHPSESSID=9t8hq6v1a3ltr3d4d6v0n7s0k2",
        HANWEB + "?sid=6f1c2e4b9a0d4c3e8f7a6b5c4d3e2f10",
        HANWEB + ";jsessionid=0A1B?utm_source=baidu#page",
        "http://WWW.Dingxi.Gov.CN:80/art/2024/1/20/art_12377_900000.html;jsessionid=A1",
    ],
)
def test_session_ids_drop_out_of_hanweb_article_urls(spelling: str) -> None:
    assert canonical_url(spelling) == HANWEB


def test_session_id_in_a_directory_segment_and_before_the_query() -> None:
    url = "http://xxgk.example.gov.cn/col/col12377/index.html;jsessionid=5E7F?uid=38486&pageNum=2"
    assert canonical_url(url) == (
        "http://xxgk.example.gov.cn/col/col12377/index.html?uid=38486&pageNum=2"
    )
    assert canonical_url("http://a.gov.cn/xxgk;jsessionid=5E7F/nb/index.html") == (
        "http://a.gov.cn/xxgk/nb/index.html"
    )


def test_meaningful_parameters_stay_in_their_order() -> None:
    url = (
        "http://www.dingxi.gov.cn/module/web/jpage/dataproxy.jsp"
        "?startrecord=1&endrecord=45&perpage=15&columnid=12377"
    )
    assert canonical_url(url) == url
    # reordered parameters are a different spelling, kept as printed
    assert canonical_url("http://a.gov.cn/s.jsp?b=2&a=1") == "http://a.gov.cn/s.jsp?b=2&a=1"
    # session and tracking parameters leave, in any position, the rest keeps its order
    assert canonical_url(
        "http://a.gov.cn/s.jsp?utm_source=x&id=7&JSESSIONID=AB12&page=2&fbclid=Iw1&spm=a.b"
    ) == ("http://a.gov.cn/s.jsp?id=7&page=2")
    # repeated keys and blank values are meaningful
    assert canonical_url("http://a.gov.cn/s?t=1&t=2&q=") == "http://a.gov.cn/s?t=1&t=2&q="


def test_a_short_sid_is_a_site_id_not_a_session() -> None:
    assert canonical_url("http://a.gov.cn/list.jsp?sid=12&cid=3") == (
        "http://a.gov.cn/list.jsp?sid=12&cid=3"
    )
    assert canonical_url("http://a.gov.cn/list.jsp?cid=3&SID=0123456789abcdef0123") == (
        "http://a.gov.cn/list.jsp?cid=3"
    )


def test_ports_and_schemes() -> None:
    assert canonical_url("https://a.gov.cn:443/x") == "https://a.gov.cn/x"
    assert canonical_url("HTTPS://A.gov.cn/x") == "https://a.gov.cn/x"
    # a port that is not the scheme's default is part of the origin
    assert canonical_url("https://a.gov.cn:80/x") == "https://a.gov.cn:80/x"
    assert canonical_url("http://a.gov.cn:443/x") == "http://a.gov.cn:443/x"
    assert canonical_url("http://a.gov.cn:8080/x") == "http://a.gov.cn:8080/x"
    assert canonical_url("http://127.0.0.1:80/x") == "http://127.0.0.1/x"
    assert canonical_url("http://[::1]:80/x") == "http://[::1]/x"
    assert canonical_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
    # http and https are different URLs: not merged here
    assert canonical_url("https://a.gov.cn/x") != canonical_url("http://a.gov.cn/x")
    # an empty path is the root
    assert canonical_url("http://A.gov.cn") == "http://a.gov.cn/"


def test_percent_encoding_and_chinese_in_paths_and_queries() -> None:
    encoded = "http://a.gov.cn/%E5%B9%B4%E6%8A%A5/2023.html?q=%E5%B9%B4%E6%8A%A5"
    assert canonical_url("http://a.gov.cn/年报/2023.html?q=年报") == encoded
    assert canonical_url("http://a.gov.cn/%e5%b9%b4%e6%8a%a5/2023.html?q=%e5%b9%b4%e6%8a%a5") == (
        encoded
    )
    # GBK-encoded query bytes are kept as they are, not decoded as UTF-8
    assert canonical_url("http://a.gov.cn/s.jsp?q=%C4%EA%B1%A8") == (
        "http://a.gov.cn/s.jsp?q=%C4%EA%B1%A8"
    )
    # an encoded slash is not a path separator
    assert canonical_url("http://a.gov.cn/a%2Fb") == "http://a.gov.cn/a%2Fb"
    assert canonical_url("http://例子.中国/a") == "http://xn--fsqu00a.xn--fiqs8s/a"


@pytest.mark.parametrize(
    "other",
    ["", "javascript:void(0)", "mailto:xxgk@a.gov.cn", "ftp://a.gov.cn/x", "/relative/path"],
)
def test_anything_but_http_comes_back_as_it_is(other: str) -> None:
    assert canonical_url(other) == other


def test_broken_urls_do_not_raise() -> None:
    assert canonical_url("http://a.gov.cn:abc/x") == "http://a.gov.cn:abc/x"
    assert canonical_url("http://a.gov.cn:99999/x ") == "http://a.gov.cn:99999/x"


_hosts = st.sampled_from(["www.kecheng.gov.cn", "XXGK.Dingxi.GOV.cn", "127.0.0.1", "例子.中国"])
_segments = st.lists(
    st.text(alphabet="abcTZ_-.%;=年报0123456789", min_size=0, max_size=8), max_size=4
)
_params = st.lists(
    st.tuples(
        st.sampled_from(["id", "utm_source", "JSESSIONID", "sid", "page", "q", "spm", "a"]),
        st.text(alphabet="abc0123456789%+ 年&", max_size=20),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@example(  # an escaped "0" forms a new escape: w3lib's form changed on a second pass
    scheme="http", host="www.kecheng.gov.cn", port="", segments=["%%30a"], params=[], fragment=""
)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=_hosts,
    port=st.sampled_from(["", ":80", ":443", ":8080"]),
    segments=_segments,
    params=_params,
    fragment=st.sampled_from(["", "#", "#top"]),
)
def test_canonical_form_is_stable(
    scheme: str,
    host: str,
    port: str,
    segments: list[str],
    params: list[tuple[str, str]],
    fragment: str,
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"{scheme}://{host}{port}/{'/'.join(segments)}{'?' + query if query else ''}{fragment}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "#" not in once and "utm_source" not in once and "JSESSIONID" not in once
