"""Generate the API reference pages from the packages' ``__all__`` at build time.

Every public name is documented exactly once, on the page of the deepest listed module that
exports it (``bgdebias.StaticDynamicDecoupler`` is documented as
``bgdebias.blocks.StaticDynamicDecoupler``); the other modules that re-export it list it in
their summary table, and references to any of its names (``bgdebias.X``, the re-export, the
defining module ``bgdebias.blocks.decoupler.X``) resolve to that one entry.

Pages are written to ``docs/api/`` (git-ignored) before Sphinx reads the sources. A module
that fails to import is a build warning (so ``-W`` fails), not a silently missing page.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: documented name -> documented name, filled for every alias of an object.
_ALIASES: dict[str, str] = {}
#: short name -> documented names with that short name.
_BY_SHORT_NAME: dict[str, set[str]] = {}


def _public_names(module: Any) -> list[str]:
    """``__all__``, or else the public names the module's own source defines at top level."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    source = Path(inspect.getsourcefile(module) or "")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    defined: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined.append(node.target.id)
    return [
        name
        for name in dict.fromkeys(defined)
        if not name.startswith("_") and not _is_type_alias(getattr(module, name, None))
    ]


def _is_type_alias(value: Any) -> bool:
    """``Literal[...]``/``TypeVar`` aliases: shown expanded in signatures, not documented."""
    return type(value).__module__ == "typing"


def _canonical(obj: Any, fallback: str) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if (
        isinstance(module, str)
        and isinstance(qualname, str)
        and (inspect.isclass(obj) or inspect.isfunction(obj))
    ):
        return f"{module}.{qualname}"
    return fallback


def _key(public: str, obj: Any) -> tuple[str, Any]:
    """Identity of an exported object (scalars, which Python shares, by name)."""
    if isinstance(obj, (int, float, str, bool, type(None))):
        return ("name", public)
    return ("id", id(obj))


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoclass" if not issubclass(obj, BaseException) else "autoexception"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "autofunction"
    return "autodata"


def _underline(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}"


def generate(app: Sphinx) -> None:
    modules: list[str] = list(app.config.apigen_modules)
    out_dir = Path(app.srcdir) / app.config.apigen_output
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.rst"):  # pages of modules no longer listed
        if stale.stem not in modules and stale.stem != "index":
            stale.unlink()
    _ALIASES.clear()
    _BY_SHORT_NAME.clear()

    loaded: dict[str, Any] = {}
    for name in modules:
        try:
            loaded[name] = importlib.import_module(name)
        except Exception as error:
            logger.warning("apigen: cannot import %s: %s: %s", name, type(error).__name__, error)

    # Owner of each object: the deepest listed module that exports it.
    exports: dict[str, list[tuple[str, Any]]] = {}
    owner: dict[tuple[str, Any], str] = {}
    for name, module in loaded.items():
        pairs = []
        for public in _public_names(module):
            if not hasattr(module, public):
                logger.warning("apigen: %s.__all__ names %r, which it lacks", name, public)
                continue
            obj = getattr(module, public)
            pairs.append((public, obj))
            key = _key(public, obj)
            current = owner.get(key)
            if current is None or name.count(".") > current.count("."):
                owner[key] = name
        exports[name] = pairs

    for name, pairs in exports.items():
        for public, obj in pairs:
            key = _key(public, obj)
            documented = f"{owner[key]}.{public}"
            for alias in (f"{name}.{public}", _canonical(obj, documented)):
                _ALIASES.setdefault(alias, documented)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                # Constants have no __module__: alias every module that holds this object.
                for module_name, holder in list(sys.modules.items()):
                    if module_name.startswith("bgdebias") and vars(holder).get(public) is obj:
                        _ALIASES.setdefault(f"{module_name}.{public}", documented)
            _BY_SHORT_NAME.setdefault(public, set()).add(documented)

    index_lines = [
        _underline("API reference"),
        "",
        "Every public name of the package, by subpackage. Each object is documented once, on",
        "the page of the subpackage that owns it; the top-level :mod:`bgdebias` re-exports the",
        "blocks and losses (``from bgdebias import StaticDynamicDecoupler``).",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ]
    for name in modules:
        index_lines.append(f"   {name}")
        module = loaded.get(name)
        lines = [_underline(f"``{name}``"), ""]
        if module is None:
            lines += [f".. module:: {name}", ""]
            (out_dir / f"{name}.rst").write_text("\n".join(lines) + "\n")
            continue
        lines += [f".. automodule:: {name}", "   :no-members:", "   :no-inherited-members:", ""]
        pairs = exports[name]
        if pairs:
            lines += [".. autosummary::", "   :nosignatures:", ""]
            for public, obj in pairs:
                documented = f"{owner[_key(public, obj)]}.{public}"
                # autosummary wants names relative to the current module.
                relative = documented.removeprefix(f"{name}.")
                lines.append(f"   {relative}" if relative.count(".") == 0 else f"   ~{relative}")
            lines.append("")
        else:
            lines += ["This module exports no public names.", ""]
        for public, obj in pairs:
            key = _key(public, obj)
            if owner[key] != name:
                continue
            lines += [f".. {_directive(obj)}:: {name}.{public}", ""]
        (out_dir / f"{name}.rst").write_text("\n".join(lines) + "\n")
    (out_dir / "index.rst").write_text("\n".join(index_lines) + "\n")


def resolve_alias(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.reference | None:
    """Resolve a reference to a re-exported or defining-module name to its documented entry."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.domains["py"]
    if node["reftype"] == "mod" and target.startswith("bgdebias."):
        # A private or undocumented submodule: link to the nearest documented package.
        parent = target
        while "." in parent:
            parent = parent.rsplit(".", 1)[0]
            if parent in app.config.apigen_modules:
                return domain.resolve_xref(  # type: ignore[no-any-return]
                    env, node["refdoc"], app.builder, "mod", parent, node, contnode
                )
        return None
    candidates = [target]
    module = node.get("py:module")
    if module:
        candidates.append(f"{module}.{target}")
    documented = next((_ALIASES[c] for c in candidates if c in _ALIASES), None)
    if documented is None and "." not in target and len(_BY_SHORT_NAME.get(target, ())) == 1:
        documented = next(iter(_BY_SHORT_NAME[target]))
    if documented is None or documented == target:
        return None
    return domain.resolve_xref(  # type: ignore[no-any-return]
        env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
    )


def skip_namedtuple_fields(
    _app: Sphinx, _what: str, _name: str, obj: Any, _skip: bool, _options: Any
) -> bool | None:
    """Named tuples document their fields in the class docstring (``Attributes:``)."""
    doc = getattr(obj, "__doc__", None) or ""
    if isinstance(doc, str) and doc.startswith("Alias for field number"):
        return True
    return None


def hide_private_bases(
    _app: Sphinx, _name: str, _obj: Any, _options: Any, bases: list[Any]
) -> None:
    """Show a private base class (``_ClipSamplerBase``) as its own public bases."""
    expanded: list[Any] = []
    for base in bases:
        pending = [base]
        while pending:
            current = pending.pop(0)
            if getattr(current, "__name__", "").startswith("_") and current is not object:
                pending[:0] = [b for b in current.__bases__ if b is not object]
            elif current not in expanded:
                expanded.append(current)
    bases[:] = expanded or [object]


_PROSE_BEFORE_COLON = re.compile(r"^(?P<head>[A-Za-z][^:`]*\s[^:`]*): (?P<tail>.*)$")


def keep_property_summaries(
    _app: Sphinx, what: str, _name: str, _obj: Any, _options: Any, lines: list[str]
) -> None:
    """Napoleon reads a property's first line ``text: more`` as ``type: description``.

    A first line whose part before the colon is prose (it has spaces) would lose that part
    to the type; its colon becomes a dash instead. Runs before napoleon.
    """
    if what == "property" and lines:
        match = _PROSE_BEFORE_COLON.match(lines[0])
        if match:
            lines[0] = f"{match['head']} \u2014 {match['tail']}"


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", keep_property_summaries, priority=400)
    app.connect("autodoc-process-bases", hide_private_bases)
    app.connect("autodoc-skip-member", skip_namedtuple_fields)
    app.add_config_value("apigen_modules", [], "env")
    app.add_config_value("apigen_output", "api", "env")
    app.connect("builder-inited", generate)
    app.connect("missing-reference", resolve_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
