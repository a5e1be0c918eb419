"""``bgdebias --help`` answers without importing torch (which takes seconds)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "numpy", "PIL", "yaml", "tqdm")

#: Parses ``argv`` as the console script does, then names the heavy modules imported.
PROBE = """
import sys
from bgdebias.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit_:
    assert exit_.code == 0, exit_.code
heavy = {heavy!r}
print(sorted(name for name in sys.modules if name.split(".")[0] in heavy))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], *([command, "--help"] for command in
                                   ("pretrain", "evaluate", "heatmap", "demo"))],
)  # fmt: skip
def test_help_does_not_import_torch(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: bgdebias" in done.stdout or "bgdebias " in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"


def test_the_lazy_package_still_exports_its_names() -> None:
    import bgdebias
    import bgdebias.training
    from bgdebias import StaticDynamicDecoupler, info_nce
    from bgdebias.blocks import decoupler
    from bgdebias.training import loop, pretrain

    assert StaticDynamicDecoupler is decoupler.StaticDynamicDecoupler
    assert pretrain is loop.pretrain
    assert callable(info_nce)
    assert set(bgdebias.__all__) <= set(dir(bgdebias))
    assert set(bgdebias.training.__all__) <= set(dir(bgdebias.training))
    with pytest.raises(AttributeError, match="module 'bgdebias' has no attribute 'nothing'"):
        bgdebias.nothing  # noqa: B018
