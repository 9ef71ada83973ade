"""Hook points: how adapters attach to a frozen backbone without editing its code.

`cross` (extra gated cross-attention after chosen decoder layers), `in_attention` (a signal added to the
hidden state entering chosen layers, KV-cache aware), `memory` (extra tokens appended to the text memory the
decoder already cross-attends to), `film` (timestep/condition scale and shift, for diffusion heads) and `plan`
(a plan-and-refine head, `toolkit.heads.plan_refine.head`: it adds no hook, it replaces the sampler and the
training objective). LoRA (`weights`) goes through peft instead."""

from toolkit.conditioners.hooks.cross import GatedCrossAttention, add_cross_attention
from toolkit.conditioners.hooks.film import FiLM, add_film, timestep_embedding
from toolkit.conditioners.hooks.in_attention import add_in_attention, cache_offset
from toolkit.conditioners.hooks.memory import extend_memory

__all__ = [
    "FiLM",
    "GatedCrossAttention",
    "add_cross_attention",
    "add_film",
    "add_in_attention",
    "cache_offset",
    "extend_memory",
    "timestep_embedding",
]
