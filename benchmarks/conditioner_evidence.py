"""Do the VidMusician conditioners do what they are for? A measurement on the micro world's held-out clips.

Arms (each an experiment under `experiments/`): `bare` (the frozen micro backbone, no adapters), `semantic`
(CLIP global → gated cross-attention), `rhythm` (inter-frame distance → in-attention), `both`. Every arm is
trained and sampled with **empty prompts** (`train.text_dropout=1.0`; empty prompts at generation), so the
video is the only thing that can carry a clip's style and beat: the bare arm is the unconditional backbone,
and any difference from it is the conditioner's doing. Guidance (`--guidance`) contrasts rows with and
without video.

Each (arm, seed) job trains the arm (`seed` is also the sampling seed; the bare arm is only sampled), then
generates music for every held-out clip (`--splits`, default val + test: neither is trained on) and scores
each clip against the world's ground truth (its `manifest.jsonl`) with the toolkit's registered metrics
(`toolkit/metrics/catalog/`: the same numbers a sweep can report and optimise, e.g. `on_beat[0.05s]`):

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
    "diffv2m": "micro_diffv2m.yaml",  # Diff-V2M: rhythm predictor (ODF) + hierarchical cross-attention
}
METRICS = ("nll_gain", "style_acc", "p_true", "kl", "on_beat", "beat_contrast", "cut_hit", "cut_contrast", "tb_iou",
           "bhs", "mode_acc")
BASES = METRICS[1:]  # the toolkit's registered metrics (toolkit/metrics/catalog/), scored per clip by its suite
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
    from toolkit.training.nll_gain import VideoNllScorer
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
    scorer = None
    if arm != "bare":  # the bare backbone reads no video: its gain is 0 by construction
        cfg, attached, _ = load_run(run_dir)
        scorer = VideoNllScorer(cfg, attached, items)
    try:
        out["clips"] = score_clips(items, folder, args["tolerance"], scorer)
    finally:
        if scorer is not None:
            attached.detach()
    return out


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


# --- per-clip scores: the toolkit's registered metrics ----------------------------------------------------------
def score_clips(items: list, folder: Path, tolerance: float, scorer=None) -> dict[str, dict]:
    """{stem: {metric: value}}: the suite's per-clip values of `METRICS` for the wavs in `folder` against each
    clip's ground truth (the world's manifest; the style classifier trained on that world)."""
    from toolkit.metrics.annotations import read_annotations
    from toolkit.metrics.options import SuiteOptions
    from toolkit.metrics.suite import Pair, evaluate_pairs

    reference = items[0].video.parent
    pairs = [Pair(i.stem, i.audio or i.video, folder / f"{i.stem}.wav") for i in items]
    notes = read_annotations(reference, folder, None, [p.id for p in pairs], lambda m: None)
    options = SuiteOptions(cue_tolerance_s=tolerance, beat_bins_s=[1.0])
    result = evaluate_pairs(pairs, options, notes, report=lambda m: None, scorer=scorer,
                            only=[*BASES, "nll_gain"])
    scores: dict[str, dict] = {p.id: {} for p in pairs}
    for name, values in result["per_clip"].items():
        for stem, value in values.items():
            scores[stem][name.partition("[")[0]] = value
    for stem in scores:
        scores[stem].setdefault("nll_gain", 0.0)  # no scorer: the bare backbone
    return scores


def _reference_scores(args: argparse.Namespace, workdir: Path) -> dict[str, dict]:
    """The world's own music scored like a generated arm: the ceiling of every metric."""
    import soundfile

    from toolkit.data.audio import load_music
    from toolkit.prepare import prepare

    cfg = _config("bare", 0, vars(args), workdir)
    items = [i for s in args.splits.split(",") for i in prepare(cfg, progress=False).split(s)]
    folder, rate = workdir / "reference", 22050
    folder.mkdir(parents=True, exist_ok=True)
    for item in items:
        soundfile.write(folder / f"{item.stem}.wav", load_music(item.video, rate), rate)
    return score_clips(items, folder, args.tolerance)


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
