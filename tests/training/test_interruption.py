"""A stop signal whose exception was swallowed still ends the interruptible block."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from bgdebias.training import RunInterrupted
from bgdebias.training.interruption import stop_on_signals


def _work_that_swallows_the_signal(done: list[str]) -> None:
    with stop_on_signals():
        # As in a callback whose exceptions Python ignores (e.g. an import lock's).
        with contextlib.suppress(RunInterrupted):
            os.kill(os.getpid(), signal.SIGTERM)
        done.append("work")


def test_a_swallowed_interruption_is_raised_when_the_block_ends() -> None:
    done: list[str] = []
    with pytest.raises(RunInterrupted, match="SIGTERM"):
        _work_that_swallows_the_signal(done)
    assert done == ["work"]
