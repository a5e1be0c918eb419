"""Contrastive losses: InfoNCE and the dual background loss."""

from bgdebias.losses.dual_background import DualBackgroundLoss, DualBackgroundLossOutput
from bgdebias.losses.info_nce_loss import InfoNCELoss, info_nce

__all__ = ["DualBackgroundLoss", "DualBackgroundLossOutput", "InfoNCELoss", "info_nce"]
