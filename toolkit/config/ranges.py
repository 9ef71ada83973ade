"""Transitional: the range mechanism lives in `toolkit.utils.ranges` (lower layers use it too). This name stays
only until the modules that still import it here switch; import from `toolkit.utils.ranges`."""

from toolkit.utils.ranges import INF, Range, check_range, check_ranges

__all__ = ["INF", "Range", "check_range", "check_ranges"]
