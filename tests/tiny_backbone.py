"""A tiny random MusicGen for tests, built from the micro backbone's parts (`toolkit.backbone.micro`): test-only
code, so it lives with the tests, not in the package."""

from __future__ import annotations

from pathlib import Path

from toolkit.backbone.micro import assemble, codec_config, decoder_config, minilm_dir


def tiny_musicgen(seed: int = 0, text_width: int = 32, layers: int = 2, max_positions: int = 64,
                  random_codebooks: bool = True):
    """`(model, tokenizer)`: a tiny random MusicGen (1-layer BERT text encoder with MiniLM's tokenizer, an 8 kHz
    codec at 100 Hz with 2 codebooks of 32, a 32-wide decoder) for tests. A text width other than 32 exercises
    the text-to-decoder projection."""
    import torch
    from transformers import AutoTokenizer, BertConfig

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    text = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=text_width, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=2 * text_width, max_position_embeddings=128)
    model = assemble(
        text,
        codec_config(8000, (4, 4, 5), filters=4, latent=16, codebook_size=32, num_codebooks=2),
        decoder_config(32, 2, width=32, layers=layers, heads=2, ffn=64, max_positions=max_positions),
        seed=seed,
    )
    if random_codebooks:  # an untrained codec has all-zero codebooks; random ones make codes informative
        gen = torch.Generator().manual_seed(seed)
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.copy_(torch.randn(layer.codebook.embed.shape, generator=gen) * 0.1)
    return model, tokenizer


def build_tiny(out_dir: str | Path, seed: int = 0, max_positions: int = 64) -> Path:
    """A tiny random MusicGen (see `tiny_musicgen`) saved to `out_dir` with its tokenizer, for tests."""
    model, tokenizer = tiny_musicgen(seed=seed, max_positions=max_positions)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
