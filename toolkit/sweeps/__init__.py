"""Sweeps: a sweep file becomes an Optuna study whose trials are logged to MLflow and summarised in reports."""
