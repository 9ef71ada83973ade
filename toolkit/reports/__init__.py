"""Ablation reports from a sweep's MLflow runs: tables (md, csv, tex) and plots."""
