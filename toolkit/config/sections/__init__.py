"""Config sections: one dataclass per section of an experiment file."""
