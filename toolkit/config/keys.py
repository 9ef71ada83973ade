"""Key paths of a structured config, and "did you mean" suggestions for misspelt ones."""

from __future__ import annotations

import difflib

from omegaconf import DictConfig, OmegaConf


def key_paths(cfg: DictConfig, prefix: str = "") -> list[str]:
    """Every dotted key path in `cfg`, sections included (`data`, `data.root`, ...)."""
    paths = []
    for key in cfg.keys():
        path = f"{prefix}{key}"
        paths.append(path)
        node = OmegaConf.select(cfg, str(key), throw_on_missing=False)
        if isinstance(node, DictConfig) and not _is_free_dict(cfg, str(key)):
            paths.extend(key_paths(node, prefix=f"{path}."))
    return paths


def present_paths(cfg: DictConfig) -> list[str]:
    """Every dotted key path that holds something in `cfg`, inside free dicts too (`head.plan_refine.patch_size`
    when the experiment sets it): the keys a report may group by."""
    paths: list[str] = []

    def walk(tree: object, prefix: str) -> None:
        if isinstance(tree, dict):
            for key, value in tree.items():
                paths.append(f"{prefix}{key}")
                walk(value, f"{prefix}{key}.")

    walk(OmegaConf.to_container(cfg, resolve=False), "")
    return paths


def _is_free_dict(parent: DictConfig, key: str) -> bool:
    """A `dict[str, ...]` field (e.g. extractor options) accepts any key, so it offers no suggestions."""
    node = parent._get_node(key)
    return node is not None and node._metadata.object_type in (dict, None) and node._metadata.key_type is str


def suggest(bad: str, known: list[str]) -> str:
    """' — did you mean X?' for the closest known key, or '' when nothing is close."""
    parent = bad.rsplit(".", 1)[0] if "." in bad else ""
    siblings = [k for k in known if (k.rsplit(".", 1)[0] if "." in k else "") == parent]
    match = difflib.get_close_matches(bad, siblings, n=1, cutoff=0.6) or difflib.get_close_matches(
        bad, known, n=1, cutoff=0.75
    )
    return f" — did you mean {match[0]}?" if match else ""
