"""Building a whole world: clips in a process pool, then the manifest, prompts, parameters and preview."""

from __future__ import annotations

import json
import multiprocessing
import signal
from pathlib import Path

from tqdm import tqdm

from toolkit.data.world.clip import ClipJob, make_clip
from toolkit.data.world.preview import make_preview
from toolkit.data.world.storyboard import StoryboardOptions
from toolkit.data.world.styles import STYLES
from toolkit.errors import UserError
from toolkit.utils.atomic import atomic_dir

# 2: valence and arousal, storyboard clips, off-beat cuts, per-shot ground truth and captions; 8 s clips.
FORMAT_VERSION = 2
WORLD_FILE = "world.json"


def build_world(
    out: str | Path,
    clips: int = 300,
    seed: int = 0,
    seconds: float = 8.0,
    fps: float = 24.0,
    sample_rate: int = 32000,
    size: int = 128,
    workers: int = 2,
    progress: bool = True,
    storyboards: float = StoryboardOptions.storyboards,
    offbeat_cuts: float = StoryboardOptions.offbeat_cuts,
) -> Path:
    """Build `clips` clips of `seconds` each into `out`, replacing an earlier world there as a whole.

    `storyboards` is the share of clips with two or three shots of different styles (each at least 2 s, so
    they need clips of 5 s or more; three need 8 s), `offbeat_cuts` the share of cuts that miss the beat.

    The result depends only on the arguments other than `workers` and `progress`: the same seed gives
    byte-identical wav files and manifest. Raises `UserError` on bad arguments or when `out` holds
    something that is not a world (it is never overwritten).
    """
    out = Path(out).resolve()  # "." must name the folder itself, not an entry of it
    _check(out, clips, seconds, fps, sample_rate, size, workers, storyboards, offbeat_cuts)
    options = StoryboardOptions(float(storyboards), float(offbeat_cuts))
    with atomic_dir(out) as tmp:
        jobs = [ClipJob(tmp, i, seed, float(seconds), float(fps), int(sample_rate), int(size), options)
                for i in range(clips)]
        bar = tqdm(total=clips, desc="world clips", unit="clip", disable=not progress)
        with bar:
            records = list(_run(jobs, workers, bar))
        _write_jsonl(tmp / "manifest.jsonl", records)
        _write_jsonl(tmp / "prompts.jsonl", [_prompt_entry(r) for r in records])
        params = {"format": "v2m-world", "version": FORMAT_VERSION, "clips": clips, "seed": seed,
                  "seconds": float(seconds), "fps": float(fps), "sample_rate": int(sample_rate),
                  "size": int(size), "styles": list(STYLES), "storyboards": options.storyboards,
                  "offbeat_cuts": options.offbeat_cuts, "min_shot": options.min_shot}
        (tmp / WORLD_FILE).write_text(json.dumps(params, indent=2) + "\n")
        make_preview(tmp, records, tmp / "preview.png")
    return out


def _run(jobs: list[ClipJob], workers: int, bar: tqdm):
    """Make the clips, yielding records in clip order whatever the number of workers."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield make_clip(job)
            bar.update()
        return
    # spawn: workers start clean even when the caller has torch or threads loaded (fork could deadlock).
    context = multiprocessing.get_context("spawn")
    # Workers ignore Ctrl-C (the terminal sends it to the whole group): the parent stops them, without
    # one traceback per worker.
    pool = context.Pool(min(workers, len(jobs)), initializer=signal.signal,
                        initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        for record in pool.imap(make_clip, jobs, chunksize=max(1, min(8, len(jobs) // (4 * workers)))):
            yield record
            bar.update()
        pool.close()
    except BaseException:
        # On an error or Ctrl-C, kill the workers before the temp dir is removed, so none writes into it after.
        pool.terminate()
        raise
    finally:
        pool.join()


ATTRIBUTES = ("style", "tempo", "key", "mode", "valence", "arousal", "instruments")


def _prompt_entry(record: dict) -> dict:
    """The generic per-stem prompts format that real data sets use as well."""
    return {
        "stem": record["id"],
        "prompt": record["prompt"],
        "paraphrases": record["paraphrases"],
        "attributes": {k: record[k] for k in ATTRIBUTES},
        "shots": [{"start": s["start"], "duration": s["duration"], "caption": s["caption"]}
                  for s in record["shots"]],
    }


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def _check(out: Path, clips: int, seconds: float, fps: float, sample_rate: int, size: int,
           workers: int, storyboards: float, offbeat_cuts: float) -> None:
    problems = [
        (clips >= 1, f"clips must be at least 1, got {clips}"),
        (2.0 <= seconds <= 600.0, f"seconds must be between 2 and 600, got {seconds}"),
        (1.0 <= fps <= 120.0, f"fps must be between 1 and 120, got {fps}"),
        (8000 <= sample_rate <= 96000, f"sample_rate must be between 8000 and 96000, got {sample_rate}"),
        (16 <= size <= 1024, f"size must be between 16 and 1024 pixels, got {size}"),
        (workers >= 1, f"workers must be at least 1, got {workers}"),
        (0.0 <= storyboards <= 1.0, f"storyboards must be a share between 0 and 1, got {storyboards}"),
        (0.0 <= offbeat_cuts <= 1.0, f"offbeat_cuts must be a share between 0 and 1, got {offbeat_cuts}"),
    ]
    for ok, message in problems:
        if not ok:
            raise UserError(f"world: {message}")
    if out.exists():
        if not out.is_dir():
            raise UserError(f"{out}: exists and is not a directory")
        if any(out.iterdir()) and not (out / WORLD_FILE).is_file():
            raise UserError(f"{out}: not empty and not a world (no {WORLD_FILE}); refusing to replace it")
