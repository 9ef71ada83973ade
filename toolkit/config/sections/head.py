"""The `head` section: the generative head that turns the conditioned decoder into music.

`name` picks a registered head: `tokens` (the default) samples codec tokens one step at a time with the
decoder's own LM heads; `plan_refine` is Video-Robin's plan-and-refine (FSQ + RITE + Loc-DiT). Each head's
kwargs sit under its own name and are checked by the head class itself (`toolkit.heads`), so a new head needs
no schema change, and switching heads (`head.name=tokens`) keeps the other's settings for later:

    head:
      name: plan_refine
      plan_refine: {patch_size: 16, fsq_levels: "8,5,5,5"}
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import UserError

DEFAULT_HEAD = {"name": "tokens"}


def head_spec(cfg: Any) -> dict[str, Any]:
    """The chosen head as `{"name": ..., **its kwargs}` (the default head when the section is absent);
    accepts OmegaConf."""
    from omegaconf import OmegaConf

    head = getattr(cfg, "head", None)
    if OmegaConf.is_config(head):
        head = OmegaConf.to_container(head, resolve=True)
    head = dict(head or DEFAULT_HEAD)
    name = str(head.get("name", "tokens"))
    options = head.get(name) or {}
    if not isinstance(options, dict):
        raise UserError(f"head.{name}: expected the {name} head's settings as a mapping, got {options!r}")
    return {"name": name, **options}


def head_where(spec: dict[str, Any]) -> str:
    """The config path of a head's kwargs, for error messages."""
    return f"head.{spec['name']}"
