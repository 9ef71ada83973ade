"""Experiment configuration: schema, loading with `extends`, and dotted overrides."""

from toolkit.config.load import load_config, to_dict

__all__ = ["load_config", "to_dict"]
