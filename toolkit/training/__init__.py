"""Training conditioners on a frozen backbone: data, schedules, stages, dropout for guidance, checkpoints, the
trainer loop, and finding a trained run again."""
