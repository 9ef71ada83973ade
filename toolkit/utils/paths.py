"""Where the toolkit keeps what it builds once and reuses (world, micro backbone, feature cache)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The user cache directory: `$V2M_CACHE_DIR`, else `$XDG_CACHE_HOME/v2m-toolkit`, else `~/.cache/v2m-toolkit`."""
    if env := os.environ.get("V2M_CACHE_DIR"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "v2m-toolkit"
