"""`toolkit generate VIDEO -o OUT.mp4`: the video with music from the frozen backbone muxed in."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import UserError
from toolkit.utils.atomic import check_output_file

if TYPE_CHECKING:
    from toolkit.training.checkpoint import Checkpoint


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a copy of a video with generated music of the same duration",
        description="Generate music for VIDEO with the frozen backbone (text-conditioned by --prompt, "
        "unconditional without it) and write OUT.mp4: the same pictures with that music as the sound track. "
        "With --run, a trained run's adapters also condition the music on the video's features, and guidance "
        "contrasts prompt+video with neither.",
    )
    parser.add_argument("video", help="input video file")
    parser.add_argument("-o", "--output", required=True, help="output .mp4 path")
    parser.add_argument("--prompt", default="", help="text description of the music (default: unconditional)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument(
        "--guidance", type=float, default=3.0, help="classifier-free guidance scale (default 3)"
    )
    parser.add_argument(
        "--backbone",
        default=None,
        help="micro (default), musicgen-small, a hub id or a local model directory (not with --run)",
    )
    parser.add_argument(
        "--run", dest="run_ref", metavar="RUN",
        help="a trained run (MLflow run id, run folder or checkpoint folder) whose adapters to use",
    )
    parser.add_argument("--window-seconds", type=float, default=8.0, help="length of one generation window")
    parser.add_argument(
        "--threads", type=int, metavar="N",
        help="CPU threads (default: the run's train.threads when set, else the machine's cores)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.data.mp4 import mux_audio
    from toolkit.data.video import probe_video
    from toolkit.generation import generate_music
    from toolkit.micro import load_backbone
    from toolkit.utils.threads import check_threads, configured_threads, use_threads

    if args.threads is not None:
        check_threads(args.threads)
    video, output = Path(args.video), Path(args.output)
    if output.suffix.lower() != ".mp4":
        raise UserError(f"{output}: output must be an .mp4 file")
    if output.resolve() == video.resolve():
        raise UserError(f"{output}: output would overwrite the input video")
    check_output_file(output, "-o")  # fail now, not after minutes of generation
    for option, value in (("--guidance", args.guidance), ("--window-seconds", args.window_seconds)):
        if not (math.isfinite(value) and value > 0):  # NaN fails every comparison, inf overflows later
            raise UserError(f"{option} must be a finite positive number, got {value}")
    info = probe_video(video)
    if info.duration <= 0:
        raise UserError(f"{video}: video has no duration")
    trained = {}
    if args.run_ref:
        if args.backbone is not None:
            raise UserError("--backbone: not with --run (the run names its own backbone)")
        from toolkit.training.run import checkpoint_config, find_checkpoint

        checkpoint = find_checkpoint(args.run_ref)
        use_threads(args.threads or configured_threads(checkpoint_config(checkpoint)))  # before any model work
        backbone, trained = _trained(checkpoint, video)
    else:
        use_threads(args.threads or configured_threads())
        backbone = load_backbone(args.backbone or "micro")
    audio = generate_music(
        backbone,
        [args.prompt],
        info.duration,
        guidance=args.guidance,
        seed=args.seed,
        window_seconds=args.window_seconds,
        progress=True,
        **trained,
    )[0]
    peak = float(audio.abs().max())
    if peak > 0.99:  # keep the codec's level, but never clip
        audio = audio * (0.99 / peak)
    mux_audio(video, audio.numpy(), backbone.sample_rate, output)
    print(f"wrote {output} ({info.duration:.2f} s, {backbone.sample_rate} Hz music)")
    return 0


def _trained(checkpoint: Checkpoint, video: Path) -> tuple[object, dict]:
    """The run's backbone, and `generate_music` kwargs: its adapters, the video's features, their fps and the
    run's sampling settings."""
    from toolkit.features.read import video_inputs
    from toolkit.prepare import feature_cache
    from toolkit.training.run import load_run

    cfg, attached, _ = load_run(checkpoint)
    features = video_inputs([video], cfg, attached.input_keys, feature_cache(cfg))
    kwargs = {"attached": attached, "features": features, "fps": float(cfg.features.fps),
              "temperature": float(cfg.backbone.temperature), "top_k": int(cfg.backbone.top_k)}
    return attached.backbone, kwargs
