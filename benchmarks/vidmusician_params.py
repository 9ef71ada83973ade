"""Trainable parameters of the VidMusician recipe on a MusicGen-small-sized backbone, next to the paper's
24.79M.

The backbone is MusicGen-small's architecture (decoder: 24 layers, width 1024, 16 heads, 4 codebooks x 2048,
at 50 Hz; text encoder: T5-base, width 768, 12 layers) built from configs on the `meta` device: no weights are
downloaded or allocated, so this runs in seconds on any machine. The recipe is attached exactly as an
experiment would attach it (`toolkit.model.attach`):

- semantic, route "text_encoder": identity-initialised linear CLIP global (`--clip-dim`, 768 for ViT-L/14) →
  T5 input embeddings, read by the decoder's own cross-attention in every layer;
- rhythm: in-attention at the first layer of each block of `--block-size` layers (`--coverage` of the blocks),
  shared `Linear(1, width) + SiLU` encoder, one zero-initialised `width → 1024` linear per block;
- LoRA: decoder self- and cross-attention q/k/v/out projections (`--rank`), T5 q/k/v/o (`--text-rank`).

The paper states its total (24.79M), not every width and rank; the defaults here are our reading of it, so
compare the total and see the per-part breakdown for where a difference comes from.

    python benchmarks/vidmusician_params.py [--rank 32] [--text-rank 32] [--clip-dim 768] [--block-size 4]
"""

from __future__ import annotations

import argparse

PAPER_TOTAL = 24.79e6


def musicgen_small_on_meta():
    """A frozen `Backbone` with MusicGen-small's decoder and T5-base's encoder, parameters on `meta`."""
    import torch
    from transformers import T5Config

    from toolkit.backbone.frozen import Backbone
    from toolkit.backbone.micro import assemble, codec_config, decoder_config

    text = T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    codec = codec_config(32000, (8, 5, 4, 4), filters=32, latent=128, codebook_size=2048, num_codebooks=4)
    decoder = decoder_config(2048, 4, width=1024, layers=24, heads=16, ffn=4096, max_positions=2048)
    with torch.device("meta"):
        model = assemble(text, codec, decoder)
    return Backbone(model, tokenizer=None, source="musicgen-small-sized (meta)")


def recipe(rank: int, text_rank: int, clip_dim: int, block_size: int, coverage: float, width: int | None):
    """The VidMusician spec list (semantic through the text encoder, rhythm, LoRA on decoder and T5)."""
    return [
        {"name": "semantic", "route": "text_encoder", "feature_dim": clip_dim},
        {"name": "rhythm", "block_size": block_size, "coverage": coverage, "width": width},
        {
            "name": "lora",
            "rank": rank,
            "alpha": 2 * rank,
            "text_encoder": True,
            "text_encoder_rank": text_rank,
        },
    ]


def count(specs: list[dict], backbone=None) -> dict[str, int]:
    """Trainable parameters per part (LoRA split into decoder and text encoder) and the total."""
    import torch

    from toolkit.model.attach import attach

    backbone = backbone or musicgen_small_on_meta()
    with torch.device("meta"):
        attached = attach(backbone, specs)
    try:
        parts = attached.num_trainable()
        if "lora" in attached.conditioners:
            lora = dict(backbone.model.named_parameters())
            text = sum(p.numel() for n, p in lora.items() if "lora_" in n and n.startswith("text_encoder."))
            parts["lora (decoder)"], parts["lora (text encoder)"] = parts.pop("lora") - text, text
        parts["total"] = sum(parts.values())
        return parts
    finally:
        attached.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rank", type=int, default=32, help="decoder LoRA rank")
    parser.add_argument("--text-rank", type=int, default=32, help="text-encoder (T5) LoRA rank")
    parser.add_argument("--clip-dim", type=int, default=768, help="CLIP global feature width (ViT-L/14: 768)")
    parser.add_argument("--block-size", type=int, default=4)
    parser.add_argument("--coverage", type=float, default=1.0)
    parser.add_argument("--rhythm-width", type=int, default=None, help="rhythm encoder width (default 1024)")
    args = parser.parse_args()

    backbone = musicgen_small_on_meta()
    decoder_params = sum(p.numel() for p in backbone.model.decoder.parameters())
    print(f"backbone: {backbone.source}; frozen decoder {decoder_params / 1e6:.1f}M parameters")
    specs = recipe(
        args.rank, args.text_rank, args.clip_dim, args.block_size, args.coverage, args.rhythm_width
    )
    parts = count(specs, backbone)
    for name, value in parts.items():
        print(f"  {name:<22}{value:>14,}  ({value / 1e6:6.2f}M)")
    print(f"  {'paper (VidMusician)':<22}{int(PAPER_TOTAL):>14,}  ({PAPER_TOTAL / 1e6:6.2f}M)")
    print(f"ratio ours / paper: {parts['total'] / PAPER_TOTAL:.3f}")
    decoupled = [{"name": "semantic", "route": "decoupled", "feature_dim": args.clip_dim}] + specs[1:]
    print(f"same recipe with the decoupled semantic route: {count(decoupled, backbone)['total'] / 1e6:.2f}M")


if __name__ == "__main__":
    main()
