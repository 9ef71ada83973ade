"""Checks on a loaded experiment, run once when it loads, so a bad value fails before any world, backbone or
feature is built.

The rules are not kept here: they live beside what they constrain — on each section dataclass a `RANGES`
table and, for rules between fields, a `check_values` classmethod; on each conditioner, head and extractor
`ranges` and `check_config`; stage rules in `toolkit.config.stages`; names in the registries and loaders that
resolve them. This module walks the config and asks them. The registries (which import torch) are imported only
when the config names something they own, so `toolkit prepare micro.yaml` stays light."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from toolkit.config.sections.evaluation import EvalConfig
from toolkit.config.sections.features import FeaturesConfig
from toolkit.errors import UserError
from toolkit.utils.ranges import check_ranges


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

        # names, kwargs and ranges are checked per entry (`features.extractors.<entry>.<key>`), then built
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
    """Every conditioner (the list and LoRA) and the head name a registered class whose kwargs it accepts and
    whose own rules they pass; no conditioner reads a music-derived feature as an input; `train.stages` name
    only attached parts (or `<entry>.<group>` of one) — all without a backbone."""
    from toolkit.config.sections.conditioners import adapter_specs
    from toolkit.config.sections.head import DEFAULT_HEAD, head_spec

    head, specs = head_spec(cfg), adapter_specs(cfg)
    if not specs and dict(cfg.head) == DEFAULT_HEAD:
        return  # nothing to check, and `toolkit prepare` need not import torch for it
    from toolkit.conditioners.registry import check_spec, conditioner_class
    from toolkit.config.stages import plan_stages
    from toolkit.heads.registry import available_heads, check_head_spec
    from toolkit.model.attach import entry_names

    check_head_spec(head)
    for key in cfg.head:
        if key != "name" and key not in available_heads():
            raise UserError(f"head.{key}: not a registered head (heads: {', '.join(available_heads())}); "
                            "each head's settings sit under its name")
    listed = len(cfg.conditioners)
    for i, spec in enumerate(specs):
        check_spec(spec, f"conditioners[{i}]" if i < listed else "lora")
    check_inputs(cfg, [(f"conditioners[{i}]", conditioner_class(str(s["name"]))) for i, s in enumerate(specs)])
    names = [*entry_names(specs), str(head["name"])]
    grouped = {n for stage in cfg.train.stages for n in (stage.conditioners or []) if "." in str(n)}
    names += sorted(n for n in grouped if n.split(".", 1)[0] in names)  # groups are checked when built
    plan_stages(cfg.train.stages, int(cfg.train.steps), names)


def check_inputs(cfg: DictConfig, classes: list[tuple[str, type]]) -> None:
    """A conditioner's `inputs` must exist at generation: none may be computed from the music (those are
    `targets`, given in training only)."""
    if OmegaConf.get_type(OmegaConf.select(cfg, "features", default=None)) is not FeaturesConfig:
        return
    from toolkit.features.read import music_derived

    for where, cls in classes:
        if not cls.inputs:
            continue
        try:
            leaked = music_derived(cfg, list(cls.inputs))
        except UserError:
            continue  # an extractor that is off: reported when the features are read
        if leaked:
            raise UserError(f"{where} ({cls.name}): inputs {leaked} are derived from the music, so they do not "
                            "exist at generation; declare them as targets")


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
