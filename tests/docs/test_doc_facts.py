"""Tables of the documentation that restate the code's defaults agree with the code."""

from __future__ import annotations

import dataclasses
import re

import pytest
from doc_examples import DOCS

from bgdebias.training import PretrainConfig
from bgdebias.training.config import METHOD_PARTS


def _table_rows(page: str, header_start: str) -> list[list[str]]:
    """Cells of the Markdown table whose header row starts with ``header_start``."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _plain(cell: str) -> list[str]:
    """Values of a cell: backticks and parentheticals removed, split at commas."""
    text = re.sub(r"\([^)]*\)", "", cell).replace("`", "")
    return [value.strip() for value in text.split(",") if value.strip()]


def _same(documented: str, actual: object) -> bool:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return float(documented) == float(actual)
    return documented == str(actual)


def test_method_table_matches_the_method_parts() -> None:
    rows = _table_rows("method.md", "| `--method`")
    documented = {row[0].strip("`"): tuple(cell == "yes" for cell in row[1:5]) for row in rows}
    assert documented == {name: dataclasses.astuple(parts) for name, parts in METHOD_PARTS.items()}


@pytest.mark.parametrize(
    ("column", "config"),
    [
        (1, PretrainConfig(dataset="synthetic")),
        (2, PretrainConfig(dataset="ucf101", root="data")),
    ],
)
def test_pretraining_defaults_table(column: int, config: PretrainConfig) -> None:
    resolved = config.resolved()
    for row in _table_rows("reproduce.md", "| option |"):
        options = re.findall(r"`--([a-z-]+)`", row[0])
        values = _plain(row[column])
        for option, value in zip(options, values, strict=False):
            actual = getattr(resolved, option.replace("-", "_"))
            assert _same(value, actual), f"--{option}: docs say {value!r}, code has {actual!r}"


def test_pretraining_common_defaults() -> None:
    text = (DOCS / "reproduce.md").read_text(encoding="utf-8")
    paragraph = text[text.index("and, for every dataset") :].split("\n\n", 1)[0]
    pairs = re.findall(r"`--([a-z-]+) ([^`\s/]+)`", paragraph)
    assert len(pairs) >= 5, paragraph
    defaults = PretrainConfig().resolved()  # the values a run uses (e.g. w_static)
    for option, value in pairs:
        actual = getattr(defaults, option.replace("-", "_"))
        assert _same(value, actual), f"--{option}: docs say {value!r}, code has {actual!r}"
