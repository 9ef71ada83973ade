"""v2m-toolkit: video and text conditioners for a frozen text-to-music backbone."""

from toolkit.utils import numba_cache as _numba_cache

__version__ = "0.1.0"

# Before anything imports librosa: numba caches into a folder of the toolkit's own, checked before use.
_numba_cache.install()
