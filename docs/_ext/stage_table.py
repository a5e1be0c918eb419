"""The ``backbone-stage-table`` directive: every backbone's stage shapes, computed at build.

The shapes are measured by running each backbone (random weights) on a zero clip with
:func:`bgdebias.models._measure.stage_rows`, so the table cannot drift from the code; a
stage with ``T_s < 2`` (too few time steps for ``MotionAwareDecomposition``) is marked.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from bgdebias.models._measure import TABLE_FRAMES, TABLE_SIZE, stage_rows


def _entry(*children: nodes.Node) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *children))


def _row(cells: list[list[nodes.Node]]) -> nodes.row:
    return nodes.row("", *(_entry(*cell) for cell in cells))


class BackboneStageTable(SphinxDirective):
    """A table: backbone, stage, then ``(C_s, T_s, H_s, W_s)`` per input frame count."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        header = [
            "backbone",
            "stage",
            *(f"{t} x {TABLE_SIZE} x {TABLE_SIZE}" for t in TABLE_FRAMES),
        ]
        body = []
        for name, stage, shapes in stage_rows():
            cells: list[list[nodes.Node]] = [[nodes.literal(text=name)], [nodes.Text(stage)]]
            for shape in shapes:
                cell: list[nodes.Node] = [nodes.Text("(" + ", ".join(map(str, shape)) + ")")]
                if shape[1] < 2:
                    cell += [nodes.Text(" "), nodes.strong(text="T_s < 2")]
                cells.append(cell)
            body.append(_row(cells))
        group = nodes.tgroup(cols=len(header))
        group += [nodes.colspec(colwidth=1) for _ in header]
        group += nodes.thead("", _row([[nodes.Text(text)] for text in header]))
        group += nodes.tbody("", *body)
        return [nodes.table("", group)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("backbone-stage-table", BackboneStageTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
