"""The sweep files shipped in `sweeps/`: each loads, and every trial it can draw is a config the trainer accepts."""

from __future__ import annotations

import inspect
import itertools
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from toolkit.conditioners import available_conditioners, conditioner_class
from toolkit.config import load_config, to_dict
from toolkit.config.sections.conditioners import adapter_specs
from toolkit.config.stages import plan_stages
from toolkit.sweeps.spec import SweepSpec, load_sweep
from toolkit.sweeps.syntax import Choice

SWEEPS = Path(__file__).resolve().parents[2] / "sweeps"
SHIPPED = sorted(SWEEPS.glob("*.yaml"))


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an unrelated folder: a shipped sweep must find its experiment relative to itself."""
    monkeypatch.chdir(tmp_path)


def _points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every grid point, or for a sampled study each param at each of its example values."""
    if spec.study.sampler.type == "grid":
        keys = list(spec.grid)
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*spec.grid.values())]
    return [{key: value} for key, dist in spec.params.items() for value in dist.examples()]


def _trial_config(spec: SweepSpec, values: dict[str, Any]):
    cfg = load_config(spec.experiment, spec.overrides(values))
    to_dict(cfg)  # resolves interpolations: a broken `${...}` raises here, not mid-sweep
    return cfg


def _adapter_names(cfg) -> list[str]:
    """Attached names of the trial's adapters, after checking each is registered and takes its kwargs."""
    names = []
    for spec in adapter_specs(cfg):
        kwargs = {k: v for k, v in spec.items() if k != "name"}
        assert spec["name"] in available_conditioners()
        inspect.signature(conditioner_class(spec["name"])).bind(None, **kwargs)  # TypeError on a bad kwarg
        names.append(spec["name"])
    return names


def test_the_issue_s_sweeps_are_shipped() -> None:
    assert {"conditioners.yaml", "text_dropout.yaml"} <= {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_trial_of_a_shipped_sweep_is_a_trainable_config(path: Path) -> None:
    spec = load_sweep(path)
    assert spec.name == path.stem  # reports/<name>.md sits beside the file's name
    seeds = spec.params.get("seed")
    assert isinstance(seeds, Choice) and len(set(seeds.values)) >= 2, "rows need seeds for a confidence interval"
    points = _points(spec)
    if spec.study.sampler.type == "grid":
        assert spec.study.n_trials == len(points)  # the default size runs the whole grid
    for values in points:
        cfg = _trial_config(spec, values)
        for key, value in values.items():  # each sampled value reached the config (interpolations resolved)
            if not (isinstance(value, str) and value.startswith("${")):
                assert OmegaConf.select(cfg, key) == value
        names = _adapter_names(cfg)
        plan_stages(cfg.train.stages, int(cfg.train.steps), names)  # stages name only attached adapters


def test_the_conditioner_ablation_covers_each_set_with_and_without_lora() -> None:
    spec = load_sweep(SWEEPS / "conditioners.yaml")
    arms: dict[tuple[tuple[str, ...], bool], set[int]] = {}
    for values in _points(spec):
        cfg = _trial_config(spec, values)
        conditioners = tuple(sorted(entry["name"] for entry in to_dict(cfg)["conditioners"]))
        arms.setdefault((conditioners, bool(cfg.lora.enabled)), set()).add(int(cfg.seed))
    sets = [(), ("semantic",), ("rhythm",), ("rhythm", "semantic")]
    assert set(arms) == {(s, lora) for s in sets for lora in (False, True)}
    assert len({frozenset(seeds) for seeds in arms.values()}) == 1  # every arm runs the same seeds
    assert len(next(iter(arms.values()))) >= 2


def test_the_text_dropout_sweep_varies_only_text_dropout() -> None:
    spec = load_sweep(SWEEPS / "text_dropout.yaml")
    probabilities = spec.grid["train.text_dropout"]
    assert len(set(probabilities)) >= 3 and all(0 <= p <= 1 for p in probabilities)
    assert 0.0 in probabilities  # the no-dropout baseline
    assert set(spec.params) == {"train.text_dropout", "seed"}
    for p in probabilities:
        assert _trial_config(spec, {"train.text_dropout": p, "seed": 0}).train.text_dropout == p
