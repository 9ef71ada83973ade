"""The file a scored run keeps of each clip's embedding windows, so reports can recompute set metrics (FAD,
density, coverage) on resamples of clips that several runs share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.utils.atomic import atomic_path


def save_windows(path: str | Path, ids: list[str], reference: list[np.ndarray], generated: list[np.ndarray],
                 embedding: str) -> Path:
    """Each clip's embedding windows, reference and generated, as `.npz` (`ref/<id>`, `gen/<id>`, `embedding`)."""
    arrays = {f"ref/{i}": r for i, r in zip(ids, reference, strict=True)}
    arrays |= {f"gen/{i}": g for i, g in zip(ids, generated, strict=True)}
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, embedding=np.array(embedding), **arrays)
    return path


def load_windows(path: str | Path) -> tuple[str, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(embedding, {id: reference windows}, {id: generated windows}) from `save_windows`' file."""
    with np.load(path, allow_pickle=False) as data:
        ref = {k[4:]: data[k] for k in data.files if k.startswith("ref/")}
        gen = {k[4:]: data[k] for k in data.files if k.startswith("gen/")}
        return str(data["embedding"]), ref, gen
