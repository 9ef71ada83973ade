"""Load an experiment: YAML files that may `extends:` a base, checked against the schema, plus overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException, ValidationError

from toolkit.config.keys import key_paths, suggest
from toolkit.config.validate import validate
from toolkit.errors import UserError


def read_yaml_mapping(path: str | Path, kind: str = "config") -> dict[str, Any]:
    """The top-level mapping of a YAML file; a missing file, bad YAML or a non-mapping raise `UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such {kind} file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} invalid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level")
    _check_key_names(raw, path, "")
    return raw


def _check_key_names(tree: Any, path: Path, prefix: str) -> None:
    """Keys must be names: YAML reads `~:` or `null:` as a None key and `yes:` as True, which OmegaConf
    cannot hold (it would raise a traceback deep in a merge)."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, value in items:
        if isinstance(tree, dict) and not isinstance(key, str):
            where = f" under {prefix.rstrip('.')}" if prefix else ""
            raise UserError(f"{path}: key {yaml.safe_dump(key).splitlines()[0]}{where} is not a name "
                            "(quote it if it is meant as text)")
        _check_key_names(value, path, f"{prefix}{key}.")


def read_yaml_chain(path: str | Path, _seen: tuple[Path, ...] = ()) -> DictConfig:
    """Read `path`, first merging the file named by its `extends:` key (relative to it), recursively."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _seen:
        raise UserError(f"{path}: `extends` cycle ({' -> '.join(p.name for p in (*_seen, resolved))})")
    raw = read_yaml_mapping(path)
    if not raw:  # an empty file would silently run every default
        raise UserError(f"{path}: empty experiment file (give at least `name:`, or `extends:` a base)")
    base = raw.pop("extends", None)
    if base is not None and not isinstance(base, str):
        raise UserError(f"{path}: extends must be a file path, got {base!r}")
    cfg = OmegaConf.create(raw)
    if base is None:
        return cfg
    parent = read_yaml_chain(path.parent / str(base), (*_seen, resolved))
    return OmegaConf.merge(parent, cfg)


def load_config(path: str | Path, overrides: list[str] | None = None, schema: type | None = None) -> DictConfig:
    """The experiment at `path` merged onto `schema` (default: the experiment schema), then `key=value` overrides.

    Unknown keys and badly typed values raise `UserError` naming the key, with a suggestion for typos.
    """
    if schema is None:
        from toolkit.config.schema import ExperimentConfig

        schema = ExperimentConfig
    base = OmegaConf.structured(schema)
    known = key_paths(base)
    cfg = _merge(base, read_yaml_chain(path), str(path), known)
    for item in overrides or []:
        cfg = _merge(cfg, _parse_override(item), f"override {item!r}", known)
    try:
        OmegaConf.to_container(cfg, resolve=True)  # surface bad ${...} interpolations now, not mid-run
    except OmegaConfBaseException as err:
        raise UserError(f"{path}: {err.full_key}: {_first_line(err)}") from None
    validate(cfg)
    return cfg


def _parse_override(item: str) -> DictConfig:
    if "=" not in item or item.startswith("="):
        raise UserError(f"override {item!r}: expected key=value")
    key, value = item.split("=", 1)
    if not value.strip():  # OmegaConf would read `key=` as null: an unset shell variable must not pass silently
        raise UserError(f"override {item!r}: empty value (write {key.strip()}=null to mean none)")
    try:
        return OmegaConf.from_dotlist([f"{key.strip()}={value}"])
    except (yaml.YAMLError, OmegaConfBaseException) as err:
        raise UserError(f"override {item!r}: cannot parse the value ({_first_line(err)})") from None


def _merge(cfg: DictConfig, update: DictConfig, source: str, known: list[str]) -> DictConfig:
    try:
        return OmegaConf.merge(cfg, update)
    except (ConfigKeyError, ConfigAttributeError) as err:
        key = err.full_key or str(getattr(err, "key", ""))
        raise UserError(f"{source}: unknown key {key}{suggest(key, known)}") from None
    except ValidationError as err:
        raise UserError(f"{source}: {err.full_key}: {_first_line(err)}") from None
    except OmegaConfBaseException as err:
        raise UserError(f"{source}: {_first_line(err)}") from None
    except TypeError as err:  # OmegaConf names no key when a list meets a mapping: find it
        raise UserError(f"{source}: {_container_mismatch(cfg, update) or _first_line(err)}") from None


def _container_mismatch(cfg: Any, update: Any, prefix: str = "") -> str | None:
    """'key: expected a mapping, got a list' (or the reverse) for the first key where `update` gives a list
    for a mapping or a mapping for a list; None when there is none."""
    if not isinstance(cfg, DictConfig) or not isinstance(update, DictConfig):
        return None
    for key in update:
        if key not in cfg:
            continue
        old, new = cfg._get_node(key), update._get_node(key)
        if isinstance(old, DictConfig) and isinstance(new, ListConfig):
            return f"{prefix}{key}: expected a mapping, got a list"
        if isinstance(old, ListConfig) and isinstance(new, DictConfig):
            return f"{prefix}{key}: expected a list, got a mapping"
        found = _container_mismatch(old, new, f"{prefix}{key}.")
        if found:
            return found
    return None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0]


def to_dict(cfg: DictConfig) -> dict[str, Any]:
    """A plain, fully resolved dict of the config (for logging and saving beside checkpoints)."""
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
