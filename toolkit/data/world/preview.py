"""A contact sheet of a few world clips: frames, spectrogram, shot styles, emotion, beats and on/off-beat cuts."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
from scipy import signal

FRAMES_PER_STRIP = 8


def make_preview(world: Path, records: list[dict], path: Path, max_clips: int = 6) -> Path:
    """Draw up to two storyboard clips and then one plain clip per style (up to `max_clips` in all), read back
    from the written files, into `path` (png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = _choose(records, max_clips)
    fig, axes = plt.subplots(2 * len(chosen), 1, figsize=(10, 3.2 * len(chosen)), squeeze=False,
                             gridspec_kw={"height_ratios": [1.0, 1.0] * len(chosen)})
    for row, record in enumerate(chosen):
        strip_ax, spec_ax = axes[2 * row, 0], axes[2 * row + 1, 0]
        frames = _read_frames(world / record["video"])
        picks = np.linspace(0, len(frames) - 1, FRAMES_PER_STRIP).round().astype(int)
        strip_ax.imshow(np.concatenate([frames[i] for i in picks], axis=1))
        strip_ax.set_axis_off()
        styles = " → ".join(f"{s['style']} {s['tempo']}" for s in _sections(record["shots"]))
        strip_ax.set_title(f"{record['id']} · {styles} BPM · {record['key']} {record['mode']} · "
                           f"valence {record['valence']:+.2f} arousal {record['arousal']:+.2f}",
                           fontsize=9, loc="left")
        audio, sr = sf.read(world / record["audio"], dtype="float32")
        freqs, times, power = signal.spectrogram(audio, fs=sr, nperseg=1024, noverlap=768)
        keep = freqs <= 8000
        decibels = 10 * np.log10(power[keep] + 1e-10)
        spec_ax.pcolormesh(times, freqs[keep], decibels, shading="auto", cmap="magma")
        for t in record["beats"]:
            spec_ax.axvline(t, color="white", lw=0.6, alpha=0.6)
        for t in record["downbeats"]:
            spec_ax.axvline(t, color="white", lw=1.6)
        for t, on_beat in zip(record["cuts"], record["cuts_on_beat"], strict=True):
            spec_ax.axvline(t, color="cyan" if on_beat else "red", lw=2.0, ls="-" if on_beat else "--")
        for shot in _sections(record["shots"]):
            spec_ax.text(shot["start"] + 0.05, 7600, shot["style"], color="white", fontsize=7, va="top")
        spec_ax.set_xlim(0, record["seconds"])
        spec_ax.set_ylabel("Hz", fontsize=8)
        spec_ax.tick_params(labelsize=7)
    legend = ("seconds (thin white: beats, thick white: downbeats, solid cyan: cut on a beat, dashed red: cut "
              "off the beat; each section's style at its top left)")
    axes[-1, 0].set_xlabel(legend, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _choose(records: list[dict], max_clips: int) -> list[dict]:
    chosen = [r for r in records if r["storyboard"]][:2]
    seen = set()
    for record in records:
        if len(chosen) >= max_clips:
            break
        if not record["storyboard"] and record["style"] not in seen:
            chosen.append(record)
            seen.add(record["style"])
    return chosen


def _sections(shots: list[dict]) -> list[dict]:
    """Consecutive shots of one style and tempo, once (a plain clip's phrase cuts do not change its style)."""
    return [s for i, s in enumerate(shots) if i == 0 or (s["style"], s["tempo"]) != (shots[i - 1]["style"],
                                                                                   shots[i - 1]["tempo"])]


def _read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
