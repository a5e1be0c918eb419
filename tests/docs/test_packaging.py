"""Release readiness: build the sdist and wheel, check them, install the wheel and use it.

The repository is copied to a temporary folder first, so building leaves nothing behind in
the checkout (setuptools writes ``*.egg-info`` and ``build/`` next to the sources). The
wheel is installed into a fresh virtual environment and exercised from a folder outside the
repository. That environment sees the packages of the one running the tests (torch is
reused, nothing is downloaded) through a ``.pth`` file listing its site-packages folders:
``--system-site-packages`` would expose the base interpreter's packages instead, which lack
torch when the tests run inside a virtual environment.
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBPACKAGES = (
    "bgdebias",
    "bgdebias.blocks",
    "bgdebias.losses",
    "bgdebias.moco",
    "bgdebias.models",
    "bgdebias.data",
    "bgdebias.data.synthetic",
    "bgdebias.evaluation",
    "bgdebias.viz",
    "bgdebias.training",
    "bgdebias.experiments",
    "bgdebias.cli",
)
_IGNORED = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    ".venv",
    "runs",
    "_build",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.pyc",
)

pytestmark = pytest.mark.slow


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.fail(
            f"the packaging test needs {module!r}: pip install -e '.[test]' "
            "(the test extra lists build, twine, setuptools and wheel)",
            pytrace=False,
        )


def _run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
            pytrace=False,
        )
    return result.stdout


def _readme_example() -> str:
    """The Python block of the README's "Drop one block into your own code" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## Drop one block.*?```python\n(.*?)```", text, flags=re.S)
    assert match, "README.md lost its 'Drop one block into your own code' example"
    return match.group(1)


def _version() -> str:
    namespace: dict[str, str] = {}
    exec((REPO / "src" / "bgdebias" / "_version.py").read_text(), namespace)
    return namespace["__version__"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for module in ("build", "twine", "setuptools", "wheel"):
        _require(module)
    tmp = tmp_path_factory.mktemp("packaging")
    before = _top_level_entries()
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=_IGNORED, symlinks=True)
    dist = tmp / "dist"
    # --no-isolation: the build backend comes from this environment (no download).
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source, cwd=tmp)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    built = sorted(p.name for p in dist.iterdir())
    assert len(wheels) == 1, built
    assert len(sdists) == 1, built
    new_entries = _top_level_entries() - before
    return {"tmp": tmp, "dist": dist, "wheel": wheels[0], "sdist": sdists[0], "new": new_entries}


def _top_level_entries() -> set[str]:
    return {p.name for p in REPO.iterdir()} | {f"src/{p.name}" for p in (REPO / "src").iterdir()}


def test_build_leaves_the_checkout_clean(built: dict[str, Any]) -> None:
    assert built["new"] == set()


def test_twine_check(built: dict[str, Any]) -> None:
    output = _run(
        sys.executable,
        "-m",
        "twine",
        "check",
        "--strict",
        built["wheel"],
        built["sdist"],
        cwd=built["tmp"],
    )
    assert output.count("PASSED") == 2, output


def test_wheel_contents_and_metadata(built: dict[str, Any]) -> None:
    version = _version()
    assert built["wheel"].name == f"bgdebias-{version}-py3-none-any.whl"
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = f"bgdebias-{version}.dist-info"
        metadata = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "bgdebias/py.typed" in names
    for package in SUBPACKAGES:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert not any(name.startswith(("tests/", "docs/", "benchmarks/")) for name in names)
    assert metadata["Name"] == "bgdebias"
    assert metadata["Version"] == version
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["Description-Content-Type"] == "text/markdown"
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"video", "test", "docs", "dev"} <= extras
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])
    assert "bgdebias = bgdebias.cli:main" in entry_points


def test_sdist_contents(built: dict[str, Any]) -> None:
    version = _version()
    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for required in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "src/bgdebias/py.typed",
        "src/bgdebias/_version.py",
    ):
        assert required in names, required
    assert built["sdist"].name == f"bgdebias-{version}.tar.gz"


def _site_packages() -> list[str]:
    """The site-packages folders of the environment running the tests, in ``sys.path`` order.

    Inside a virtual environment these are the environment's own folders (plus the base
    interpreter's when it was made with ``--system-site-packages``), on a bare interpreter
    the system's; the user site comes first when it is enabled, as in :mod:`site`.
    """
    folders = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    folders += site.getsitepackages()
    folders += [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    return [f for i, f in enumerate(folders) if os.path.isdir(f) and f not in folders[:i]]


def test_installed_wheel_works_outside_the_repository(built: dict[str, Any]) -> None:
    tmp = built["tmp"]
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    _run(
        python,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--force-reinstall",
        "--no-index",
        "--quiet",
        built["wheel"],
        cwd=tmp,
    )
    # Only now, so that pip saw nothing but the new environment: append this environment's
    # site-packages folders (torch, numpy, ...) after the new one's. Paths listed in a .pth
    # file are not scanned for further .pth files, so an editable install of the checkout
    # here does not follow.
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp)
    outer = _site_packages()
    (Path(purelib.strip()) / "_outer_environment.pth").write_text("\n".join(outer) + "\n")
    outside = tmp / "outside"
    outside.mkdir()
    imports = "; ".join(f"import {package}" for package in SUBPACKAGES)
    check = (
        f"{imports}; import pathlib, bgdebias; "
        "location = pathlib.Path(bgdebias.__file__).resolve(); "
        "print(bgdebias.__version__); print(location); "
        "print((location.parent / 'py.typed').is_file()); "
        "import torch; print(pathlib.Path(torch.__file__).resolve())"
    )
    version, location, typed, torch_location = _run(python, "-c", check, cwd=outside).splitlines()
    assert version == _version()
    # The wheel, not the checkout (or an editable install of it) is what got imported.
    assert Path(location).is_relative_to(venv.resolve()), (location, outer)
    assert not Path(location).is_relative_to((REPO / "src").resolve()), location
    assert typed == "True"
    # ... next to this environment's torch, not another interpreter's (issue #16: inside a
    # virtual environment, --system-site-packages exposed the base interpreter's packages).
    torch_spec = importlib.util.find_spec("torch")
    assert torch_spec is not None
    assert torch_spec.origin is not None
    assert Path(torch_location) == Path(torch_spec.origin).resolve(), (torch_location, outer)
    _run(python, "-c", _readme_example(), cwd=outside)
    script = venv / ("Scripts/bgdebias.exe" if sys.platform == "win32" else "bin/bgdebias")
    assert _run(script, "--version", cwd=outside).strip() == f"bgdebias {_version()}"
    assert not list(outside.iterdir())  # the example wrote nothing
