"""Checks on a loaded experiment, run once when it loads, so a bad value fails before any world, backbone or
feature is built.

The rules are not kept here: they live beside what they constrain — on each section dataclass a `RANGES`
table and, for rules between fields, a `check_values` classmethod; on each conditioner `ranges` and
`check_config`; stage rules in `toolkit.training.stages`; names in the registries and loaders that resolve
them. This module walks the config and asks them. What sits above `config` is imported only when asked (the
backbone loader only for a backbone other than `micro`), so `toolkit prepare micro.yaml` stays light."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from toolkit.config.ranges import check_ranges
from toolkit.config.sections.evaluation import EvalConfig
from toolkit.config.sections.features import FeaturesConfig
from toolkit.errors import UserError


def validate(cfg: DictConfig) -> None:
    """Raise `UserError` naming the first key whose value is non-finite, out of range, or inconsistent."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    for key, value in _leaves(plain):
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{key}: must be a finite number, got {value}")
    for prefix, node in _sections(cfg):
        kind, where = OmegaConf.get_type(node), prefix.rstrip(".")
        check_ranges(node, getattr(kind, "RANGES", {}), where)
        check_values = getattr(kind, "check_values", None)
        if check_values is not None:
            check_values(node, where)
    if "conditioners" in cfg and "train" in cfg:
        check_adapters(cfg)
    check_components(cfg)


def check_components(cfg: DictConfig) -> None:
    """The extractors, backbone, embedding and classifier the experiment names exist and take its settings,
    asked of the layers that own them (none loads a model here), so a typo fails before anything is built."""
    features = OmegaConf.select(cfg, "features", default=None)
    if features is not None and OmegaConf.get_type(features) is FeaturesConfig:
        from toolkit.features.pipeline import build_extractors, specs_from_config
        from toolkit.features.registry import extractor_class

        for name in features.extractors:
            try:
                extractor_class(name)
            except UserError as err:
                raise UserError(f"features.extractors: {err}") from None
        build_extractors(specs_from_config(features))  # cheap: models load on first use
    name = OmegaConf.select(cfg, "backbone.name", default=None)
    if name is not None and name != "micro":  # the loader's import is heavy: only for other backbones
        from toolkit.backbone.loader import resolve_source

        try:
            resolve_source(str(name))
        except UserError as err:
            message = str(err)
            raise UserError(message if message.startswith("backbone.name") else f"backbone.name: {message}") from None
    evaluation = OmegaConf.select(cfg, "evaluation", default=None)
    if evaluation is not None and OmegaConf.get_type(evaluation) is EvalConfig:
        from toolkit.metrics.classifier import MICRO_STYLE_CNN, PannsClassifier
        from toolkit.metrics.embeddings import EMBEDDING_NAMES

        # the names `load_embedding_model` and `load_classifier` accept
        for key, known in (("embedding", EMBEDDING_NAMES), ("classifier", (MICRO_STYLE_CNN, PannsClassifier.name))):
            if evaluation[key] not in known:
                raise UserError(f"evaluation.{key}: unknown {key} {evaluation[key]!r} "
                                f"(one of: {', '.join(known)})")


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
