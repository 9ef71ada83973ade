"""Generation speed of the frozen backbones: real-time factor (seconds of compute per second of audio).

Measures text → music (text encoding, sampling with classifier-free guidance, codec decoding) for
`--seconds` of audio at batch 1 and 8, for the micro architecture and for a randomly initialised model with
MusicGen-small's decoder (24 layers, width 1024, 16 heads, 4 codebooks x 2048) and its 32 kHz EnCodec.
Weights do not change the cost, so random weights stand in for downloads. Prints one table and the ratios
measured in this run; pass `--device cuda` on a GPU machine.

    python benchmarks/generation_speed.py [--seconds 2] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import time


def micro_model():
    from toolkit.backbone.micro import MicroSpec, build_untrained

    return build_untrained(MicroSpec())


def musicgen_small_sized():
    """MusicGen-small's decoder and codec dimensions; a tiny BERT stands in for T5 (encoded once per call)."""
    from transformers import AutoTokenizer, BertConfig

    from toolkit.backbone.micro import assemble, codec_config, decoder_config, minilm_dir

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    text = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=768, num_hidden_layers=2, num_attention_heads=12
    )
    codec = codec_config(32000, (8, 5, 4, 4), filters=64, latent=128, codebook_size=2048, num_codebooks=4)
    codec.num_lstm_layers = 2
    decoder = decoder_config(2048, 4, width=1024, layers=24, heads=16, ffn=4096, max_positions=2048)
    return assemble(text, codec, decoder), tokenizer


def time_generation(backbone, batch: int, seconds: float, repeats: int) -> float:
    """Best wall time (s) over `repeats` for one generate call (the first, warm-up call is not counted)."""
    import torch

    from toolkit.generation import generate_music

    prompts = ["an upbeat electronic track with drums at 120 bpm"] * batch
    generate_music(backbone, prompts, min(seconds, 0.2), seed=0)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if backbone.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        generate_music(backbone, prompts, seconds, seed=0)
        if backbone.device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", default="1,8")
    args = parser.parse_args()
    import torch

    from toolkit.backbone.frozen import Backbone

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    rows = {}
    for name, build in (("micro", micro_model), ("musicgen-small-sized", musicgen_small_sized)):
        model, tokenizer = build()
        backbone = Backbone(model, tokenizer, source=name).to(args.device)
        params = sum(p.numel() for p in model.decoder.parameters()) / 1e6
        for batch in batches:
            wall = time_generation(backbone, batch, args.seconds, args.repeats)
            rows[name, batch] = wall
            print(
                f"{name:22s} decoder {params:6.1f}M  batch {batch:2d}  {wall:7.2f} s for {args.seconds:g} s  "
                f"RTF {wall / args.seconds:7.3f} (latency)  {wall / (args.seconds * batch):7.3f} (per clip)",
                flush=True,
            )
        del model, backbone
    device = args.device if args.device != "cpu" else f"cpu, {args.threads} threads"
    print(f"\nratios measured in this run ({device}, {args.seconds:g} s of audio, guidance 3):")
    for batch in batches:
        if ("micro", batch) in rows and ("musicgen-small-sized", batch) in rows:
            ratio = rows["musicgen-small-sized", batch] / rows["micro", batch]
            print(f"  musicgen-small-sized / micro at batch {batch}: {ratio:.1f}x slower")
    if len(batches) > 1:
        lo, hi = min(batches), max(batches)
        for name in ("micro", "musicgen-small-sized"):
            gain = rows[name, lo] * hi / (rows[name, hi] * lo)
            print(f"  {name}: batch {hi} gives {gain:.1f}x the throughput of batch {lo}")


if __name__ == "__main__":
    main()
