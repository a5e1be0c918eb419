"""The ready configurations in configs/pretrain/ load as ``bgdebias pretrain --config`` reads
them, take command-line overrides, and hold the hyper-parameters the documentation gives."""

from __future__ import annotations

import dataclasses
import re
import shlex
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from bgdebias.cli import build_parser
from bgdebias.cli.pretrain import config_from_args
from bgdebias.training import PretrainConfig
from bgdebias.training.config import Method

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs" / "pretrain"
REPRODUCE = REPO / "docs" / "reproduce.md"
#: file prefix -> ``PretrainConfig.dataset``
DATASETS = {"ucf101": "ucf101", "hmdb51": "hmdb51", "kinetics400": "kinetics"}
METHODS: tuple[Method, ...] = ("moco", "fame", "full")
#: The keys of each method's block; every other key is shared by a dataset's three files.
METHOD_KEYS = {
    "moco": {"method", "temperature"},
    "fame": {"method", "temperature", "beta"},
    "full": {
        "method",
        "temperature",
        "w_static",
        "w_wide",
        "w_micro",
        "mask_mode",
        "threshold",
        "hard_negative",
        "mix_view",
        "mix_colours",
    },
}
#: Values the configurations choose beyond the documented commands: the checkpoint
#: frequency, and HMDB51's budget (UCF101's number of epochs; the docs show no command).
OWN_CHOICES = {
    "ucf101": {"checkpoint_every"},
    "hmdb51": {"checkpoint_every", "steps", "warmup_steps"},
    "kinetics400": {"checkpoint_every"},
}
PATHS = [CONFIGS / f"{dataset}-{method}.yaml" for dataset in DATASETS for method in METHODS]


def _values(path: Path) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(path.read_text())
    return values


def _python_types(hint: Any) -> set[type]:
    """The Python types a field's type hint allows (``Literal`` values give their types)."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return {type(value) for value in typing.get_args(hint)}
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_python_types(arg) for arg in typing.get_args(hint)))
    return {hint}


def _load(path: Path, *options: str) -> PretrainConfig:
    """What ``bgdebias pretrain --config PATH OPTIONS`` builds, without training."""
    args = build_parser().parse_args(["pretrain", "--config", str(path), *options])
    return config_from_args(args)


def _documented_command(dataset: str) -> dict[str, Any]:
    """Options of the ``bgdebias pretrain --dataset DATASET`` command on the reproduce page."""
    text = re.sub(r"\\\n", " ", REPRODUCE.read_text(encoding="utf-8"))
    for line in text.splitlines():
        words = shlex.split(line.split(" #", 1)[0]) if "bgdebias pretrain" in line else []
        if words and f"--dataset {dataset}" in line:
            arguments = words[words.index("bgdebias") + 1 :]
            args = build_parser().parse_args(arguments)
            names = {field.name for field in dataclasses.fields(PretrainConfig)}
            return {k: v for k, v in vars(args).items() if k in names and v is not None}
    raise AssertionError(f"no `bgdebias pretrain --dataset {dataset}` command in {REPRODUCE}")


def test_one_file_per_dataset_and_method() -> None:
    assert sorted(CONFIGS.iterdir()) == sorted(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_config_loads_as_the_command_reads_it(path: Path) -> None:
    prefix, method = path.stem.rsplit("-", 1)
    config = _load(path)
    assert (config.dataset, config.method) == (DATASETS[prefix], method)
    hints = typing.get_type_hints(PretrainConfig)
    for name, value in _values(path).items():
        assert getattr(config, name) == value, name
        # YAML reads 1e-4 as a string and 1 as an int: the file must say 0.0001 and 1.0.
        assert type(value) in _python_types(hints[name]), f"{name}: {value!r}, {hints[name]}"
    resolved = config.resolved()
    assert resolved.lr is not None
    assert resolved.queue_size is not None
    assert resolved.batch_size is not None
    assert resolved.batch_size >= 16


def test_command_line_options_override_the_file() -> None:
    path = CONFIGS / "ucf101-full.yaml"
    config = _load(path, "--steps", "10", "--root", "/videos/UCF-101", "--no-amp", "--lr", "0.1")
    assert (config.steps, config.root, config.amp, config.lr) == (10, "/videos/UCF-101", False, 0.1)
    untouched = _values(path)
    assert (config.queue_size, config.backbone) == (untouched["queue_size"], untouched["backbone"])
    assert config.annotations == untouched["annotations"]


@pytest.mark.parametrize("dataset", DATASETS)
def test_the_three_methods_share_one_budget(dataset: str) -> None:
    shared = []
    for method in METHODS:
        values = _values(CONFIGS / f"{dataset}-{method}.yaml")
        assert values["output_dir"].endswith(f"-{method}")
        assert METHOD_KEYS[method] <= set(values)
        shared.append(
            {k: v for k, v in values.items() if k not in METHOD_KEYS[method] | {"output_dir"}}
        )
    assert shared[0] == shared[1] == shared[2]


@pytest.mark.parametrize("method", METHODS)
def test_a_method_is_set_alike_for_every_dataset(method: str) -> None:
    blocks = []
    for dataset in DATASETS:
        values = _values(CONFIGS / f"{dataset}-{method}.yaml")
        blocks.append({k: v for k, v in values.items() if k in METHOD_KEYS[method]})
    assert all(block == blocks[0] for block in blocks)


@pytest.mark.parametrize(
    ("prefix", "documented"), [("ucf101", "ucf101"), ("kinetics400", "kinetics")]
)
def test_full_configs_are_the_documented_gpu_commands(prefix: str, documented: str) -> None:
    values = _values(CONFIGS / f"{prefix}-full.yaml")
    command = _documented_command(documented)
    assert {name: values.get(name) for name in command} == command


@pytest.mark.parametrize("prefix", DATASETS)
def test_other_values_are_the_documented_defaults(prefix: str) -> None:
    """Apart from the documented command's options, a config restates the defaults."""
    documented = "ucf101" if prefix == "hmdb51" else DATASETS[prefix]  # same one-GPU recipe
    command = _documented_command(documented)
    for method in METHODS:
        values = _values(CONFIGS / f"{prefix}-{method}.yaml")
        defaults = PretrainConfig(
            dataset=values["dataset"], root=values["root"], method=method
        ).resolved()
        differing = {k for k, v in values.items() if getattr(defaults, k) != v}
        unexplained = differing - set(command) - OWN_CHOICES[prefix] - {"annotations", "root"}
        assert not unexplained, {k: (values[k], getattr(defaults, k)) for k in unexplained}


def test_reproduce_page_names_every_config() -> None:
    text = REPRODUCE.read_text(encoding="utf-8")
    missing = [path.name for path in PATHS if path.name not in text]
    assert not missing
