"""The raw archive's WARC export: every body with its URL, fetch time, status and headers."""

from __future__ import annotations

import hashlib
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipeline.archive import export_warc, list_bodies
from pipeline.cli import main
from pipeline.flows.nightly import nightly
from tests.portals import Site, build_trs_site, fast, portal


def _records(path: Path) -> list[tuple[str, str, int | None, dict[str, str], bytes, str]]:
    out = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            http = record.http_headers
            out.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Target-URI"),
                    int(http.get_statuscode()) if http else None,
                    {k.lower(): v for k, v in http.headers} if http else {},
                    record.content_stream().read(),
                    record.rec_headers.get_header("WARC-Date"),
                )
            )
    return out


def test_a_crawled_portal_exports_every_body_as_served(serve, tmp_path: Path) -> None:
    site = serve(build_trs_site(Site()))
    nightly([portal(site, "/")], tmp_path, stage=lambda d, items: None, politeness_override=fast())
    bodies = list(list_bodies(tmp_path, kinds=None))
    summary = export_warc(tmp_path, tmp_path / "all.warc.gz")
    assert summary.records == summary.responses == len(bodies) > 6 and summary.missing == 0

    records = _records(tmp_path / "all.warc.gz")
    assert [r[1] for r in records] == [b.url for b in bodies]
    report = next(r for r in records if r[1].endswith("t20240129_3001.html"))
    kind, url, status, headers, content, date = report
    assert (kind, status) == ("response", 200)
    assert headers["content-type"].startswith("text/html")
    assert headers["content-length"] == str(len(content))
    assert headers["etag"].startswith('"')  # the server's own headers, as received
    served = site.routes["/" + url.split("/", 3)[3]]
    assert not callable(served) and content == served.body  # the page as it was served
    assert hashlib.sha256(content).hexdigest() in {b.sha256 for b in bodies}
    assert date.endswith("Z")


def test_export_command_and_a_local_file_as_a_resource(tmp_path: Path, capsys) -> None:
    from tests.corpus import CORPUS

    data = tmp_path / "data"
    seed = CORPUS / "raw" / "000.txt"
    assert main(["extract", str(seed), "--stage", "--data-dir", str(data)]) == 0
    assert main(["export-warc", "--data-dir", str(data), "-o", str(tmp_path / "x.warc.gz")]) == 0
    assert "1 records" in capsys.readouterr().out
    ((kind, url, status, _, content, _),) = _records(tmp_path / "x.warc.gz")
    assert (kind, status, url) == ("resource", None, seed.resolve().as_uri())
    assert content == seed.read_bytes()
    assert main(["export-warc", "--data-dir", str(tmp_path / "none"), "-o", "x"]) == 1
