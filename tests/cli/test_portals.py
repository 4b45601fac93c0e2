"""``portals import`` and ``portals check`` on loopback replicas of every family."""

from __future__ import annotations

import tomllib

from pipeline.cli import main
from pipeline.crawl import load_config
from tests.family_portals import BUILDERS
from tests.portals import Site, build_hanweb_site, build_trs_site

FAST = "[defaults]\ndelay = 0\nbackoff = 0.01\nbackoff_max = 0.02\nretries = 2\ntimeout = 2\n"


def test_import_appends_entries_without_duplicates(tmp_path, capsys) -> None:
    cfg = tmp_path / "portals.toml"
    cfg.write_text(
        FAST + '[[portal]]\nname = "柯城区"\nstart_urls = ["http://www.kecheng.gov.cn/"]\n'
    )
    csv = tmp_path / "list.csv"
    csv.write_text(
        "名称,区划代码,网址\n"
        "衢江区,330803,http://www.qjq.gov.cn/\n"
        "柯城区,330802,https://www.kecheng.gov.cn\n"  # already configured (scheme aside)
        "常山县,330822,www.zjcs.gov.cn\n"
        "开化县,33082,http://www.kaihua.gov.cn/\n"  # a bad code is dropped, the row kept
        "衢江区,330803,http://www.qjq.gov.cn/\n"  # twice in the list
        "朝阳区,110105,http://www.bjchy.gov.cn/\n"
        "朝阳区,220104,http://www.chaoyang.gov.cn/\n"  # same name, another region
        "测试区,330899,http://127.0.0.1:8001/\n"
        "测试二区,330898,http://127.0.0.1:8002/\n"  # same host, another port: another portal
        "测试区,330899,http://127.0.0.1:8001\n"  # the same portal
        "测试三区,330897,http://www.zjcs.gov.cn:80/\n"  # the default port: 常山县 again
        "龙游县,330825,not a url\n",
        encoding="utf-8",
    )
    assert main(["portals", "import", str(csv), "--config", str(cfg)]) == 0
    out, err = capsys.readouterr()
    assert "7 added, 4 already configured, 1 invalid rows" in out
    assert "line 13: skipped, not a URL: 'not a url'" in err
    portals = {p.name: p for p in load_config(cfg)}
    assert list(portals) == [
        *("柯城区", "衢江区", "常山县", "开化县", "朝阳区", "朝阳区（220104）"),
        *("测试区", "测试二区"),
    ]
    assert portals["常山县"].start_urls == ("http://www.zjcs.gov.cn/",)
    assert portals["衢江区"].region_code == "330803" and portals["开化县"].region_code is None
    assert tomllib.loads(cfg.read_text())["defaults"]["delay"] == 0  # the rest kept as it was
    # again: nothing new
    assert main(["portals", "import", str(csv), "--config", str(cfg)]) == 0
    assert "0 added, 11 already configured" in capsys.readouterr().out
    # a headerless list (name, code, URL) into a config that does not exist yet
    plain = tmp_path / "plain.csv"
    plain.write_text("甲县,130101,http://a.example/\n", encoding="gb18030")
    new = tmp_path / "new" / "portals.toml"
    assert main(["portals", "import", str(plain), "--config", str(new)]) == 0
    assert [p.name for p in load_config(new)] == ["甲县"]
    assert main(["portals", "import", str(tmp_path / "none.csv"), "--config", str(new)]) == 1


def test_check_prints_family_column_and_report_count_per_portal(serve, tmp_path, capsys) -> None:
    replicas = {}
    entries = []
    for name, build in BUILDERS.items():
        replica = build(serve(Site()))
        replicas[name] = replica
        code = f'region_code = "{replica.region_code}"\n'
        entries.append(
            f'[[portal]]\nname = "{name}"\n{code}start_urls = ["{replica.site.url("/")}"]\n'
        )
    # the families the crawler knew before: TRS (hub -> column) and Hanweb jpage
    trs = build_trs_site(serve(Site()))
    hanweb = serve(Site())
    build_hanweb_site(hanweb)
    entries.append(f'[[portal]]\nname = "trs"\nstart_urls = ["{trs.url("/")}"]\n')
    column = hanweb.url("/col/col12377/index.html")
    entries.append(f'[[portal]]\nname = "hanweb"\nstart_urls = ["{column}"]\n')
    gated = serve(Site())
    gated.add("/", "<html><head><script src='/a.js'></script><script>go()</script></head></html>")
    entries.append(f'[[portal]]\nname = "gated"\nstart_urls = ["{gated.url("/")}"]\n')
    entries.append('[[portal]]\nname = "dead"\nstart_urls = ["http://127.0.0.1:9/"]\n')
    cfg = tmp_path / "portals.toml"
    cfg.write_text(FAST + "".join(entries), encoding="utf-8")
    assert main(["portals", "check", "--config", str(cfg)]) == 0
    lines = {line.split(":", 1)[0]: line for line in capsys.readouterr().out.splitlines()}
    expected = {
        "gkmlpt": "gkmlpt",
        "hanweb_xxgk_post": "hanweb_xxgk",
        "hanweb_xxgk_get": "hanweb_xxgk",
        "jpaas": "jpaas",
        "ucap": "ucap",
        "lonsun": "lonsun",
        "pclist": "pclist",
        "slugs": "trs",
    }
    for name, family in expected.items():
        line = lines[name]
        assert f"family {family}," in line, line
        assert f"reports listed {len(replicas[name].reports)}," in line, line
        for path in replicas[name].reports:
            assert replicas[name].site.hits(path) == []  # a probe reads lists only
    assert "family trs," in lines["trs"] and "reports listed 6," in lines["trs"]
    assert "family hanweb," in lines["hanweb"] and "reports listed 6," in lines["hanweb"]
    assert "no reports: blocked: js-gate (no browser tier: set browser = true)" in lines["gated"]
    assert "requests 2" in lines["gated"]  # robots.txt and the page: no slug guessing
    assert "no reports: nothing readable" in lines["dead"]
    assert lines["portals check"] == "portals check: 10 of 12 portals list reports"


def test_check_is_bounded_and_selects_portals(serve, tmp_path, capsys) -> None:
    replica = BUILDERS["ucap"](serve(Site()))
    cfg = tmp_path / "portals.toml"
    cfg.write_text(FAST + f'[[portal]]\nname = "u"\nstart_urls = ["{replica.site.url("/")}"]\n')
    assert main(["portals", "check", "--config", str(cfg), "--max-requests", "4"]) == 0
    out = capsys.readouterr().out
    assert "budget hit" in out
    assert len([h for h in replica.site.log if h.path != "/robots.txt"]) == 4
    assert main(["portals", "check", "--config", str(cfg), "--portal", "nope"]) == 2
    assert main(["portals", "check", "--config", str(tmp_path / "none.toml")]) == 2
