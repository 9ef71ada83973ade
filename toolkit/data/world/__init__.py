"""The synthetic micro world: procedurally composed music with matching rendered video and known ground truth.

`build_world(out)` writes clips (mp4 with muxed music, plus wav), `manifest.jsonl` (ground truth),
`prompts.jsonl` (the generic prompts format real data sets use too), `world.json` and `preview.png`.
"""

from toolkit.data.world.build import FORMAT_VERSION, build_world
from toolkit.data.world.styles import STYLES

__all__ = ["FORMAT_VERSION", "STYLES", "build_world"]
