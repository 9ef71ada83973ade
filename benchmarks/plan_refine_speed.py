"""Token-by-token AR against plan-and-refine: generation time for the same clip length, backbone and
conditioners, with FAD and BHS beside each, measured in one run.

Every arm is `experiments/micro_plan_refine.yaml` (the micro backbone with semantic + rhythm conditioners and
LoRA): the AR arm with `head.name=tokens` (its adapters trained on the decoder's cross-entropy), the
others at each patch size. Each arm's adapters come from a finished patch-size sweep when `--runs-from` names
its trial folder (the seed-0 trial of each patch size), else they are trained here for `--steps` steps. FAD
(mel-stats) and BHS are computed on the test split, generated with each arm. Timing then generates one test
clip of `--seconds` with every arm in turn, `--repeats` rounds in rotating order (so load on a shared machine
falls on all arms alike), and reports the median. Generation includes text encoding, guidance (2 rows),
sampling and decoding to a waveform, as `toolkit generate` does. The last line is `speedup X.XX`: AR time over
plan-and-refine time at the default patch size.

    python benchmarks/plan_refine_speed.py [--runs-from trials/patch_size] [--steps 200] [--patch-sizes 2,4,8,16]
        [--seconds 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "micro_plan_refine.yaml"
AR = "AR (token by token)"
FAD, BHS = "fad[mel-stats]", "bhs[1s]"  # the suite's names, conventions included


def sweep_checkpoint(folder: Path | None, patch: int) -> Path | None:
    """The seed-0 checkpoint of patch size `patch` among a sweep's trial folders."""
    from omegaconf import OmegaConf

    for config in sorted(folder.glob("*/run/checkpoint/config.yaml")) if folder else []:
        cfg = OmegaConf.load(config)
        if cfg.head.name == "plan_refine" and int(cfg.head.plan_refine.patch_size) == patch and int(cfg.seed) == 0:
            return config.parent
    return None


def trained_checkpoint(overrides: list[str], workdir: Path) -> Path:
    from toolkit.config import load_config
    from toolkit.training.trainer import train

    return train(load_config(EXPERIMENT, overrides), run_dir=workdir, track=False).checkpoint


def evaluate(checkpoint: Path, workdir: Path) -> tuple[dict, tuple]:
    """FAD/BHS on the run's test split, and what timing generates from: `(cfg, attached, prompt, features)` of
    the split's first clip."""
    from toolkit.features.read import video_inputs
    from toolkit.prepare import feature_cache, prepare
    from toolkit.training.evaluation import evaluate_generated, generate_split
    from toolkit.training.run import load_run

    cfg, attached, _ = load_run(checkpoint, "benchmark")
    test = prepare(cfg, progress=False).split("test")
    metrics = evaluate_generated(cfg, test, generate_split(cfg, attached, test, workdir))
    features = video_inputs([test[0].video], cfg, attached.input_keys, feature_cache(cfg))
    return metrics, (cfg, attached, test[0].prompt or "", features)


def time_once(cfg, attached, prompt: str, features, seconds: float) -> float:
    from toolkit.generation import generate_music

    started = time.perf_counter()
    generate_music(attached.backbone, [prompt], seconds, guidance=cfg.backbone.guidance, seed=0,
                   window_seconds=cfg.backbone.window_seconds, attached=attached, features=features,
                   fps=float(cfg.features.fps))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-from", type=Path, default=None, help="a patch-size sweep's trials folder")
    parser.add_argument("--steps", type=int, default=200, help="training steps for arms trained here")
    parser.add_argument("--patch-sizes", default="2,4,8,16")
    parser.add_argument("--default-patch", type=int, default=None,
                        help="the patch size the last line reports (default: the experiment's)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--test", type=float, default=0.05, help="test split fraction for arms trained here")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from omegaconf import OmegaConf

    torch.set_num_threads(args.threads)
    default = args.default_patch or int(OmegaConf.load(EXPERIMENT).head.plan_refine.patch_size)
    sizes = sorted({int(p) for p in args.patch_sizes.split(",")} | {default})
    common = [f"train.steps={args.steps}", "train.progress=false", f"data.splits.test={args.test}",
              f"train.threads={args.threads}"]
    arms = {AR: (None, ["head.name=tokens"])}
    arms.update({f"plan-and-refine P={p}": (p, [f"head.plan_refine.patch_size={p}"]) for p in sizes})
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (patch, extra)) in enumerate(arms.items()):
            checkpoint = sweep_checkpoint(args.runs_from, patch) if patch else None
            if checkpoint is None:
                print(f"{name}: training {args.steps} steps", flush=True)
                checkpoint = trained_checkpoint(common + extra, Path(tmp) / f"run{i}")
            print(f"{name}: evaluating {checkpoint}", flush=True)
            results[name] = evaluate(checkpoint, Path(tmp) / f"generated{i}")
        names = list(arms)
        times: dict[str, list[float]] = {name: [] for name in names}
        for name in names:  # warm-up: first calls allocate and fill caches
            time_once(*results[name][1], 1.0)
        for r in range(args.repeats):
            for name in names[r % len(names):] + names[: r % len(names)]:
                times[name].append(time_once(*results[name][1], args.seconds))

    ar = statistics.median(times[AR])
    clips = results[AR][0].get("n_pairs", "?")
    print(f"\n{args.seconds:g} s of music, guidance on, batch 1, {args.threads} thread(s), median of {args.repeats};"
          f" {FAD} and {BHS} on {clips} test clips")
    print(f"{'arm':<26} {'seconds':>8} {'RTF':>6} {'speedup':>8} {FAD:>15} {BHS:>8}")
    for name in names:
        seconds = statistics.median(times[name])
        metrics = results[name][0]
        print(f"{name:<26} {seconds:8.3f} {seconds / args.seconds:6.3f} {ar / seconds:8.2f} "
              f"{metrics['metrics'][FAD]['value']:15.1f} {metrics['metrics'][BHS]['value']:8.3f}")
    print(f"speedup {ar / statistics.median(times[f'plan-and-refine P={default}']):.2f}")


if __name__ == "__main__":
    main()
