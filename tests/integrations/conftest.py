"""Make the integration guides' modules (examples/integrations/) importable by these tests."""

from __future__ import annotations

import sys
from pathlib import Path

GUIDES = Path(__file__).resolve().parents[2] / "examples" / "integrations"
if str(GUIDES) not in sys.path:
    sys.path.insert(0, str(GUIDES))
