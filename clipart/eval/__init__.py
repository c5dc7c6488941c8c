"""Metrics of trained models: embeddings, zero-shot attributes, probes, the attribute predictor and reports."""
