"""Sphinx configuration of the bgdebias documentation.

Build: ``sphinx-build -W --keep-going -n -b html docs docs/_build/html`` (warnings are
errors, ``-n`` reports every unresolved internal reference).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import bgdebias

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

# sphinx-autodoc-typehints 3.6 calls an API that Sphinx 9 deprecates, once per docstring.
warnings.filterwarnings("ignore", message=".*set_application.*is deprecated")

project = "bgdebias"
author = "bgdebias developers"
copyright = "bgdebias developers"
version = release = bgdebias.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    "myst_parser",
    "apigen",
    "stage_table",
]

# --- API reference (docs/_ext/apigen.py writes docs/api/ from each module's __all__) -----
apigen_modules = [
    "bgdebias",
    "bgdebias.blocks",
    "bgdebias.blocks.functional",
    "bgdebias.losses",
    "bgdebias.moco",
    "bgdebias.models",
    "bgdebias.data",
    "bgdebias.data.decoding",
    "bgdebias.data.transforms",
    "bgdebias.data.functional",
    "bgdebias.data.synthetic",
    "bgdebias.evaluation",
    "bgdebias.viz",
    "bgdebias.training",
    "bgdebias.experiments",
]
apigen_output = "api"

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# --- MyST -------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# --- autodoc / autosummary / napoleon / type hints --------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    # Members inherited from the library's own (private) base classes are documented;
    # those of torch, Python and typing bases are not.
    "inherited-members": "Module, Dataset, Protocol, Generic, tuple, object, dict, "
    "Exception, BaseException, ValueError, RuntimeError",
}
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = ["Shape"]
typehints_fully_qualified = False
always_document_param_types = False
typehints_document_rtype = True
typehints_use_signature = False

# No network at build time: intersphinx inventories are not fetched (a missing inventory
# would only leave external names unlinked), so cross-references to torch/Python are
# resolved as plain text and ignored by the nitpicky check below.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# Nitpicky mode (``-n``) checks *internal* references. Names from outside the package
# (torch, numpy, the standard library) have no inventory offline and are ignored.
nitpicky = True
_EXTERNAL_MODULES = (
    "torch|numpy|np|npt|PIL|argparse|os|pathlib|collections|typing|typing_extensions"
    "|abc|dataclasses|enum|hashlib|logging|csv|json"
)
_EXTERNAL_NAMES = (
    "Tensor|Generator|Module|Path|PathLike|Sequence|Callable|Iterable|Iterator|Mapping|Any"
    "|Literal|NDArray|Dataset|DataLoader|Unpack|TypedDict|NamedTuple|Protocol"
)
_BUILTINS = (
    "int|float|str|bool|bytes|None|dict|list|tuple|set|object|type"
    "|Exception|ValueError|TypeError|RuntimeError|FileNotFoundError"
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({_EXTERNAL_MODULES})(\..*)?"),
    (r"py:.*", rf"({_EXTERNAL_NAMES})"),
    (r"py:.*", rf"({_BUILTINS})"),
    (r"py:data", r"Ellipsis"),
    # Bases shown by show-inheritance that are not part of the documented API.
    (r"py:.*", r"bgdebias\.data\.transforms\.base\.(ParamsT|RandomSwitchClip)"),
    (r"py:.*", r"bgdebias\.data\.datasets\._three_folds\.ThreeFoldDataset"),
    (r"py:.*", r"bgdebias\.training\.state\.ModelT"),
]

# --- linkcheck: only internal links can be checked here (no network) -------------------
linkcheck_ignore = [r"https?://.*", r"mailto:.*"]
linkcheck_anchors = False

# --- HTML -------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"bgdebias {release}"
html_static_path = ["_static"]
html_show_sourcelink = False

# Benchmark pages are written from measured runs by other developers and may not all
# exist yet; an empty glob in the benchmarks toctree is not an error.
suppress_warnings = ["toc.empty_glob"]
