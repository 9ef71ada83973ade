"""`toolkit world ACTION`: build the synthetic micro world, and the micro backbone pretrained on it.

Each action is a pair: a function that adds its sub-parser, and a function that runs it. To add an action,
write both and list them in ACTIONS.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from toolkit.data.world.storyboard import StoryboardOptions


def _add_build(actions: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = actions.add_parser(
        "build",
        help="compose and render a world of clips (mp4 + wav) with ground truth and prompts",
        description="Build the synthetic micro world into DIR: clips/*.mp4 (music muxed in) and *.wav, "
        "manifest.jsonl (beats, downbeats, cuts and which are on a beat, shots with their styles, tempo, key, "
        "style, valence, arousal, instruments), prompts.jsonl (with per-shot captions), world.json and "
        "preview.png. Deterministic from the seed; an earlier world in DIR is replaced.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="where to write the world")
    parser.add_argument("--clips", type=int, default=300, help="number of clips (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="length of each clip (default: 8; storyboards need 5, three shots 8)")
    defaults = StoryboardOptions()
    parser.add_argument("--storyboards", type=float, default=defaults.storyboards, metavar="SHARE",
                        help="share of clips with two or three shots of different styles (default: %(default)s)")
    parser.add_argument("--offbeat-cuts", type=float, default=defaults.offbeat_cuts, metavar="SHARE",
                        help="share of cuts that fall between beats (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    return parser


def _run_build(args: argparse.Namespace) -> int:
    from toolkit.data.world import STYLES, build_world

    start = time.perf_counter()
    out = build_world(args.out, clips=args.clips, seed=args.seed, seconds=args.seconds, workers=args.workers,
                      storyboards=args.storyboards, offbeat_cuts=args.offbeat_cuts)
    elapsed = time.perf_counter() - start
    print(f"world: {args.clips} clips of {args.seconds:g} s in {len(STYLES)} styles, seed {args.seed}, "
          f"built in {elapsed:.1f} s -> {out}; preview: {out / 'preview.png'}")
    return 0


def _add_backbone(actions: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = actions.add_parser(
        "backbone",
        help="pretrain (or load the cached) micro backbone and print its card",
        description="Build the micro text-to-music backbone (codec + MusicGen decoder over MiniLM text) on "
        "the micro world's text-music pairs, building the world first if needed. Cached under the user "
        "cache directory by spec and seed: a second call only prints the saved card.",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of world and training (default: 0)")
    parser.add_argument("--world", metavar="DIR", help="train on this world folder instead of the default")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the cores not already busy)")
    return parser


def _run_backbone(args: argparse.Namespace) -> int:
    from pathlib import Path

    from toolkit.errors import UserError
    from toolkit.micro.card import format_card, read_card
    from toolkit.micro.pretrain import backbone_dir, build_micro_backbone

    if args.world is not None and not (Path(args.world) / "manifest.jsonl").is_file():
        raise UserError(f"--world {args.world}: not a world folder (no manifest.jsonl)")
    from toolkit.backbone.micro import MicroSpec

    cached = (backbone_dir(MicroSpec(seed=args.seed)) / "config.json").is_file()
    out = build_micro_backbone(world=args.world, seed=args.seed, threads=args.threads)
    card = read_card(out)
    if cached and card is not None:  # a fresh build has printed its card already
        print(format_card(card), end="")
    print(f"micro backbone: {out}")
    return 0


ACTIONS: dict[str, tuple[Callable[[argparse._SubParsersAction], argparse.ArgumentParser],
                         Callable[[argparse.Namespace], int]]] = {
    "build": (_add_build, _run_build),
    "backbone": (_add_backbone, _run_backbone),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "world",
        help="build the synthetic micro world (music + video with known ground truth) or its backbone",
        description="The synthetic micro world: procedurally composed music with matching rendered video.",
    )
    parser.set_defaults(run=run)  # the CLI calls args.run(args)
    actions = parser.add_subparsers(dest="world_action", metavar="ACTION", required=True)
    for add, _ in ACTIONS.values():
        add(actions)


def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.world_action][1](args)
