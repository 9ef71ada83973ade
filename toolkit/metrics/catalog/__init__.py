"""The built-in metrics, one family per file, each a registered `toolkit.metrics.registry.Metric`."""
