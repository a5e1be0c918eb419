"""Something-Something v2 from its JSON annotations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from typing_extensions import Unpack

from bgdebias._validation import check_choice
from bgdebias.data.datasets._index import AnnotationError, ListedVideo, read_json, require_file
from bgdebias.data.datasets.base import VideoClipDataset, VideoDatasetOptions
from bgdebias.data.sampling import ClipSampler

SomethingSomethingSplit = Literal["train", "validation"]


def template_label(template: str) -> str:
    """The class name of an SSv2 template: its ``[something]`` brackets removed.

    Example:
        >>> template_label("Putting [something] on [something]")  # a key of labels.json
        'Putting something on something'
    """
    return template.replace("[", "").replace("]", "")


class SomethingSomethingV2(VideoClipDataset):
    """Something-Something v2: 220,847 videos of 174 template actions.

    Layout::

        <root>/<id>.webm                             the videos
        <annotation_path>/labels.json                {"Approaching something ...": "0", ...}
        <annotation_path>/train.json, validation.json
            [{"id": "78687", "template": "Holding [something] next to [something]",
              "label": "holding potato next to vicks vaporub bottle", "placeholders": [...]}]

    A video's class is its ``template`` with the brackets removed, looked up in
    ``labels.json``; classes are ordered by their index there.

    Args:
        root: Folder with the ``.webm`` files.
        annotation_path: Folder with ``labels.json``, ``train.json`` and ``validation.json``.
        split: ``"train"`` or ``"validation"``.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If the root, a JSON file or a video is missing.
        ValueError: On a bad ``split``, a malformed entry (file and entry number) or an id
            that leaves ``root``.

    Example:
        >>> import json
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> sampler = UniformClipSampler(4, num_clips=1)
        >>> labels = {"Holding something": "0", "Pushing something from left to right": "1"}
        >>> entries = [{"id": "42", "template": "Pushing [something] from left to right"}]
        >>> with tempfile.TemporaryDirectory() as root:
        ...     _ = write_video(Path(root, "42.webm"), frames, codec="libvpx-vp9")
        ...     _ = Path(root, "labels.json").write_text(json.dumps(labels))
        ...     _ = Path(root, "train.json").write_text(json.dumps(entries))
        ...     data = SomethingSomethingV2(root, root, clip_sampler=sampler)
        ...     sample = data[0]
        >>> data.classes[1], data.paths, data.labels  # class: the template without brackets
        ('Pushing something from left to right', ('42.webm',), (1,))
        >>> sample.clip.shape
        torch.Size([3, 4, 32, 32])
    """

    dataset_name = "SomethingSomethingV2"

    def __init__(
        self,
        root: str | os.PathLike[str],
        annotation_path: str | os.PathLike[str],
        *,
        split: SomethingSomethingSplit = "train",
        clip_sampler: ClipSampler,
        **options: Unpack[VideoDatasetOptions],
    ) -> None:
        self.split: SomethingSomethingSplit = split
        check_choice(split, "split", ("train", "validation"))
        self.annotation_path = Path(annotation_path)
        super().__init__(root, clip_sampler=clip_sampler, **options)

    def _index_sources(self) -> list[Path]:
        return [
            require_file(self.annotation_path / "labels.json", "SSv2 class list labels.json"),
            require_file(
                self.annotation_path / f"{self.split}.json", f"SSv2 {self.split} annotations"
            ),
        ]

    def _cache_key(self) -> dict[str, Any]:
        return {**super()._cache_key(), "split": self.split}

    def _read_classes(self, source: Path) -> tuple[str, ...]:
        data = read_json(source)
        if not isinstance(data, dict):
            raise AnnotationError(source, None, "expected an object {class name: index}")
        try:
            by_index = {int(index): str(name) for name, index in data.items()}
        except (TypeError, ValueError):
            raise AnnotationError(source, None, "class indices must be integers") from None
        if sorted(by_index) != list(range(len(by_index))):
            raise AnnotationError(source, None, "class indices must run 0, 1, ..., N - 1")
        return tuple(by_index[i] for i in range(len(by_index)))

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        label_file, source = self._index_sources()
        classes = self._read_classes(label_file)
        labels = {name: label for label, name in enumerate(classes)}
        data = read_json(source)
        if not isinstance(data, list):
            raise AnnotationError(source, None, "expected a list of {id, template, ...} objects")
        listed: list[ListedVideo] = []
        for number, entry in enumerate(data, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
                raise AnnotationError(source, number, "entry lacks an 'id'", unit="entry")
            if not isinstance(entry.get("template"), str):
                raise AnnotationError(source, number, "entry lacks a 'template'", unit="entry")
            name = template_label(entry["template"])
            if name not in labels:
                raise AnnotationError(
                    source, number, f"template class {name!r} is not in labels.json", unit="entry"
                )
            video_id = str(entry["id"])
            if "/" in video_id or "\\" in video_id or video_id in ("", ".", ".."):
                raise ValueError(
                    f"{source}, entry {number}: id {video_id!r} must be a plain file stem "
                    "(it would resolve outside the dataset root)"
                )
            path = self._guard.relative(
                f"{video_id}.webm", source=source, line=number, unit="entry"
            )
            listed.append(
                ListedVideo(path=path, label=labels[name], source=source, line=number, unit="entry")
            )
        return classes, listed
