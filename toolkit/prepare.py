"""`prepare`: find the experiment's clips, split them, and fill the feature cache."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig
from tqdm import tqdm

from toolkit.data.cache import FeatureCache
from toolkit.data.dataset import Item, scan_dataset, strip_name
from toolkit.data.source import dataset_root
from toolkit.errors import MediaError, UserError
from toolkit.features.pipeline import build_extractors, extract_features, specs_from_config
from toolkit.utils.paths import cache_root


@dataclass
class Prepared:
    """The outcome of `prepare`: usable items with their splits, what was skipped, and cache statistics."""

    root: Path
    items: list[Item]
    skipped: list[tuple[str, str]]
    total: int
    hits: int = 0
    misses: int = 0
    notes: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Item]:
        """The items of one split ("train", "val" or "test")."""
        return [item for item in self.items if item.split == name]


def feature_cache(cfg: DictConfig) -> FeatureCache:
    """The feature cache named by `features.cache_dir`, else the user cache's."""
    root = Path(cfg.features.cache_dir) if cfg.features.cache_dir else cache_root() / "features"
    return FeatureCache(root)


def prepare(cfg: DictConfig, extract: bool = True, progress: bool = True) -> Prepared:
    """Scan the dataset (building the micro world if the experiment uses it) and cache every feature."""
    # Built from the config alone (models load on first use), so a bad extractor setting fails once, here,
    # before a world is built, not as a skip per clip.
    specs = specs_from_config(cfg.features) if extract else {}
    extractors = build_extractors(specs)
    root = dataset_root(cfg, progress=progress)
    scan = scan_dataset(root, prompts_file=cfg.data.prompts, val=cfg.data.splits.val,
                        test=cfg.data.splits.test, split_seed=cfg.data.splits.seed)
    for name, reason in scan.skipped:
        print(f"warning: skipped {name}: {reason}", file=sys.stderr)
    prepared = Prepared(root=root, items=scan.items, skipped=scan.skipped, total=scan.total)
    if not extract:
        return prepared
    cache = feature_cache(cfg)
    cache.remove_orphans()  # temp files of writers killed mid-write, if any
    failed: set[str] = set()
    for item in tqdm(scan.items, desc="features", unit="clip", disable=not progress, file=sys.stderr):
        try:
            extract_features(item.video, extractors, cache, fps=cfg.features.fps, max_side=cfg.features.max_side,
                             sample_rate=cfg.data.sample_rate)
        except MediaError as err:  # a readable header but undecodable content: skip, as the scan would
            name = str(item.video.relative_to(root))
            prepared.skipped.append((name, strip_name(str(err), item.video)))
            print(f"warning: skipped {name}: {err}", file=sys.stderr)
            failed.add(item.stem)
    prepared.items = [item for item in prepared.items if item.stem not in failed]
    if not prepared.items:
        name, reason = prepared.skipped[0]
        raise UserError(f"data.root: {root}: no usable videos (skipped {len(prepared.skipped)} of {scan.total}; "
                        f"first: {name}: {reason})")
    prepared.hits, prepared.misses = cache.hits, cache.misses
    if any(e.name == "clip" and getattr(e, "model", None) == "tiny-random" for e in extractors.values()):
        prepared.notes.append("CLIP weights are random (features.extractors.clip.model=tiny-random): they carry "
                              "no semantics; the micro world's frames differ in colour and motion only")
    return prepared


def summary(prepared: Prepared) -> str:
    """A few lines for the terminal: counts per split, skipped files, cache hits and misses."""
    counts = {s: len(prepared.split(s)) for s in ("train", "val", "test")}
    lines = [f"prepared {len(prepared.items)} clips from {prepared.root} "
             f"(train {counts['train']}, val {counts['val']}, test {counts['test']})"]
    if prepared.skipped:
        first = prepared.skipped[0]
        lines.append(f"skipped {len(prepared.skipped)} of {prepared.total}: {first[0]}: {first[1]}"
                     + (" (and more above)" if len(prepared.skipped) > 1 else ""))
    lines.append(f"feature cache: {prepared.hits} hits, {prepared.misses} misses")
    lines.extend(f"note: {note}" for note in prepared.notes)
    return "\n".join(lines)
