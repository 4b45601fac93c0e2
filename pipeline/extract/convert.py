"""Old binary office formats (DOC, WPS, ET, XLS) converted by LibreOffice headless.

The one place the extractor runs a subprocess and touches the file system: the document is
written to a throw-away directory, converted there by ``soffice`` with a throw-away
profile (so no user settings, no lock on a shared profile, nothing left behind), and the
result is read back. The converter is bounded: a time limit after which its whole process
group is killed, and an address-space and file-size limit. It makes no network requests.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 120.0
MEMORY_BYTES = 4 * 2**30  # address space: soffice maps ~1 GiB before it reads a byte
FILE_BYTES = 256 * 2**20  # no output file larger than this
INSTALL_HINT = "apt-get install libreoffice-writer-nogui"
SPREADSHEET_HINT = "apt-get install libreoffice-calc-nogui"


class ConversionError(Exception):
    """The document could not be converted: ``reason`` is ``converter_missing`` or
    ``conversion_failed``, the message says why in one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _limits() -> None:  # pragma: no cover - runs in the child process
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))


def convert(
    content: bytes, source_suffix: str, target: str, *, timeout: float = TIMEOUT_S
) -> bytes:
    """``content`` (a ``.doc``, ``.xls``, ... by ``source_suffix``) converted to ``target``
    (``docx`` or ``html``). Raises :class:`ConversionError`."""
    soffice = soffice_path()
    if soffice is None:
        hint = SPREADSHEET_HINT if target == "html" else INSTALL_HINT
        raise ConversionError(
            "converter_missing",
            f"reading this format needs LibreOffice (soffice), which is not installed; "
            f"install it with: {hint}",
        )
    with tempfile.TemporaryDirectory(prefix="ogi-convert-") as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / f"document{source_suffix}"
        source.write_bytes(content)
        out = tmp / "out"
        command = [
            soffice,
            f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
            "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
            "--convert-to", target, "--outdir", str(out), str(source),
        ]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp), "LANG": "C.UTF-8"}
        _run(command, env, timeout)
        produced = sorted(out.glob(f"*.{target}")) if out.is_dir() else []
        if not produced:
            hint = f" (for spreadsheets: {SPREADSHEET_HINT})" if target == "html" else ""
            raise ConversionError(
                "conversion_failed", f"LibreOffice produced no {target} from this document{hint}"
            )
        return produced[0].read_bytes()


def _run(command: list[str], env: dict[str, str], timeout: float) -> None:
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its own process group: killed whole, helpers included
        preexec_fn=_limits,
    )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConversionError(
            "conversion_failed", f"LibreOffice did not finish within {timeout:.0f} s"
        ) from None
    finally:
        with contextlib.suppress(ProcessLookupError):  # it and its helpers ended by themselves
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
