"""UCF101 with its official three train/test splits (``ucfTrainTestlist``)."""

from __future__ import annotations

from pathlib import Path

from bgdebias.data.datasets._index import (
    AnnotationError,
    ListedVideo,
    read_text_lines,
    require_file,
)
from bgdebias.data.datasets._three_folds import ThreeFoldDataset


class UCF101(ThreeFoldDataset):
    """UCF101: 13,320 videos of 101 actions, with the official split lists.

    Layout::

        <root>/<Class>/v_<Class>_gXX_cYY.avi          the videos (UCF-101/ of the archive)
        <annotation_path>/classInd.txt                "1 ApplyEyeMakeup" (1-based labels)
        <annotation_path>/trainlist0{1,2,3}.txt       "ApplyEyeMakeup/v_..._g08_c01.avi 1"
        <annotation_path>/testlist0{1,2,3}.txt        "ApplyEyeMakeup/v_..._g01_c01.avi"

    Labels are ``classInd`` numbers minus one; test videos take the label of their folder.

    Args:
        root: Folder with one sub-folder of ``.avi`` files per class.
        annotation_path: Folder with ``classInd.txt`` and the split lists
            (``ucfTrainTestlist``).
        split: ``"train"`` or ``"test"``.
        fold: Official split number, 1, 2 or 3.
        clip_sampler: Frame indices per video, see :class:`VideoClipDataset`.
        **options: The common options of :class:`VideoClipDataset`.

    Raises:
        FileNotFoundError: If the root, ``classInd.txt``, the split list or a video is missing.
        ValueError: On a bad ``split``/``fold``, a malformed line (named by file and line) or
            a path leaving ``root``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import torch
        >>> from bgdebias.data import UniformClipSampler, write_video
        >>> frames = torch.zeros(8, 32, 32, 3, dtype=torch.uint8)
        >>> one, three = UniformClipSampler(4, num_clips=1), UniformClipSampler(4, num_clips=3)
        >>> with tempfile.TemporaryDirectory() as root:
        ...     for video in ("Archery/v_Archery_g01_c01.avi", "Archery/v_Archery_g08_c01.avi",
        ...                   "Bowling/v_Bowling_g08_c01.avi"):
        ...         _ = write_video(Path(root, video), frames, codec="mpeg4")
        ...     notes = Path(root, "ucfTrainTestlist")
        ...     notes.mkdir()
        ...     _ = (notes / "classInd.txt").write_text("1 Archery\\n2 Bowling\\n")
        ...     _ = (notes / "trainlist01.txt").write_text(
        ...         "Archery/v_Archery_g08_c01.avi 1\\nBowling/v_Bowling_g08_c01.avi 2\\n"
        ...     )
        ...     _ = (notes / "testlist01.txt").write_text("Archery/v_Archery_g01_c01.avi\\n")
        ...     train = UCF101(root, notes, split="train", clip_sampler=one)
        ...     test = UCF101(root, notes, split="test", clip_sampler=three)
        ...     sample = test[0]
        >>> train.classes, train.labels, test.paths
        (('Archery', 'Bowling'), (0, 1), ('Archery/v_Archery_g01_c01.avi',))
        >>> sample.clip.shape, sample.label  # 3 clips; a test video takes its folder's label
        (torch.Size([3, 3, 4, 32, 32]), 0)
    """

    dataset_name = "UCF101"

    @property
    def _class_file(self) -> Path:
        return self.annotation_path / "classInd.txt"

    @property
    def _split_file(self) -> Path:
        return self.annotation_path / f"{self.split}list0{self.fold}.txt"

    def _index_sources(self) -> list[Path]:
        return [
            require_file(self._class_file, "UCF101 class list classInd.txt"),
            require_file(self._split_file, f"UCF101 {self.split} list of fold {self.fold}"),
        ]

    def _read_classes(self) -> tuple[str, ...]:
        numbered: dict[int, str] = {}
        for line, text in read_text_lines(self._class_file):
            parts = text.split()
            if len(parts) != 2 or not parts[0].isdigit():
                raise AnnotationError(
                    self._class_file, line, f"expected '<number> <ClassName>', got {text!r}"
                )
            numbered[int(parts[0])] = parts[1]
        if sorted(numbered) != list(range(1, len(numbered) + 1)):
            raise AnnotationError(
                self._class_file, None, "class numbers must run 1, 2, ..., N without gaps"
            )
        return tuple(numbered[n] for n in range(1, len(numbered) + 1))

    def _list_videos(self) -> tuple[tuple[str, ...], list[ListedVideo]]:
        classes = self._read_classes()
        by_name = {name.lower(): label for label, name in enumerate(classes)}
        source = self._split_file
        listed: list[ListedVideo] = []
        for line, text in read_text_lines(source):
            parts = text.split()
            if self.split == "train":
                if len(parts) != 2 or not parts[1].isdigit():
                    raise AnnotationError(
                        source, line, f"expected '<Class>/<video>.avi <label>', got {text!r}"
                    )
                label = int(parts[1]) - 1
                if not 0 <= label < len(classes):
                    raise AnnotationError(
                        source, line, f"label {parts[1]} is not in classInd.txt (1-{len(classes)})"
                    )
            else:
                if len(parts) != 1:
                    raise AnnotationError(
                        source, line, f"expected '<Class>/<video>.avi', got {text!r}"
                    )
                folder = parts[0].replace("\\", "/").split("/")[0]
                if folder.lower() not in by_name:
                    raise AnnotationError(
                        source, line, f"class folder {folder!r} is not in classInd.txt"
                    )
                label = by_name[folder.lower()]
            path = self._guard.relative(parts[0], source=source, line=line)
            listed.append(ListedVideo(path=path, label=label, source=source, line=line))
        return classes, listed
