"""An example v2m-toolkit plugin: the music's loudness, predicted from the video's motion.

Importing this package registers nothing: the toolkit imports each module through its entry point
(`pyproject.toml`) the first time a registry is looked up, and the module's decorators register it.
"""
