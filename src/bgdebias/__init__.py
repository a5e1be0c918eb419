"""bgdebias: building blocks that remove background bias from contrastive video SSL."""

from bgdebias._version import __version__

__all__ = ["__version__"]
