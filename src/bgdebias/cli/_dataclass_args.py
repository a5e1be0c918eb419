"""Command-line options generated from a configuration dataclass's fields."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal, get_args, get_origin


def add_dataclass_options(parser: argparse.ArgumentParser, cls: type[Any]) -> None:
    """Add one ``--name`` option per field, typed from the field and documented by the help
    text in its metadata (``metadata={"help": ...}``)."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        option = "--" + field.name.replace("_", "-")
        default = field.default
        help_text = field.metadata.get("help", field.name.replace("_", " "))
        if default is not None and default is not dataclasses.MISSING:
            help_text += f" (default: {default})"
        choices = _literal_choices(hint)
        if _base_type(hint) is bool:
            parser.add_argument(
                option,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
        elif choices:
            parser.add_argument(
                option, dest=field.name, choices=choices, default=None, help=help_text
            )
        else:
            parser.add_argument(
                option,
                dest=field.name,
                type=_base_type(hint),
                default=None,
                help=help_text,
                metavar=field.name.upper(),
            )


def overrides(namespace: argparse.Namespace, cls: type[Any]) -> dict[str, Any]:
    """The options given on the command line (those not left at ``None``)."""
    names = {field.name for field in dataclasses.fields(cls)}
    return {k: v for k, v in vars(namespace).items() if k in names and v is not None}


def _literal_choices(hint: Any) -> list[str] | None:
    for candidate in (hint, *get_args(hint)):
        if get_origin(candidate) is Literal:
            return [str(value) for value in get_args(candidate)]
    return None


def _base_type(hint: Any) -> type[Any]:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _base_type(options[0])
    if origin is Literal:
        return str
    return hint if isinstance(hint, type) else str
