"""Readers, captions, tokens and DataLoaders for iMet-layout collections (no model code)."""
from .._compat import moved_getattr as _moved
__getattr__ = _moved('data')  # names of the old module `clipart.data`, with a deprecation warning
