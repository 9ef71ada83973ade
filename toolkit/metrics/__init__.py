"""Objective metrics for video-to-music generation, one module per family, each usable on its own.

fad (+ embeddings), kl (KL and IS, + classifier), prdc (density/coverage), rhythm (BHS/BCS, TB-IoU, tempo),
key, speed, alignment (optional, bring weights), bootstrap (CIs); suite runs them all over matched folders.
"""
