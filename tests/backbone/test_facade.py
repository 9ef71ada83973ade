"""The backbone facade: adapters ask `Backbone` for modules and names, and never walk MusicGen's module paths."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import toolkit

# MusicGen's own attribute names, and dotted paths into it, that only toolkit/backbone may use.
FORBIDDEN_NAMES = (
    "encoder_attn",
    "encoder_attn_layer_norm",
    "enc_to_dec_proj",
    "get_input_embeddings",
    "num_attention_heads",
)
FORBIDDEN_PATHS = ("decoder.model", "model.decoder", "config.decoder", "model.text_encoder")
# The packages of adapters and heads (a package not there yet is skipped).
ADAPTER_PACKAGES = ("conditioners", "heads")


def _dotted(node: ast.Attribute) -> str:
    """`a.b.c` for an attribute chain (a call or subscript in the chain ends it)."""
    parts = [node.attr]
    while isinstance(node.value, ast.Attribute):
        node = node.value
        parts.append(node.attr)
    if isinstance(node.value, ast.Name):
        parts.append(node.value.id)
    return ".".join(reversed(parts))


def internals_reached(source: str) -> list[str]:
    """The forbidden names and paths `source` uses, as attributes or inside strings (e.g. a peft regex)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            chain = _dotted(node)
            found += [name for name in FORBIDDEN_NAMES if node.attr == name]
            found += [path for path in FORBIDDEN_PATHS if f".{path}." in f".{chain}."]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.replace("\\.", ".")  # regexes escape their dots
            found += [name for name in (*FORBIDDEN_NAMES, *FORBIDDEN_PATHS) if name in text]
    return sorted(set(found))


def test_the_scan_catches_attribute_chains_and_regexes():
    assert internals_reached("x = backbone.model.decoder.model.decoder.layers") == ["decoder.model", "model.decoder"]
    assert internals_reached("x = layer.encoder_attn.q_proj") == ["encoder_attn"]
    assert internals_reached("x = getattr(model, 'enc_to_dec_proj', None)") == ["enc_to_dec_proj"]
    assert "decoder.model" in internals_reached(r"x = r'decoder\.model\.decoder\.layers'")
    assert internals_reached("x = backbone.decoder_layers[0]; y = backbone.text_encoder") == []


def test_conditioners_and_heads_use_only_the_facade():
    root = Path(toolkit.__file__).parent
    files = [f for package in ADAPTER_PACKAGES if (root / package).is_dir() for f in (root / package).rglob("*.py")]
    assert any(f.parent.name == "conditioners" for f in files)
    reached = {str(f.relative_to(root)): found for f in files if (found := internals_reached(f.read_text()))}
    assert reached == {}, f"ask the Backbone (toolkit/backbone/frozen.py) instead: {reached}"


def test_accessors_return_the_models_modules(backbone):
    model = backbone.model
    stack = model.decoder.model.decoder
    assert backbone.decoder_stack is stack and backbone.decoder_layers is stack.layers
    for i, layer in enumerate(stack.layers):
        assert backbone.cross_attention(i) is layer.encoder_attn
        assert backbone.cross_attention_norm(i) is layer.encoder_attn_layer_norm
    assert backbone.num_heads == model.config.decoder.num_attention_heads == 2
    assert backbone.start_token_id == model.config.decoder.decoder_start_token_id
    assert backbone.text_encoder is model.text_encoder
    assert backbone.text_input_width == 24  # the tiny text encoder's width, narrower than the decoder's 32
    assert backbone.text_projection is model.enc_to_dec_proj
    assert backbone.text_projection.out_features == backbone.memory_size == 32


def test_no_text_projection_when_the_widths_agree(tiny):
    assert tiny.text_projection is None and tiny.text_input_width == tiny.memory_size


def test_text_embeddings_encode_as_the_prompts_do(backbone):
    memory, mask = backbone.encode_text(["a calm piano ballad", "fast drums"])
    tokens = backbone.tokenizer(["a calm piano ballad", "fast drums"], padding=True, return_tensors="pt")
    embeds = backbone.text_encoder.get_input_embeddings()(tokens["input_ids"])
    with torch.no_grad():
        again = backbone.encode_text_embeddings(embeds, tokens["attention_mask"])
    assert again.shape == memory.shape
    torch.testing.assert_close(again * mask[..., None], memory, rtol=1e-6, atol=1e-6)


def test_decoder_hidden_is_the_decoder_body(backbone):
    codes = torch.randint(0, backbone.codebook_size, (2 * backbone.num_codebooks, 6), generator=torch.Generator())
    memory, mask = backbone.encode_text(["piano", "drums"])
    with torch.no_grad():
        ours = backbone.decoder_hidden(codes, memory, mask).last_hidden_state
        theirs = backbone.model.decoder.model(
            input_ids=codes, encoder_hidden_states=memory, encoder_attention_mask=mask
        ).last_hidden_state
    assert torch.equal(ours, theirs)


def test_lora_targets_name_the_chosen_projections(backbone):
    names = backbone.lora_targets(["cross"], ["k_proj", "out_proj"], [1, 3])
    expected = [backbone.cross_attention(i).k_proj for i in (1, 3)]
    assert [backbone.model.get_submodule(n) for n in names[::2]] == expected
    assert names[1].endswith("out_proj") and len(names) == 4
    every = backbone.lora_targets(["self", "cross"], ["q_proj", "k_proj", "v_proj", "out_proj"])
    assert len(every) == len(set(every)) == 4 * 2 * 4
    assert all(isinstance(backbone.model.get_submodule(n), torch.nn.Linear) for n in every)
    with pytest.raises(ValueError, match="unknown"):
        backbone.lora_targets(["self"], ["fc1"])


def test_text_encoder_lora_targets_are_its_attention_projections(backbone):
    inside = {id(m) for m in backbone.text_encoder.modules()}
    names = backbone.text_encoder_lora_targets()
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["key", "query", "value"]  # the 1-layer BERT's
    assert all(id(backbone.model.get_submodule(n)) in inside for n in names)
    queries = backbone.text_encoder_lora_targets(r".*\.query")
    assert queries == [n for n in names if n.endswith(".query")]
