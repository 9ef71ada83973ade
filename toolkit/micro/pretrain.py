"""Pretraining the micro backbone on the micro world's text→music pairs, once, cached by spec and seed.

Two stages: (1) the `SpectralCodec` is fitted on the training clips (PCA basis and residual k-means
codebooks: a few CPU seconds, no gradient training); (2) the MusicGen decoder (and the text projection) is
trained on the clips' codes, prompts and paraphrases, with text dropout so classifier-free guidance has a
null to contrast with (progress bar). MiniLM stays frozen throughout. The model is saved with
`save_pretrained` (so it loads like any MusicGen directory), the codec beside it as
`spectral_codec.safetensors` + `spectral_codec.json`, plus the card.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from toolkit.backbone.micro import MicroSpec
from toolkit.data.manifest import MANIFEST, read_manifest
from toolkit.utils.paths import cache_root


def backbone_dir(spec: MicroSpec) -> Path:
    """The cache folder of the micro backbone with this spec."""
    return cache_root() / "backbones" / f"micro-{spec.key()}"


def build_micro_backbone(
    spec: MicroSpec | None = None,
    world: str | Path | None = None,
    progress: bool = True,
    threads: int | None = None,
    **overrides,
) -> Path:
    """The directory of the pretrained micro backbone, built (world included) on first use, else loaded.

    `overrides` replace `MicroSpec` fields (e.g. `seed=1`); `world` uses an existing world folder instead of
    the cached default one; `threads` sets torch's CPU threads for the build (default: `idle_cores()`).
    `toolkit world backbone` calls this.
    """
    spec = dataclasses.replace(spec or MicroSpec(), **overrides)
    out = backbone_dir(spec)
    if (out / "config.json").is_file():
        return out
    import torch

    from toolkit.micro.card import write_card
    from toolkit.utils.atomic import atomic_dir
    from toolkit.utils.build_lock import exclusive_build

    world = Path(world) if world is not None else _default_world(spec, progress)
    # Several trials or terminals may ask at once: one builds (about 10 CPU minutes), the others wait and load.
    with exclusive_build(out, "the micro backbone"):
        if (out / "config.json").is_file():
            return out
        before_threads = torch.get_num_threads()
        torch.set_num_threads(threads or idle_cores())
        started, cpu_started = time.time(), cpu_seconds()
        try:
            with atomic_dir(out) as tmp:
                card = pretrain(spec, world, tmp, progress)
                card["build_seconds"] = round(time.time() - started, 1)
                # user+sys of this process and its finished children (world workers): a load-independent cost
                card["cpu_seconds"] = round(cpu_seconds() - cpu_started, 1)
                card["threads"] = torch.get_num_threads()
                text = write_card(tmp, card)
        finally:
            torch.set_num_threads(before_threads)
    if progress:
        print(text)
    return out


def idle_cores() -> int:
    """CPU cores this process may use that other work is not already keeping busy (at least 1).

    Measured: on 2 cores shared with two other busy processes, a codec step took 0.25 s with one torch
    thread and 2-3 s with two (each thread waits at every op for the other to be scheduled again).
    """
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, round(cores - busy + 1)))  # +1: the load average counts this process too


def cpu_seconds() -> float:
    """User+system CPU seconds of this process and its reaped children."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _default_world(spec: MicroSpec, progress: bool) -> Path:
    from toolkit.data.source import micro_world

    return micro_world(spec.clips, spec.clip_seconds, spec.seed, progress)


def load_world_audio(world: Path, sample_rate: int, seconds: float) -> tuple[list[dict], np.ndarray]:
    """Manifest records and their music `(N, seconds·sample_rate)` at `sample_rate`."""
    from toolkit.data.audio import read_audio

    records = list(read_manifest(world / MANIFEST, require=("audio",)).values())
    n = round(seconds * sample_rate)
    waves = np.zeros((len(records), n), np.float32)
    for i, record in enumerate(records):
        audio = read_audio(world / record["audio"], sample_rate)[:n]
        waves[i, : len(audio)] = audio
    return records, waves


def pretrain(spec: MicroSpec, world: Path, out: Path, progress: bool = True) -> dict:
    """Train the micro backbone from `world` and save it into `out`; return its card."""
    import torch

    from toolkit.backbone.frozen import Backbone
    from toolkit.backbone.micro import build_untrained, spectral_codec
    from toolkit.micro.card import adherence_scores, codec_scores

    torch.manual_seed(spec.seed)
    rng = np.random.default_rng(spec.seed)
    model, tokenizer = build_untrained(spec)
    records, waves = load_world_audio(world, spec.sample_rate, spec.clip_seconds)
    train, held = slice(0, len(records) - spec.heldout), slice(len(records) - spec.heldout, None)
    stages, clock = {}, cpu_seconds()
    train_waves = torch.from_numpy(waves[train])
    codec = spectral_codec(spec).fit(train_waves)
    codes = torch.cat([codec.encode_codes(train_waves[i : i + 32]) for i in range(0, len(train_waves), 32)])
    stages["codec"], clock = round(cpu_seconds() - clock, 1), cpu_seconds()
    train_language_model(model, tokenizer, codes, records[train], spec, rng, progress, lr=spec.lm_lr)
    stages["language_model"], clock = round(cpu_seconds() - clock, 1), cpu_seconds()

    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    codec.save(out)
    (out / "micro_spec.json").write_text(json.dumps(dataclasses.asdict(spec), indent=2, default=list) + "\n")
    backbone = Backbone(model, tokenizer, source=f"micro-{spec.key()}", codec=codec)
    scores = codec_scores(backbone, waves[held])
    # Adherence on held-out plain clips: a storyboard's prompt names several styles and tempos in turn.
    plain = [i for i in range(len(records))[held] if not records[i].get("storyboard", False)]
    scores.update(adherence_scores(backbone, [records[i] for i in plain], world, spec.clip_seconds,
                                   reference=waves[plain]))
    stages["card"] = round(cpu_seconds() - clock, 1)
    return {
        "stage_cpu_seconds": stages,
        "name": f"micro-{spec.key()}",
        "description": f"{backbone!r}; spectral codec (STFT magnitude, PCA, residual k-means, Griffin-Lim); "
        f"text encoder all-MiniLM-L6-v2 (frozen); pretrained on {len(records) - spec.heldout} world clips "
        f"({world.name}). Decode codes only with the toolkit (`Backbone.decode_codes`): the model's own "
        "audio_encoder is an untrained placeholder, so transformers' `generate()` gives wrong audio.",
        "heldout": spec.heldout,
        "heldout_plain": len(plain),
        "scores": scores,
    }


def warmup_cosine(optimiser, steps: int, warmup: float = 0.05):
    """Linear warm-up over the first `warmup` fraction of `steps`, then cosine decay to 5% (any step count)."""
    import math

    import torch

    ramp = max(1, round(warmup * steps))

    def factor(step: int) -> float:
        if step < ramp:
            return (step + 1) / ramp
        progress = min(1.0, (step - ramp) / max(1, steps - ramp))
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimiser, factor)


def _text_bank(model, tokenizer, records: list[dict]):
    """MiniLM states for every clip's prompt and paraphrases (computed once; the text encoder is frozen)."""
    import torch

    texts = [[r["prompt"], *r.get("paraphrases", [])] for r in records]
    flat = [t for group in texts for t in group]
    with torch.no_grad():
        tokens = tokenizer(flat, padding=True, truncation=True, max_length=64, return_tensors="pt")
        hidden = torch.cat(
            [
                model.text_encoder(
                    input_ids=tokens["input_ids"][i : i + 64],
                    attention_mask=tokens["attention_mask"][i : i + 64],
                ).last_hidden_state
                for i in range(0, len(flat), 64)
            ]
        )
    owners, offset = [], 0
    for group in texts:
        owners.append(list(range(offset, offset + len(group))))
        offset += len(group)
    return hidden, tokens["attention_mask"], owners


def train_language_model(
    model, tokenizer, codes, records: list[dict], spec: MicroSpec, rng, progress: bool, lr: float = 1e-3
) -> None:
    """Train the MusicGen decoder and text projection on `codes (N,K,T)` with the clips' texts."""
    import torch
    from tqdm.auto import tqdm

    from toolkit.backbone.delay import delayed_labels

    hidden, masks, owners = _text_bank(model, tokenizer, records)
    project = model.enc_to_dec_proj
    params = list(model.decoder.parameters()) + list(project.parameters())
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    schedule = warmup_cosine(optimiser, spec.lm_steps)
    pad = model.config.decoder.pad_token_id
    crop = min(spec.lm_crop_frames, codes.shape[-1])
    model.decoder.train()
    bar = tqdm(range(spec.lm_steps), desc="music LM", disable=not progress)
    for _ in bar:
        picks = rng.integers(0, len(codes), spec.lm_batch)
        starts = rng.integers(0, codes.shape[-1] - crop + 1, spec.lm_batch)
        batch = torch.stack([codes[i, :, s : s + crop] for i, s in zip(picks, starts, strict=True)])
        rows = torch.tensor([owners[i][rng.integers(len(owners[i]))] for i in picks])
        keep = torch.from_numpy(rng.random(spec.lm_batch) >= spec.text_dropout)
        mask = masks[rows] * keep[:, None]
        memory = project(hidden[rows]) * mask[..., None]
        out = model.decoder(
            labels=delayed_labels(batch, pad), encoder_hidden_states=memory, encoder_attention_mask=mask
        )
        optimiser.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        bar.set_postfix(loss=f"{out.loss.item():.3f}")
    model.eval()
    for p in params:
        p.requires_grad_(False)
