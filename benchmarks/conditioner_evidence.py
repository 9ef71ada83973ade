"""Do the VidMusician conditioners do what they are for? A measurement on the micro world's held-out clips.

Arms (each an experiment under `experiments/`): `bare` (the frozen micro backbone, no adapters), `semantic`
(CLIP global → gated cross-attention), `rhythm` (inter-frame distance → in-attention), `both`. Every arm is
trained and sampled with **empty prompts** (`train.text_dropout=1.0`; empty prompts at generation), so the
video is the only thing that can carry a clip's style and beat: the bare arm is the unconditional backbone,
and any difference from it is the conditioner's doing. Guidance (`--guidance`) contrasts rows with and
without video.

Each (arm, seed) job trains the arm (`seed` is also the sampling seed; the bare arm is only sampled), then
generates music for every held-out clip (`--splits`, default val + test: neither is trained on) and scores
each clip against the world's ground truth (its `manifest.jsonl`):

- information: `nll_gain`, the decoder's teacher-forced cross-entropy on the clip's music without its video
  minus with it (nats per token; 0 for the bare arm): does the conditioner take anything from the video?
- style: the `micro-style-cnn` classifier (`toolkit.metrics.classifier`) on the generated music: accuracy
  against the clip's true style, probability of the true style, and KL(reference ‖ generated) of the class
  probabilities (`toolkit.metrics.kl`, what the suite reports as `kl`);
- rhythm: onsets by LORIS's detector (`toolkit.metrics.rhythm.loris_onsets`) against the true beat times (the
  video flashes on every beat) and cut times (phrase boundaries): `on_beat` = fraction of generated onsets
  within ±`--tolerance` s of a beat, `beat_contrast` / `cut_contrast` = mean onset strength within ±tolerance
  of beats / cuts over its mean everywhere (1 = no relation), `cut_hit` = fraction of cuts with an onset
  within ±tolerance; plus the suite's `tb_iou` (true cuts vs `librosa` beats, ±0.1 s) and `bhs` (LORIS, 1 s
  bins, vs the reference music's onsets).

Means carry 95% bootstrap CIs over clips (`toolkit.metrics.bootstrap`, per-clip values averaged over seeds);
Δ columns are paired (same clips) differences from `bare`, with their own CI. The `reference` row scores the
world's own music: the ceiling. Uses the cached micro world and backbone (`$V2M_CACHE_DIR`); downloads nothing.

    python benchmarks/conditioner_evidence.py [--steps 1000] [--arms bare,semantic,rhythm,both] [--seeds 0]
        [--jobs 2] [--workdir conditioner_evidence] [--fps 24] [--rhythm-context 0] [--rhythm-normalise]
        [--lr 1e-3] [--guidance 3]

Re-running with the same options reuses the trained runs and generated audio under `--workdir` and only
scores again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = {
    "bare": "micro.yaml",
    "semantic": "micro_evidence_semantic.yaml",
    "rhythm": "micro_evidence_rhythm.yaml",
    "both": "micro_evidence_both.yaml",
}
METRICS = ("nll_gain", "style_acc", "p_true", "kl", "on_beat", "beat_contrast", "cut_hit", "cut_contrast", "tb_iou",
           "bhs")
LOWER_IS_BETTER = {"kl"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps of each trained arm")
    parser.add_argument("--arms", default="bare,semantic,rhythm,both", help=f"comma list of {sorted(EXPERIMENTS)}")
    parser.add_argument("--seeds", default="0", help="comma list: training and sampling seeds")
    parser.add_argument("--splits", default="val,test", help="held-out splits to generate for")
    parser.add_argument("--jobs", type=int, default=2, help="(arm, seed) jobs in parallel, one thread each")
    parser.add_argument("--workdir", default="conditioner_evidence", help="runs, generated audio, results")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the experiment's)")
    parser.add_argument("--rhythm-context", type=int, default=0, help="rhythm conditioner: video frames each side")
    parser.add_argument("--rhythm-normalise", action="store_true",
                        help="rhythm conditioner: log(1 + d / median) of each clip's curve (`normalise: true`)")
    parser.add_argument("--fps", type=float, default=None, help="video feature rate (default: the config's 8)")
    parser.add_argument("--guidance", type=float, default=3.0, help="guidance scale over video")
    parser.add_argument("--tolerance", type=float, default=0.05, help="onset-to-beat window (± seconds)")
    parser.add_argument("--batch", type=int, default=14, help="clips generated together")
    parser.add_argument("--tag", default="", help="suffix of this variant's run folders (e.g. ctx2)")
    args = parser.parse_args()

    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(EXPERIMENTS))
    if unknown:
        parser.error(f"--arms: unknown {unknown}; choose from {sorted(EXPERIMENTS)}")
    if "bare" not in arms:
        arms.insert(0, "bare")  # every Δ is against it
    seeds = [int(s) for s in args.seeds.split(",")]
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    jobs = [(arm, seed, vars(args), str(workdir)) for arm in arms for seed in seeds]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(_job, jobs))
    reference = _reference_scores(args, workdir)
    table = summarise(results, reference, arms, seeds)
    wall = time.time() - started
    seeds_tag = "-seeds" + "_".join(str(s) for s in seeds)  # runs with other seeds do not overwrite it
    (workdir / f"results{_variant(vars(args))}{seeds_tag}.json").write_text(
        json.dumps({"args": vars(args), "wall_seconds": wall, "table": table, "jobs": results}, indent=1)
    )
    print(render(table, args, wall))
    return 0


# --- one (arm, seed) job: train, generate, score ------------------------------------------------------------
def _config(arm: str, seed: int, args: dict, workdir: Path):
    from toolkit.config import load_config

    overrides = [f"seed={seed}", f"train.steps={args['steps']}", f"train.output_dir={workdir / 'runs'}",
                 "train.progress=false", "data.splits.test=0.1", "data.splits.val=0.1"]
    if args["lr"] is not None:
        overrides.append(f"train.lr={args['lr']}")
    if args["fps"]:  # only the features the conditioners read, at this rate
        overrides += [f"features.fps={args['fps']}", *(f"features.extractors.{name}=null" for name in
                                                        ("rhythm", "colour", "shots"))]
    cfg = load_config(ROOT / "experiments" / EXPERIMENTS[arm], overrides)
    for spec in cfg.conditioners:
        if spec["name"] == "rhythm" and args["rhythm_context"]:
            spec["context"] = int(args["rhythm_context"])
        if spec["name"] == "rhythm" and args.get("rhythm_normalise"):
            spec["normalise"] = True
    return cfg


def _variant(args: dict) -> str:
    """Suffix naming a trained arm's settings beyond the experiment file (so variants never share a run)."""
    parts = [f"-{args['steps']}"]
    parts += [f"-fps{args['fps']:g}"] if args["fps"] else []
    parts += [f"-ctx{args['rhythm_context']}"] if args["rhythm_context"] else []
    parts += ["-norm"] if args.get("rhythm_normalise") else []
    parts += [f"-lr{args['lr']:g}"] if args["lr"] is not None else []
    return "".join(parts) + args["tag"]


def _job(job: tuple[str, int, dict, str]) -> dict:
    import soundfile
    import torch

    from toolkit.prepare import prepare
    from toolkit.training.model import attach_adapters, load_experiment_backbone
    from toolkit.training.run import load_run
    from toolkit.training.trainer import train

    arm, seed, args, workdir = job
    workdir = Path(workdir)
    torch.set_num_threads(1)
    cfg = _config(arm, seed, args, workdir)
    name = f"{arm}-s{seed}" + ("" if arm == "bare" else _variant(args))
    run_dir = workdir / "runs" / name
    out = {"arm": arm, "seed": seed, "name": name}
    items = [i for s in args["splits"].split(",") for i in prepare(cfg, progress=False).split(s)]
    folder = workdir / "generated" / name / f"g{args['guidance']:g}"
    if all((folder / f"{i.stem}.wav").is_file() for i in items):  # generated before: score again only
        audio = [soundfile.read(folder / f"{i.stem}.wav", dtype="float32")[0] for i in items]
        rate = soundfile.info(folder / f"{items[0].stem}.wav").samplerate
    else:
        began = time.time()
        if arm == "bare":
            attached = attach_adapters(cfg, load_experiment_backbone(cfg)).eval()
        else:
            if not (run_dir / "checkpoint" / "config.yaml").is_file():
                result = train(cfg, run_dir=run_dir, track=False)
                out["val_loss"] = result.metrics.get("val_loss")
            cfg, attached, _ = load_run(run_dir)
        out["train_seconds"] = time.time() - began
        began = time.time()
        try:
            audio = generate(cfg, attached, items, seed, args["guidance"], args["batch"])
        finally:
            attached.detach()
        out["generate_seconds"] = time.time() - began
        rate = attached.backbone.sample_rate
        _save_audio(folder, items, audio, rate)
    out["clips"] = score_clips(items, audio, rate, args["tolerance"])
    gains = {i.stem: 0.0 for i in items}  # the bare backbone reads no video
    if arm != "bare":
        cfg, attached, _ = load_run(run_dir)
        try:
            gains = video_nll_gain(cfg, attached, items)
        finally:
            attached.detach()
    for stem, gain in gains.items():
        out["clips"][stem]["nll_gain"] = gain
    return out


def video_nll_gain(cfg, attached, items: list) -> dict[str, float]:
    """Per clip: the decoder's cross-entropy (nats per token, teacher-forced, empty prompt, the clip's first
    `train.crop_seconds`) without its video minus with it. Rows without video are the bare backbone exactly,
    so a positive gain is information the conditioners take from the video."""
    import torch

    from toolkit.features.batch import drop_video
    from toolkit.features.read import feature_kinds
    from toolkit.heads.base import MusicCrop
    from toolkit.training.data import ClipSet, load_clips

    backbone, keys = attached.backbone, attached.feature_keys
    clips = load_clips(items, backbone, cfg, keys)
    crops = ClipSet(clips, backbone.frame_rate, cfg.features.fps, cfg.train.crop_seconds, keys, backbone.max_frames,
                    feature_kinds(cfg, keys))
    memory, mask = backbone.encode_text([""])
    gains = {}
    with torch.no_grad():
        for n, clip in enumerate(clips):
            batch = crops.batch([n])
            codes = batch.codes.to(backbone.device)
            crop = MusicCrop(codes, memory, mask)
            with_video = attached.loss(crop, batch.features)
            without = attached.loss(crop, drop_video(batch.features, torch.tensor([True])))
            gains[clip.stem] = float(without - with_video)
    return gains


def generate(cfg, attached, items: list, seed: int, guidance: float, batch: int) -> list[np.ndarray]:
    """Music for each item with an empty prompt and its video's features (none for the bare backbone).

    Its own loop rather than `generate_split` with `evaluation.prompts: none`: it samples `batch` clips at once
    (each row draws its own music from the batch's generator), which saves most of the per-step overhead of one
    clip at a time on a CPU, and it keeps the audio of earlier runs of this benchmark."""
    from toolkit.features.read import video_inputs
    from toolkit.generation import generate_music
    from toolkit.prepare import feature_cache

    keys, cache, backbone = attached.input_keys, feature_cache(cfg), attached.backbone
    waves = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        features = None
        if keys:
            features = video_inputs([i.video for i in chunk], cfg, keys, cache)
        seconds = min(i.duration for i in chunk)
        audio = generate_music(
            backbone, [""] * len(chunk), seconds, guidance=guidance, temperature=cfg.backbone.temperature,
            top_k=cfg.backbone.top_k, seed=1000 * seed + start, attached=attached if keys else None,
            features=features, fps=float(cfg.features.fps),
        )
        waves.extend(a.numpy() for a in audio)
    return waves


def _save_audio(folder: Path, items: list, audio: list[np.ndarray], rate: int) -> None:
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    for item, wave in zip(items, audio, strict=True):
        soundfile.write(folder / f"{item.stem}.wav", wave, rate)


# --- per-clip scores ------------------------------------------------------------------------------------------
def _world(items: list) -> tuple[Path, dict[str, dict]]:
    from toolkit.metrics.suite import find_manifest

    manifest = find_manifest(items[0].video.parent)
    records = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return manifest.parent, {r["id"]: r for r in records}


def score_clips(items: list, audio: list[np.ndarray], rate: int, tolerance: float) -> dict[str, dict]:
    """{stem: {metric: value}} for generated (or reference) music against each clip's ground truth."""
    from toolkit.metrics import kl, rhythm
    from toolkit.metrics.classifier import micro_style_classifier

    world, truth = _world(items)
    classifier = micro_style_classifier(world)
    sr = rhythm.LORIS_SAMPLE_RATE
    gen = [_resample(a, rate, sr) for a in audio]
    ref = [_reference_music(i, sr) for i in items]
    p_gen = classifier.predict_proba([_resample(a, rate, classifier.sample_rate) for a in audio])
    p_ref = classifier.predict_proba([_resample(r, sr, classifier.sample_rate) for r in ref])
    kls = kl.pairwise_kl(p_ref, p_gen)
    scores = {}
    for n, item in enumerate(items):
        record = truth[item.stem]
        style = classifier.classes.index(record["style"])
        beats, cuts = np.asarray(record["beats"]), np.asarray(record["cuts"])
        onsets = rhythm.loris_onsets(gen[n], sr)
        duration = min(len(gen[n]), len(ref[n])) / sr
        bhs, _ = rhythm.beat_hit_scores(rhythm.loris_onsets(ref[n], sr), onsets, duration)
        scores[item.stem] = {
            "style_acc": float(np.argmax(p_gen[n]) == style),
            "p_true": float(p_gen[n][style]),
            "kl": float(kls[n]),
            "on_beat": on_beat_fraction(onsets, beats, tolerance),
            "beat_contrast": onset_contrast(gen[n], sr, beats, tolerance),
            "cut_hit": hit_fraction(cuts, onsets, tolerance),
            "cut_contrast": onset_contrast(gen[n], sr, cuts, tolerance),
            "tb_iou": rhythm.transition_beat_iou(cuts, rhythm.beat_times(gen[n], sr), 0.1),
            "bhs": bhs,
        }
    return scores


def _resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    import soxr

    audio = np.asarray(audio, np.float32)
    return audio if rate == target else soxr.resample(audio, rate, target)


def _reference_music(item, rate: int) -> np.ndarray:
    from toolkit.data.audio import load_music

    return load_music(item.video, rate)


def hit_fraction(events: np.ndarray, targets: np.ndarray, tolerance: float) -> float:
    """Fraction of `events` within ±tolerance of some target (NaN when either is empty)."""
    if len(events) == 0 or len(targets) == 0:
        return float("nan")
    distance = np.abs(np.asarray(events)[:, None] - np.asarray(targets)[None, :]).min(axis=1)
    return float(np.mean(distance <= tolerance))


def on_beat_fraction(onsets: np.ndarray, beats: np.ndarray, tolerance: float) -> float:
    """Fraction of onsets within ±tolerance of some beat (NaN without onsets)."""
    return hit_fraction(onsets, beats, tolerance)


def onset_contrast(audio: np.ndarray, rate: int, beats: np.ndarray, tolerance: float) -> float:
    """Mean onset strength within ±tolerance of the event times `beats` over its mean over the whole clip."""
    import librosa

    envelope = librosa.onset.onset_strength(y=audio, sr=rate)
    times = librosa.frames_to_time(np.arange(len(envelope)), sr=rate)
    near = (np.abs(times[:, None] - beats[None, :]) <= tolerance).any(axis=1)
    if not near.any() or envelope.mean() <= 0:
        return float("nan")
    return float(envelope[near].mean() / envelope.mean())


def _reference_scores(args: argparse.Namespace, workdir: Path) -> dict[str, dict]:
    """The world's own music scored like a generated arm: the ceiling of every metric."""
    from toolkit.prepare import prepare

    cfg = _config("bare", 0, vars(args), workdir)
    items = [i for s in args.splits.split(",") for i in prepare(cfg, progress=False).split(s)]
    rate = 22050
    return score_clips(items, [_reference_music(i, rate) for i in items], rate, args.tolerance)


# --- the table ------------------------------------------------------------------------------------------------
def _per_clip(results: list[dict], arm: str, metric: str, stems: list[str]) -> np.ndarray:
    runs = [r["clips"] for r in results if r["arm"] == arm]
    return np.array([np.nanmean([run[s][metric] for run in runs]) for s in stems])


def summarise(results: list[dict], reference: dict, arms: list[str], seeds: list[int]) -> dict:
    """{row: {metric: [mean, lo, hi], "Δ"+metric: [mean, lo, hi]}} plus per-seed means."""
    from toolkit.metrics.bootstrap import bootstrap_mean_ci

    stems = sorted(reference)
    table: dict[str, dict] = {}
    for arm in arms:
        row: dict = {}
        for metric in METRICS:
            values = _per_clip(results, arm, metric, stems)
            row[metric] = [float(np.nanmean(values)), *bootstrap_mean_ci(values)]
            if arm != "bare":
                diff = values - _per_clip(results, "bare", metric, stems)
                row["Δ" + metric] = [float(np.nanmean(diff)), *bootstrap_mean_ci(diff)]
        row["per_seed"] = {
            str(r["seed"]): {m: float(np.nanmean([c[m] for c in r["clips"].values()])) for m in METRICS}
            for r in results if r["arm"] == arm
        }
        row["val_loss"] = [r.get("val_loss") for r in results if r["arm"] == arm]
        table[arm] = row
    ref = {}
    for metric in METRICS[1:]:  # no decoder reads the reference music: no nll_gain
        values = np.array([reference[s][metric] for s in stems])
        ref[metric] = [float(np.nanmean(values)), *bootstrap_mean_ci(values)]
    table["reference"] = ref
    table["n_clips"] = len(stems)
    return table


def render(table: dict, args: argparse.Namespace, wall: float) -> str:
    def cell(v: list[float]) -> str:
        return f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"

    rows = [r for r in table if r not in ("n_clips",)]
    header = "| arm | " + " | ".join(METRICS) + " |"
    lines = [f"{table['n_clips']} held-out clips ({args.splits}), steps {args.steps}, seeds {args.seeds}, "
             f"guidance {args.guidance}, rhythm context {args.rhythm_context}, normalise {args.rhythm_normalise}, "
             f"feature fps {args.fps or 8:g}, "
             f"lr {args.lr or 'experiment'}, wall {wall:.0f} s",
             "", "means [95% bootstrap CI]", header, "|" + "---|" * (len(METRICS) + 1)]
    lines += [f"| {r} | " + " | ".join(cell(table[r][m]) if m in table[r] else "–" for m in METRICS) + " |"
              for r in rows]
    lines += ["", "paired Δ vs bare [95% CI] (* = CI excludes 0 in the better direction)", header,
              "|" + "---|" * (len(METRICS) + 1)]
    for r in rows:
        if r in ("bare", "reference"):
            continue
        cells = []
        for m in METRICS:
            d = table[r]["Δ" + m]
            better = d[2] < 0 if m in LOWER_IS_BETTER else d[1] > 0
            cells.append(f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]" + (" *" if better else ""))
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
