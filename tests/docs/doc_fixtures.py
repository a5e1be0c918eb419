"""Files some documentation pages expect in the working directory before their examples run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

#: page (relative to docs/) -> function preparing its working directory.
PAGE_SETUP: dict[str, Callable[[Path], None]] = {}
