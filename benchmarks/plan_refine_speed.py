"""Token-by-token AR against plan-and-refine: generation time for the same clip length, backbone and
conditioners, with FAD and BHS beside each, measured in one run.

Every arm is the experiment (`experiments/micro_plan_refine.yaml`: the micro backbone with semantic + rhythm
conditioners and LoRA) trained for `--steps` steps and evaluated on the test split through the sweep's
`train-evaluate` trial; the AR arm is the same experiment with `planner.enabled=false` (its adapters trained on
the decoder's cross-entropy), the others use each patch size. Timing then generates one test clip of
`--seconds` with every arm in turn, `--repeats` rounds in rotating order (so load on a shared machine falls on
all arms alike), and reports the median. Generation includes text encoding, guidance (2 rows), sampling and
decoding to a waveform, as `toolkit generate` does. The last line is `speedup X.XX`: AR time over
plan-and-refine time at the default patch size.

    python benchmarks/plan_refine_speed.py [--steps 150] [--patch-sizes 2,4,8,16] [--seconds 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "micro_plan_refine.yaml"


def train_and_evaluate(overrides: list[str], workdir: Path) -> tuple[dict, object]:
    """The trial's metrics and the trained run's attached model (eval mode)."""
    from toolkit.config import load_config
    from toolkit.training.run import load_run
    from toolkit.training.trial import run_train_evaluate

    cfg = load_config(EXPERIMENT, overrides)
    result = run_train_evaluate(cfg, lambda step, value: None, workdir)
    _, attached, _ = load_run(workdir / "run" / "checkpoint", "benchmark")
    return result.metrics, (cfg, attached)


def clip_inputs(cfg, attached, seconds: float):
    """The first test clip's prompt and batched features (what `generate_split` passes)."""
    from toolkit.conditioners import collate_features
    from toolkit.prepare import feature_cache, prepare
    from toolkit.training.data import clip_features

    item = prepare(cfg, progress=False).split("test")[0]
    keys = attached.feature_keys
    features = collate_features([clip_features(item.video, cfg, keys, feature_cache(cfg))], keys)
    return item.prompt or "", features


def time_once(cfg, attached, prompt: str, features, seconds: float) -> float:
    from toolkit.generation import generate_music

    started = time.perf_counter()
    generate_music(attached.backbone, [prompt], seconds, guidance=cfg.backbone.guidance, seed=0,
                   window_seconds=cfg.backbone.window_seconds, attached=attached, features=features,
                   fps=float(cfg.features.fps))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="training steps per arm")
    parser.add_argument("--patch-sizes", default="2,4,8,16")
    parser.add_argument("--default-patch", type=int, default=None,
                        help="the patch size the last line reports (default: the experiment's)")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--test", type=float, default=0.03, help="test split fraction (FAD/BHS clips)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch
    from omegaconf import OmegaConf

    torch.set_num_threads(args.threads)
    default = args.default_patch or int(OmegaConf.load(EXPERIMENT).planner.patch_size)
    sizes = [int(p) for p in args.patch_sizes.split(",")]
    if default not in sizes:
        sizes.append(default)
    common = [f"train.steps={args.steps}", "train.progress=false", f"data.splits.test={args.test}",
              f"train.threads={args.threads}"]
    arms = {"AR (token by token)": ["planner.enabled=false"]}
    arms.update({f"plan-and-refine P={p}": [f"planner.patch_size={p}"] for p in sizes})
    with tempfile.TemporaryDirectory() as tmp:
        trained = {}
        for i, (name, extra) in enumerate(arms.items()):
            print(f"training and evaluating {name} ({args.steps} steps)", flush=True)
            trained[name] = train_and_evaluate(common + extra, Path(tmp) / f"arm{i}")
        prompt, features = clip_inputs(*trained["AR (token by token)"][1], args.seconds)
        names = list(arms)
        times: dict[str, list[float]] = {name: [] for name in names}
        for name in names:  # warm-up: first calls allocate and fill caches
            time_once(*trained[name][1], prompt, features, 1.0)
        for r in range(args.repeats):
            for name in names[r % len(names):] + names[: r % len(names)]:
                times[name].append(time_once(*trained[name][1], prompt, features, args.seconds))

    ar = statistics.median(times[names[0]])
    print(f"\n{args.seconds:g} s of music, guidance on, batch 1, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'arm':<26} {'seconds':>8} {'RTF':>6} {'speedup':>8} {'FAD':>8} {'BHS':>6}")
    for name in names:
        seconds = statistics.median(times[name])
        metrics = trained[name][0]
        print(f"{name:<26} {seconds:8.3f} {seconds / args.seconds:6.3f} {ar / seconds:8.2f} "
              f"{metrics['fad']:8.1f} {metrics['bhs']:6.3f}")
    print(f"speedup {ar / statistics.median(times[f'plan-and-refine P={default}']):.2f}")


if __name__ == "__main__":
    main()
