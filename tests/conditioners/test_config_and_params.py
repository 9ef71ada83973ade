"""The `conditioners`/`lora` config sections; the VidMusician recipe's size on a MusicGen-small-sized one."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from toolkit.config.sections.conditioners import LoraSection, adapter_specs


@dataclass
class _Experiment:
    conditioners: list[dict[str, Any]] = field(default_factory=list)
    lora: LoraSection = field(default_factory=LoraSection)


def test_sections_compose_into_attach_specs():
    cfg = OmegaConf.merge(
        OmegaConf.structured(_Experiment),
        OmegaConf.create(
            {
                "conditioners": [{"name": "rhythm", "block_size": 4, "coverage": 0.5}, {"name": "semantic"}],
                "lora": {"enabled": True, "rank": 16, "attention": ["cross"], "layers": [0, 2]},
            }
        ),
    )
    specs = adapter_specs(cfg)
    assert specs[:2] == [{"name": "rhythm", "block_size": 4, "coverage": 0.5}, {"name": "semantic"}]
    assert specs[2]["name"] == "lora" and specs[2]["rank"] == 16 and specs[2]["attention"] == ["cross"]
    assert specs[2]["layers"] == [0, 2] and "enabled" not in specs[2]
    assert adapter_specs(OmegaConf.structured(_Experiment)) == []  # LoRA off by default
    with pytest.raises(Exception, match="rank"):
        OmegaConf.merge(OmegaConf.structured(_Experiment), OmegaConf.create({"lora": {"rank": "big"}}))


def test_lora_section_spec_builds_on_a_backbone(backbone):
    from toolkit.model.attach import attach

    spec = LoraSection(enabled=True, rank=2, attention=["self"], layers=[1]).to_spec()
    attached = attach(backbone, [spec])
    assert sorted(attached.conditioners["lora"].adapted_modules()) == [
        f"decoder.model.decoder.layers.1.self_attn.{p}" for p in ("k_proj", "out_proj", "q_proj", "v_proj")
    ]


def _benchmark():
    path = Path(__file__).parents[2] / "benchmarks" / "vidmusician_params.py"
    spec = importlib.util.spec_from_file_location("vidmusician_params", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vidmusician_recipe_size_on_musicgen_small_matches_the_formula():
    """Each part counted on the meta-device model equals its closed form (decoder 24 x 1024, T5-base 12 x
    768)."""
    bench = _benchmark()
    parts = bench.count(
        bench.recipe(rank=32, text_rank=16, clip_dim=768, block_size=4, coverage=0.5, width=None)
    )
    assert parts["semantic"] == 768 * 768 + 768
    assert parts["rhythm"] == (1 * 1024 + 1024) + 3 * (1024 * 1024 + 1024)  # 3 of 6 blocks
    assert parts["lora (decoder)"] == 24 * 8 * 32 * (1024 + 1024)
    assert parts["lora (text encoder)"] == 12 * 4 * 16 * (768 + 768)
    assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
