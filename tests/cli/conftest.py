from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Generous: the suite shares two cores, and each process imports torch first.
PATIENCE_S = 600.0


class RunningCommand:
    """A command in a subprocess whose stdout and stderr lines are read as they come."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._new: queue.Queue[tuple[str, str]] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.process.stdout), ("stderr", self.process.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines[name].append(line)
            self._new.put((name, line))

    def wait_for_line(self, text: str, *, stream: str = "stdout") -> str:
        """Block until a line of ``stream`` contains ``text``; fail if the process ends."""
        deadline = time.monotonic() + PATIENCE_S
        for line in self.lines[stream]:
            if text in line:
                return line
        while time.monotonic() < deadline:
            try:
                name, line = self._new.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self._new.empty():
                    break
                continue
            if name == stream and text in line:
                return line
        pytest.fail(f"no line with {text!r} on {stream}; stderr: {''.join(self.lines['stderr'])}")

    def wait_for_file(self, path: Path) -> None:
        """Block until ``path`` exists; fail if the process ends first."""
        deadline = time.monotonic() + PATIENCE_S
        while not path.exists():
            if self.process.poll() is not None:
                pytest.fail(f"ended before {path} appeared: {''.join(self.lines['stderr'])}")
            if time.monotonic() > deadline:
                pytest.fail(f"{path} did not appear")
            time.sleep(0.05)

    def finish(self) -> tuple[int, str, str]:
        """Wait for the end: exit status, stdout and stderr."""
        code = self.process.wait(timeout=PATIENCE_S)
        for reader in self._readers:
            reader.join(timeout=PATIENCE_S)
        return code, "".join(self.lines["stdout"]), "".join(self.lines["stderr"])


@pytest.fixture
def start() -> Iterator[type[RunningCommand]]:
    """Start commands (``start([...])``); any still running at teardown is killed."""
    started: list[RunningCommand] = []

    class Tracked(RunningCommand):
        def __init__(self, command: list[str]) -> None:
            super().__init__(command)
            started.append(self)

    yield Tracked
    for command in started:
        if command.process.poll() is None:
            command.process.kill()
            command.process.wait()
