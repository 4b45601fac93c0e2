"""The raw archive under ``<data_dir>/raw/``: every fetched body, content-addressed and
compressed, with an index of where and when it was fetched (:mod:`.store`), and its export
to WARC, the web-archiving standard (:mod:`.warc`)."""

from pipeline.archive.store import ArchivedBody, body_path, list_bodies, read_body, write_body
from pipeline.archive.warc import export_warc
from pipeline.errors import ArchiveError

__all__ = [
    "ArchiveError",
    "ArchivedBody",
    "body_path",
    "export_warc",
    "list_bodies",
    "read_body",
    "write_body",
]
