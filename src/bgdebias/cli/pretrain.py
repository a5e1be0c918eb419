"""``bgdebias pretrain``: MoCo pretraining with the debiasing blocks."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bgdebias.cli._dataclass_args import add_dataclass_options, overrides
from bgdebias.training.config import PretrainConfig, read_mapping

DESCRIPTION = """\
Pretrain a video encoder with MoCo and the debiasing blocks. Options override the
configuration file; unset options take dataset-dependent defaults (shown in brackets).
Multi-GPU: torchrun --nproc-per-node N -m bgdebias pretrain ...
"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "pretrain",
        help="pretrain an encoder (MoCo baseline, ablations or the full method)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="YAML or JSON file with configuration values")
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="CHECKPOINT",
        help="continue from the newest checkpoint in --output-dir, or from CHECKPOINT",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start anew in an --output-dir that holds a run, deleting its config, log and "
        "checkpoints (without it, such a folder is only continued with --resume)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_dataclass_options(parser, PretrainConfig)
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> PretrainConfig:
    """File values first, then command-line options on top."""
    values: dict[str, Any] = _read_config_file(args.config) if args.config else {}
    values.update(overrides(args, PretrainConfig))
    return PretrainConfig.from_dict(values)


def _read_config_file(path: str) -> dict[str, Any]:
    import yaml

    try:
        return read_mapping(path)
    except yaml.MarkedYAMLError as error:
        where = f" (line {error.problem_mark.line + 1})" if error.problem_mark else ""
        raise ValueError(f"cannot parse --config {path}: {error.problem}{where}") from error
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot parse --config {path}: {error}") from error


def run(args: argparse.Namespace) -> int:
    from bgdebias.training import pretrain

    result = pretrain(
        config_from_args(args),
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    print(f"finished step {result.step}; checkpoint: {result.checkpoint}")
    return 0
