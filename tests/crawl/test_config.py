"""Portal configuration: the starter list loads; bad entries give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.crawl.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portals.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_list_loads_and_includes_kecheng() -> None:
    portals = load_config(ROOT / "config" / "portals.toml")
    assert len(portals) >= 10
    kecheng = next(p for p in portals if p.name == "柯城区")
    assert kecheng.region_code == "330802"
    assert kecheng.allows("http://www.kecheng.gov.cn/col/col1/index.html")
    assert kecheng.allows("https://zwgk.kecheng.gov.cn/a.html")
    assert not kecheng.allows("http://www.qjq.gov.cn/")
    assert all(p.politeness.delay >= 1.0 for p in portals)


def test_smallest_entry_with_a_loopback_url(tmp_path: Path) -> None:
    path = write(tmp_path, '[[portal]]\nname = "x"\nstart_urls = ["http://127.0.0.1:8080/nb/"]\n')
    (portal,) = load_config(path)
    assert portal.family == "auto" and portal.region is None
    assert portal.allows("http://127.0.0.1:8080/other")
    assert not portal.allows("http://localhost:8080/nb/")


def test_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[defaults]
delay = 2
[[portal]]
name = "a"
start_urls = ["https://a.gov.cn/"]
family = "hanweb"
link_pattern = "年报"
extra_hosts = ["*.a.gov.cn"]
delay = 0.5
retries = 2
""",
    )
    (portal,) = load_config(path)
    assert portal.politeness.delay == 0.5 and portal.politeness.retries == 2
    assert portal.family == "hanweb" and portal.allows("http://xxgk.a.gov.cn/x")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[portal]]\nstart_urls = ["http://a/"]', "portal '#1': field 'name'"),
        ('[[portal]]\nname = "甲"', "portal '甲': field 'start_urls'"),
        ('[[portal]]\nname = "甲"\nstart_urls = ["ftp://a/"]', "portal '甲': field 'start_urls'"),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nfamily = "wordpress"',
            "portal '甲': field 'family'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nregion_code = "33"',
            "portal '甲': field 'region_code'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\ndelay = "fast"',
            "portal '甲': field 'delay'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nlink_pattern = "("',
            "portal '甲': field 'link_pattern'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nstart_url = "x"',
            "portal '甲': field 'start_url'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\n'
            '[[portal]]\nname = "甲"\nstart_urls = ["http://b/"]',
            "portal '甲': field 'name'",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nconcurrency = 32',
            "portal '甲': field 'concurrency': set it under [defaults]",
        ),
        (
            '[[portal]]\nname = "甲"\nstart_urls = ["http://a/"]\nuser_agent = "x"',
            "portal '甲': field 'user_agent': set it under [defaults]",
        ),
        ("name = 1", "no [[portal]] entries"),
        ("[[portal]\n", "invalid TOML"),
    ],
)
def test_bad_config_names_portal_and_field(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, body))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")
