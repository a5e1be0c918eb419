"""Helpers behind the data pipeline, for code that builds its own.

Most users need none of these: the datasets decode, convert and sample for them.
"""

from bgdebias.data.datasets.kinetics import kinetics_file_name
from bgdebias.data.datasets.something_something import template_label
from bgdebias.data.decoding.reader import apply_short_video
from bgdebias.data.transforms._input import as_clip_batch
from bgdebias.data.transforms.colour import shift_hue, to_float_clip
from bgdebias.data.transforms.presets import resize_side_for_crop

__all__ = [
    "apply_short_video",
    "as_clip_batch",
    "kinetics_file_name",
    "resize_side_for_crop",
    "shift_hue",
    "template_label",
    "to_float_clip",
]
