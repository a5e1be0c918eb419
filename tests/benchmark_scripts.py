"""Import or run a script of ``benchmarks/``, for the benchmark tests."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` under ``name``.

    The module is registered in ``sys.modules`` before it runs: dataclasses look their
    module up there.
    """
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import benchmarks/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_quick(name: str, report: Path, *options: str) -> tuple[dict[str, Any], str]:
    """Run ``benchmarks/<name>.py --quick --json <report>`` and check that it succeeded.

    Returns:
        The JSON report and the script's standard output.
    """
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / f"{name}.py"),
            "--quick",
            "--json",
            str(report),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(report.read_text()), completed.stdout
