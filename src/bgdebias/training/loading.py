"""Rebuild a trained encoder from a pretraining checkpoint."""

from __future__ import annotations

import os
from typing import Any

from bgdebias.training.checkpoint import CheckpointError, load_checkpoint, model_state
from bgdebias.training.config import PretrainConfig, ResolvedPretrainConfig
from bgdebias.training.encoder import DebiasEncoder
from bgdebias.training.recipe import build_recipe


def load_pretrained_encoder(
    path: str | os.PathLike[str], *, key_encoder: bool = False
) -> tuple[DebiasEncoder, ResolvedPretrainConfig]:
    """The query (or momentum key) encoder of a checkpoint, and the run's configuration.

    Args:
        path: A checkpoint written by :func:`~bgdebias.training.pretrain`.
        key_encoder: Return the momentum key encoder instead of the query encoder.

    Returns:
        The encoder in eval mode on the CPU, and the resolved configuration.
    """
    state = load_checkpoint(path)
    config = checkpoint_config(state, path).resolved()
    recipe = build_recipe(config)
    try:
        recipe.load_state_dict(model_state(state, path))
    except RuntimeError as error:  # torch lists every key on lines of their own
        first_line = str(error).strip().splitlines()[0]
        raise CheckpointError(
            f"{path}: its weights do not fit the model of its configuration: {first_line}"
        ) from error
    encoder = recipe.key_encoder if key_encoder else recipe.query_encoder
    return encoder.eval(), config


def checkpoint_config(state: dict[str, Any], path: str | os.PathLike[str]) -> PretrainConfig:
    """The configuration a checkpoint was trained with.

    Checkpoints written before ``temporal_padding`` existed were trained with zeros, and
    those written before ``frame_differences`` existed without frame differences.

    Args:
        state: A checkpoint read by :func:`~bgdebias.training.load_checkpoint`.
        path: Its file, for the error message.

    Raises:
        CheckpointError: If the checkpoint holds no valid configuration.

    Example:
        >>> checkpoint_config({"step": 1, "config": {"method": "moco"}}, "a.pt").temporal_padding
        'zeros'
        >>> try:
        ...     checkpoint_config({"step": 1}, "a.pt")
        ... except CheckpointError as error:
        ...     print(error)
        a.pt holds no valid pretraining configuration: 'config'
    """
    try:
        return PretrainConfig.from_dict(
            {"temporal_padding": "zeros", "frame_differences": False, **state["config"]}
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{path} holds no valid pretraining configuration: {error}"
        ) from error
