"""LoRA through peft: chosen targets only, peft's adapter format, clean removal."""

from __future__ import annotations

import torch

from toolkit.model.attach import attach

from .conftest import FPS, logits, perturb


def adapted(attached):
    return attached.conditioners["lora"].adapted_modules()


def test_self_versus_cross_attention_and_projection_selection(backbone):
    attached = attach(
        backbone, [{"name": "lora", "rank": 2, "attention": ["cross"], "projections": ["k_proj"]}]
    )
    names = adapted(attached)
    assert names == [f"decoder.model.decoder.layers.{i}.encoder_attn.k_proj" for i in range(4)]
    attached.detach()
    attached = attach(backbone, [{"name": "lora", "rank": 2, "attention": ["self"], "layers": [1, 3]}])
    names = adapted(attached)
    assert len(names) == 8 and all(".self_attn." in n and n.split(".")[4] in ("1", "3") for n in names)


def test_rank_alpha_and_text_encoder_option_set_the_parameter_count(backbone):
    width, text_width = backbone.hidden_size, 24
    attached = attach(
        backbone, [{"name": "lora", "rank": 4, "alpha": 8, "text_encoder": True, "text_encoder_rank": 2}]
    )
    names = adapted(attached)
    text = [n for n in names if n.startswith("text_encoder.")]
    assert sorted(n.rsplit(".", 1)[1] for n in text) == ["key", "query", "value"]  # BERT's attention
    decoder_count = 4 * 8 * 4 * (width + width)  # layers × projections × rank × (in + out)
    text_count = 3 * 2 * (text_width + text_width)
    assert attached.num_trainable() == {"lora": decoder_count + text_count}
    scaling = {n.split(".")[0]: backbone.model.get_submodule(n).scaling["default"] for n in names}
    assert scaling == {"decoder": 8 / 4, "text_encoder": 8 / 2}  # alpha / rank, the text rank its own


def test_saved_adapter_reloads_into_identical_outputs_and_detach_removes_lora(
    backbone, batch, tiny_model, tmp_path
):
    import copy
    import json

    from toolkit.backbone.frozen import Backbone

    reference = logits(backbone, batch)
    spec = {"name": "lora", "rank": 2, "text_encoder": True}
    attached = attach(backbone, [spec], fps=FPS)
    perturb(attached, scale=0.2)
    with torch.no_grad():
        tuned = logits(backbone, batch, attached)
    assert not torch.allclose(tuned, reference)
    lora = attached.conditioners["lora"]
    lora.save(tmp_path / "adapter")
    config = json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 2
    fresh = Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1])
    reloaded = attach(fresh, [spec], fps=FPS)
    reloaded.conditioners["lora"].load(tmp_path / "adapter")
    with torch.no_grad():
        assert torch.equal(logits(fresh, batch, reloaded), tuned)
    attached.detach()
    assert not any(type(m).__module__.startswith("peft") for m in backbone.model.modules())
    assert not hasattr(backbone.model, "peft_config")
    assert torch.equal(logits(backbone, batch), reference)
    assert set(backbone.model.state_dict()) == set(tiny_model[0].state_dict())


def test_lora_dropout_follows_train_and_eval(backbone):
    attached = attach(backbone, [{"name": "lora", "rank": 2, "dropout": 0.5}])
    dropouts = [m for n, m in backbone.model.named_modules() if n.endswith("lora_dropout.default")]
    assert dropouts and not any(m.training for m in dropouts)
    attached.train()
    assert all(m.training for m in dropouts) and not backbone.model.training
    attached.eval()
    assert not any(m.training for m in dropouts)
