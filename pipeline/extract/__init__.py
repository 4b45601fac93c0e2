"""Turn the bytes of one report document into a :class:`~pipeline.model.Report`.

Pure: no network and no file system. The crawler and the CLI hand it bytes. The one
exception is :mod:`pipeline.extract.convert`, which runs LibreOffice on DOC/WPS/XLS bytes
in a throw-away directory (bounded in time and memory, no network).
"""

from pipeline.extract.document import EXTRACTOR_VERSION, extract_document

__all__ = ["EXTRACTOR_VERSION", "extract_document"]
