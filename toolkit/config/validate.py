"""Checks on a loaded experiment, run once when it loads, so a bad value fails before any world, backbone or
feature is built.

The rules are not kept here: numeric ranges live beside the section or conditioner they constrain (a
`RANGES` table on each section dataclass, `Conditioner.ranges`), stage rules in `toolkit.training.stages`.
This module walks the config and asks them. Conditioners and stages sit above `config`, so they are imported
only when an experiment uses them (and `toolkit prepare micro.yaml` stays light)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from toolkit.config.ranges import check_ranges
from toolkit.errors import UserError


def validate(cfg: DictConfig) -> None:
    """Raise `UserError` naming the first key whose value is non-finite, out of range, or inconsistent."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    for key, value in _leaves(plain):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{key}: must be a finite number, got {value}")
    for prefix, node in _sections(cfg):
        rules = getattr(OmegaConf.get_type(node), "RANGES", None)
        if rules:
            check_ranges(node, rules, prefix.rstrip("."))
    splits = OmegaConf.select(cfg, "data.splits", default=None)
    if splits is not None and splits.val + splits.test >= 1:
        raise UserError(f"data.splits: val + test must be below 1 (nothing left to train on), "
                        f"got {splits.val} + {splits.test}")
    backbone = OmegaConf.select(cfg, "backbone", default=None)
    if backbone is not None and "overlap_seconds" in backbone and backbone.overlap_seconds >= backbone.window_seconds:
        raise UserError(f"backbone.overlap_seconds: must be below backbone.window_seconds "
                        f"({backbone.window_seconds}), got {backbone.overlap_seconds}")
    if "conditioners" in cfg and "train" in cfg:
        check_adapters(cfg)


def check_adapters(cfg: DictConfig) -> None:
    """Every conditioner (the list, LoRA, the plan head) names a registered class whose kwargs it accepts
    and whose own rules they pass, and `train.stages` name only attached ones — all without a backbone."""
    from toolkit.config.sections.conditioners import adapter_specs

    specs = adapter_specs(cfg)
    if not specs:
        return
    from toolkit.conditioners.attach import entry_names
    from toolkit.conditioners.registry import check_spec
    from toolkit.training.stages import plan_stages

    listed = len(cfg.conditioners)
    for i, spec in enumerate(specs):
        where = f"conditioners[{i}]" if i < listed else ("lora" if spec.get("name") == "lora" else "planner")
        check_spec(spec, where)
    plan_stages(cfg.train.stages, int(cfg.train.steps), entry_names(specs))


def _sections(node: DictConfig, prefix: str = "") -> Iterator[tuple[str, DictConfig]]:
    """`node` and every nested mapping, with their dotted paths."""
    yield prefix, node
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none():
            yield from _sections(child, f"{prefix}{key}.")


def _leaves(tree: Any, prefix: str = ""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _leaves(value, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), tree
