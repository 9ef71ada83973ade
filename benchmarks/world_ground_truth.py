"""How well independent detectors recover the default micro world's ground truth; writes a markdown table.

    python benchmarks/world_ground_truth.py [--world DIR] [--out benchmarks/world_ground_truth.md]

Builds (or reuses) the default world (the experiment's `data.world`), then reports every agreement of
`toolkit.metrics.ground_truth`: librosa's onsets against the saved beats (and a grid shifted by a sixteenth, the
control that must fail), frame-difference cuts against the saved cuts on and off the beat, each shot's style
from its stretch of music, valence from the estimated mode and from the picture, arousal from density,
loudness and motion. The tests assert the same figures on a 36-clip world.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from toolkit.config import load_config
from toolkit.data.manifest import MANIFEST
from toolkit.data.source import dataset_root
from toolkit.metrics.ground_truth import all_agreements

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "micro.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="a world folder (default: the experiment's micro world)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".md"))
    args = parser.parse_args()
    world = args.world or dataset_root(load_config(EXPERIMENT))
    params = json.loads((world / "world.json").read_text())
    records = [json.loads(line) for line in (world / MANIFEST).read_text().splitlines() if line.strip()]
    started = time.perf_counter()
    agreements = all_agreements(world, records, float(params["fps"]))
    elapsed = time.perf_counter() - started
    boards = sum(r["storyboard"] for r in records)
    cuts = [f for r in records for f in r["cuts_on_beat"]]
    lines = [
        "# Micro world ground truth, recovered by independent detectors",
        "",
        f"World version {params['version']}: {len(records)} clips of {params['seconds']:g} s, seed {params['seed']}; "
        f"{boards} storyboards, {len(cuts)} cuts of which {len(cuts) - sum(cuts)} off the beat. "
        f"Made by `python benchmarks/world_ground_truth.py` ({elapsed:.0f} s).",
        "",
        "Valence and arousal are checked within a style, on pairs of plain clips whose truth differs by at least",
        "0.5 (the share the measure orders the same way; chance 0.5). Cuts: a spurious detection counts as a",
        "miss of the on-beat figure.",
        "",
        "| agreement | hits | of | rate | chance |",
        "|---|---|---|---|---|",
    ]
    for a in agreements:
        chance = "" if a.chance != a.chance else f"{a.chance:.2f}"
        lines.append(f"| {a.name} | {a.hits} | {a.total} | {a.rate:.3f} | {chance} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
