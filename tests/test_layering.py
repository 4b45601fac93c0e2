"""The package's layering, beyond what the import contracts (lint-imports) check."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"
#: The steps of the data flow; only pipeline.flows and pipeline.cli compose them.
STEPS = ("archive", "crawl", "extract", "stage", "load")


def _room(path: Path) -> str:
    """The top-level module or subpackage a file belongs to (``crawl``, ``model`` ...)."""
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _local_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import inside a function body."""
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                found += [(node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((node.lineno, node.module))
    return found


def test_no_function_imports_another_step() -> None:
    """A function-local import would hide a step -> step dependency from lint-imports."""
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = _room(path)
        for line, module in _local_imports(ast.parse(path.read_text(encoding="utf-8"))):
            parts = module.split(".")
            if parts[0] == "pipeline" and len(parts) > 1 and parts[1] in STEPS and parts[1] != room:
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offences == []


def test_the_check_sees_a_local_import() -> None:
    source = "def f():\n    from pipeline.stage import stage_reports\n    import pipeline.load\n"
    assert _local_imports(ast.parse(source)) == [(2, "pipeline.stage"), (3, "pipeline.load")]


def test_import_pipeline_does_not_load_the_crawler_or_staging() -> None:
    import subprocess
    import sys

    steps = "('pipeline.crawl', 'pipeline.load', 'pipeline.stage', 'pipeline.archive')"
    code = f"import sys, pipeline; print(sorted(m for m in sys.modules if m.startswith({steps})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
