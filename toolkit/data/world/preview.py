"""A contact sheet of a few world clips: frames, spectrogram, and the beat, downbeat and cut markers."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
from scipy import signal

FRAMES_PER_STRIP = 8


def make_preview(world: Path, records: list[dict], path: Path, max_clips: int = 6) -> Path:
    """Draw one clip per style (up to `max_clips`), read back from the written files, into `path` (png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen, seen = [], set()
    for record in records:
        if record["style"] not in seen:
            chosen.append(record)
            seen.add(record["style"])
        if len(chosen) == max_clips:
            break
    fig, axes = plt.subplots(2 * len(chosen), 1, figsize=(10, 3.2 * len(chosen)), squeeze=False,
                             gridspec_kw={"height_ratios": [1.0, 1.0] * len(chosen)})
    for row, record in enumerate(chosen):
        strip_ax, spec_ax = axes[2 * row, 0], axes[2 * row + 1, 0]
        frames = _read_frames(world / record["video"])
        picks = np.linspace(0, len(frames) - 1, FRAMES_PER_STRIP).round().astype(int)
        strip_ax.imshow(np.concatenate([frames[i] for i in picks], axis=1))
        strip_ax.set_axis_off()
        strip_ax.set_title(f"{record['id']} · {record['style']} · {record['tempo']} BPM {record['key']} "
                           f"{record['mode']} · {', '.join(record['instruments'])}", fontsize=9, loc="left")
        audio, sr = sf.read(world / record["audio"], dtype="float32")
        freqs, times, power = signal.spectrogram(audio, fs=sr, nperseg=1024, noverlap=768)
        keep = freqs <= 8000
        decibels = 10 * np.log10(power[keep] + 1e-10)
        spec_ax.pcolormesh(times, freqs[keep], decibels, shading="auto", cmap="magma")
        for t in record["beats"]:
            spec_ax.axvline(t, color="white", lw=0.6, alpha=0.6)
        for t in record["downbeats"]:
            spec_ax.axvline(t, color="white", lw=1.6)
        for t in record["cuts"]:
            spec_ax.axvline(t, color="cyan", lw=2.0, ls="--")
        spec_ax.set_xlim(0, record["seconds"])
        spec_ax.set_ylabel("Hz", fontsize=8)
        spec_ax.tick_params(labelsize=7)
    legend = "seconds (thin white: beats, thick white: downbeats, dashed cyan: cuts)"
    axes[-1, 0].set_xlabel(legend, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
