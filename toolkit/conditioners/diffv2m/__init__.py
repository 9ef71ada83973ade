"""Diff-V2M's conditioning on the frozen decoder: a rhythm predictor from the video, and hierarchical
cross-attention (emotion first, then semantic and rhythm in parallel, fused).

One concept per file: `schedule.py` (when the generator sees the real rhythm and when the predicted one),
`predictor.py` (video → rhythm, trained by masked MSE), `fusion.py` (how the semantic and rhythm branches are
combined: static on the decoder, timestep-aware in a diffusion head), `hierarchical.py` (the block after a
decoder layer), `diffusion.py` (the block after a Loc-DiT block, reading its patch's tokens), `conditioner.py`
(the registered `diffv2m` conditioner that ties them to features).
"""

from toolkit.conditioners.diffv2m.conditioner import DiffV2MConditioner

__all__ = ["DiffV2MConditioner"]
