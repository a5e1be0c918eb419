"""``python -m bgdebias`` runs the command line."""

import sys

from bgdebias.cli import main

sys.exit(main())
