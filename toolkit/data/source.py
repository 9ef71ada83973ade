"""Where an experiment's clips live: `data.root`, or the micro world built once into the user cache."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from toolkit.data.manifest import MANIFEST
from toolkit.data.world.storyboard import StoryboardOptions
from toolkit.errors import UserError
from toolkit.utils.build_lock import exclusive_build
from toolkit.utils.paths import cache_root


def world_dir(clips: int, seconds: float, seed: int, storyboards: float, offbeat_cuts: float) -> Path:
    """The cache folder of the micro world with these parameters (one per parameter set, shared by runs)."""
    from toolkit.data.world import FORMAT_VERSION

    name = f"micro-v{FORMAT_VERSION}-{clips}x{seconds:g}s-seed{seed}-storyboards{storyboards:g}-offbeat{offbeat_cuts:g}"
    return cache_root() / "worlds" / name


def dataset_root(cfg: DictConfig, progress: bool = True) -> Path:
    """`data.root` if set (it must exist), else the micro world, built on first use."""
    if cfg.data.root is not None:
        root = Path(str(cfg.data.root)).expanduser()
        if not root.is_dir():
            raise UserError(f"data.root: {root} does not exist or is not a directory")
        return root
    world = cfg.data.world
    return micro_world(world.clips, world.seconds, world.seed, progress, world.storyboards, world.offbeat_cuts)


def micro_world(clips: int, seconds: float, seed: int, progress: bool = True,
                storyboards: float = StoryboardOptions.storyboards,
                offbeat_cuts: float = StoryboardOptions.offbeat_cuts) -> Path:
    """The micro world with these parameters, built on first use (one process builds, the others wait)."""
    out = world_dir(clips, seconds, seed, storyboards, offbeat_cuts)
    if (out / MANIFEST).is_file():
        return out
    with exclusive_build(out, "the micro world"):
        if not (out / MANIFEST).is_file():
            from toolkit.data.world import build_world

            print(f"building the micro world ({clips} clips of {seconds:g} s, seed {seed}) in {out}")
            build_world(out, clips=clips, seed=seed, seconds=seconds, progress=progress, storyboards=storyboards,
                        offbeat_cuts=offbeat_cuts)
    return out
