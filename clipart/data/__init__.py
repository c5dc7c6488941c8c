"""Readers, captions, tokens and DataLoaders for iMet-layout collections (no model code)."""
