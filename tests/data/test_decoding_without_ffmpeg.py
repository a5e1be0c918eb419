"""torchcodec installed but unable to load its FFmpeg libraries: ``"auto"`` uses PyAV.

Recent torchcodec imports without FFmpeg and raises "Could not load libtorchcodec" only when
a decoder is made, so the probe must load torchcodec's core library, not just import it.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import bgdebias
from bgdebias.data.decoding import VideoReader, available_backends, decode_frames, resolve_backend
from bgdebias.data.decoding import _notices as notices
from bgdebias.data.decoding import reader as decoding
from bgdebias.data.decoding._torchcodec import torchcodec_load_error

LOAD_ERROR = (
    "Could not load libtorchcodec. Likely causes:\n"
    "  1. FFmpeg is not properly installed in your environment."
)
WARNING_START = "torchcodec is installed but cannot load here"


@pytest.fixture
def unloadable_torchcodec(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """torchcodec's core-library loader raising as it does without FFmpeg; yields its calls."""
    from torchcodec._core import ops

    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise RuntimeError(LOAD_ERROR)

    monkeypatch.setattr(ops, "load_core_libraries", refuse)
    monkeypatch.setattr(notices, "_given", set())
    torchcodec_load_error.cache_clear()
    yield calls
    torchcodec_load_error.cache_clear()  # the next test probes the real library again


def test_auto_uses_pyav_with_one_warning(
    unloadable_torchcodec: list[int],
    caplog: pytest.LogCaptureFixture,
    vds_videos: dict[str, Path],
) -> None:
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        assert available_backends() == ("pyav",)
        assert resolve_backend("auto") == "pyav"
        for _ in range(3):
            with VideoReader(vds_videos["mp4"]) as video:
                assert video.backend == "pyav"
                assert video.get_frames([0, 11]).shape == (2, 3, 32, 48)
    assert len(caplog.records) == 1
    message = caplog.messages[0]
    assert message.startswith(
        f"{WARNING_START} (RuntimeError: Could not load libtorchcodec); decoding videos with "
        "PyAV instead. To decode with torchcodec, install FFmpeg's shared libraries"
    )
    assert "apt-get install ffmpeg" in message
    assert "backend='pyav'" in message
    assert unloadable_torchcodec == [1]  # probed once, however often a backend is resolved


@pytest.mark.usefixtures("unloadable_torchcodec")
def test_forcing_torchcodec_names_the_install_commands(vds_videos: dict[str, Path]) -> None:
    expected = (
        "backend='torchcodec' needs torchcodec and FFmpeg's shared libraries "
        "(pip install torchcodec; apt-get install ffmpeg): RuntimeError: Could not load "
        "libtorchcodec"
    )
    with pytest.raises(ImportError, match=re.escape(expected)):
        resolve_backend("torchcodec")
    with pytest.raises(ImportError, match=re.escape(expected)):
        decode_frames(vds_videos["mp4"], [0], backend="torchcodec")


def test_no_warning_where_torchcodec_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        decoding, "torchcodec_load_error", lambda: "ModuleNotFoundError: No module named 'x'"
    )
    monkeypatch.setattr(decoding, "torchcodec_installed", lambda: False)
    monkeypatch.setattr(notices, "_given", set())
    with caplog.at_level(logging.WARNING, logger="bgdebias.data.decoding"):
        assert resolve_backend("auto") == "pyav"
    assert caplog.messages == []  # PyAV alone is a choice, not a broken install


def _torchcodec_without_core_libraries(folder: Path) -> Path:
    """A copy of the installed torchcodec package (links to its files) lacking the
    FFmpeg-linked ``libtorchcodec_core*`` libraries, as on a machine without FFmpeg."""
    torchcodec = pytest.importorskip("torchcodec")
    installed = Path(torchcodec.__file__).parent
    copy = folder / "torchcodec"
    copy.mkdir(parents=True)
    hidden = 0
    for entry in installed.iterdir():
        if entry.name.startswith("libtorchcodec_core"):
            hidden += 1
        elif entry.name != "__pycache__":
            (copy / entry.name).symlink_to(entry)
    if not hidden:
        pytest.skip(f"no libtorchcodec_core* library beside {installed}")
    return folder


def test_a_process_without_torchcodecs_core_library_decodes_with_pyav(
    tmp_path: Path, vds_videos: dict[str, Path]
) -> None:
    shadow = _torchcodec_without_core_libraries(tmp_path / "site")
    script = textwrap.dedent(
        f"""
        from bgdebias.data import VideoReader, available_backends, decode_frames
        print(available_backends())
        print([VideoReader({str(vds_videos["mp4"])!r}).backend for _ in range(3)])
        print(tuple(decode_frames({str(vds_videos["avi"])!r}, [0, 11]).shape))
        try:
            decode_frames({str(vds_videos["mp4"])!r}, [0], backend="torchcodec")
        except ImportError as error:
            print("ImportError", str(error).splitlines()[0])
        """
    )
    source = str(Path(bgdebias.__file__).parents[1])
    path = os.pathsep.join([str(shadow), source, os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=540
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "('pyav',)",
        "['pyav', 'pyav', 'pyav']",
        "(2, 3, 32, 48)",
        "ImportError backend='torchcodec' needs torchcodec and FFmpeg's shared libraries "
        "(pip install torchcodec; apt-get install ffmpeg): RuntimeError: Could not load "
        "libtorchcodec",
    ]
    assert done.stderr.count(WARNING_START) == 1, done.stderr
    assert "Traceback" not in done.stderr
