"""Run `prepare` twice on the default micro world with an empty feature cache; print first/second time ratio.

    python benchmarks/prepare_cache.py [key=value ...]

The world itself is built (or reused) before timing starts, so both runs see the same files. The second
run must be all cache hits; the ratio is what the content-addressed cache saves a sweep's later trials.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from toolkit.config import load_config
from toolkit.prepare import prepare

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "micro.yaml"


def main(overrides: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        cfg = load_config(EXPERIMENT, [*overrides, f"features.cache_dir={cache}"])
        prepare(cfg, extract=False)  # build or reuse the world outside the timed runs
        times, results = [], []
        for _ in range(2):
            start = time.perf_counter()
            results.append(prepare(cfg, progress=False))
            times.append(time.perf_counter() - start)
    first, second = results
    print(f"clips {len(first.items)}  torch threads {torch.get_num_threads()}  device cpu")
    print(f"first run  {times[0]:8.2f} s   hits {first.hits:5d}  misses {first.misses:5d}")
    print(f"second run {times[1]:8.2f} s   hits {second.hits:5d}  misses {second.misses:5d}")
    assert second.misses == 0, "the second run must be all cache hits"
    print(f"ratio first/second {times[0] / times[1]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
