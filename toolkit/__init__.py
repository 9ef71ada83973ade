"""v2m-toolkit: video and text conditioners for a frozen text-to-music backbone."""

__version__ = "0.1.0"
