"""Stop on SIGINT/SIGTERM: save what there is, then raise :class:`RunInterrupted`.

The first signal stops the work: inside :func:`deferred_signals` (a training loop) it only
sets a flag, so the loop can finish its step and write a checkpoint before raising;
elsewhere (evaluation, heat maps) it raises at once. After the first signal both signals
get their default action back, so a second one ends the process immediately.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: The signals that stop a run.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(KeyboardInterrupt):
    """A SIGINT or SIGTERM stopped the work before it finished.

    A subclass of :class:`KeyboardInterrupt`, so ``except Exception`` blocks (a loader that
    skips unreadable videos, say) let it through as they would let Ctrl-C through.

    Args:
        signum: The signal received.
        saved: What was saved before stopping (e.g. the checkpoint), for the message.

    Example:
        >>> import signal
        >>> error = RunInterrupted(signal.SIGTERM, saved="checkpoint: runs/x/checkpoint-98.pt")
        >>> print(error)
        interrupted by SIGTERM; checkpoint: runs/x/checkpoint-98.pt
        >>> error.exit_code  # 128 + the signal number, as a shell reports it
        143
    """

    def __init__(self, signum: int, *, saved: str = "") -> None:
        super().__init__(signum, saved)
        self.signum = int(signum)
        self.saved = saved

    @property
    def signal_name(self) -> str:
        """``"SIGINT"`` or ``"SIGTERM"`` (the signal's name)."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The process exit status for this signal: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}" + (f"; {self.saved}" if self.saved else "")


class _SignalState:
    """What the handlers share: the signal received and how deep the guards are nested."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.depth = 0
        self.deferring = 0
        self.previous: dict[int, Any] = {}


_STATE = _SignalState()


def _handle(signum: int, _frame: FrameType | None) -> None:
    _STATE.signum = signum
    for sig in STOP_SIGNALS:  # a second signal ends the process at once
        signal.signal(sig, signal.SIG_DFL)
    if _STATE.deferring:
        name = signal.Signals(signum).name
        # os.write: print() is not safe inside a signal handler.
        os.write(
            2,
            f"bgdebias: {name} received, stopping after this step with a checkpoint "
            f"(send it again to quit at once)\n".encode(),
        )
        return
    raise RunInterrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block, SIGINT/SIGTERM raise :class:`RunInterrupted` (a second one kills).

    Nested blocks share one set of handlers; the previous handlers come back when the
    outermost block ends. Outside the main thread, signals are left alone.

    Example:
        >>> import os
        >>> import signal
        >>> try:
        ...     with stop_on_signals():
        ...         os.kill(os.getpid(), signal.SIGTERM)
        ... except RunInterrupted as error:
        ...     print(error.signal_name, error.exit_code)
        SIGTERM 143
    """
    if _STATE.depth == 0 and threading.current_thread() is not threading.main_thread():
        yield
        return
    if _STATE.depth == 0:
        _STATE.signum = None
        _STATE.previous = {sig: signal.signal(sig, _handle) for sig in STOP_SIGNALS}
    _STATE.depth += 1
    try:
        yield
        if _STATE.signum is not None:
            # The handler's exception was swallowed (Python ignores exceptions raised in
            # some callbacks, e.g. an import lock's): the work must still not count as done.
            raise RunInterrupted(_STATE.signum)
    finally:
        _STATE.depth -= 1
        if _STATE.depth == 0:
            for sig, handler in _STATE.previous.items():
                signal.signal(sig, handler)
            _STATE.previous = {}
            _STATE.signum = None


class StopFlag:
    """Whether a stop signal arrived during :func:`deferred_signals`."""

    @property
    def signum(self) -> int | None:
        """The signal received, or ``None``."""
        return _STATE.signum

    @property
    def requested(self) -> bool:
        """Whether a signal asked the work to stop."""
        return _STATE.signum is not None


@contextmanager
def deferred_signals() -> Iterator[StopFlag]:
    """Within this block a stop signal only sets :attr:`StopFlag.requested`.

    The code inside checks the flag at safe points (after a training step), saves, and
    raises :class:`RunInterrupted` itself. A signal the block leaves unanswered is raised
    when it ends.

    Example:
        >>> import os
        >>> import signal
        >>> steps = 0
        >>> try:
        ...     with deferred_signals() as stop:
        ...         while not stop.requested:
        ...             steps += 1  # one training step
        ...             if steps == 3:
        ...                 os.kill(os.getpid(), signal.SIGTERM)  # a signal mid-step
        ...         print(f"step {steps} finished; saving a checkpoint")
        ...         raise RunInterrupted(stop.signum, saved=f"checkpoint at step {steps}")
        ... except RunInterrupted as error:
        ...     print(error)
        step 3 finished; saving a checkpoint
        interrupted by SIGTERM; checkpoint at step 3
    """
    with stop_on_signals():
        _STATE.deferring += 1
        try:
            yield StopFlag()
        finally:
            _STATE.deferring -= 1
        if _STATE.deferring == 0 and _STATE.signum is not None:
            raise RunInterrupted(_STATE.signum)
