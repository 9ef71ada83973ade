"""Plan-and-refine generation (Video-Robin): the frozen decoder plans each patch of codec frames, the plan is
squeezed through FSQ and refined by RITE, and a local diffusion transformer (Loc-DiT) denoises the patch's
continuous codec latents under the plan and the previous patch. One concept per file:

- `bottleneck.py`: hidden states → plan width → FSQ (or a continuous bottleneck when `off`)
- `rite.py`: the residual integration transformer encoder (identity at initialisation)
- `locdit.py`: the Loc-DiT velocity model (adaLN/FiLM on the timestep, zero-initialised conditioning)
- `flow.py`: the flow-matching objective and the guided Euler sampler
- `planner.py`: running the decoder over the token history, one patch behind, for per-frame plans
- `head.py`: the `plan_refine` head holding the trainable parts (its objective, sampler and decoder)
- `sampling.py`: the patch-by-patch generation loop
"""
