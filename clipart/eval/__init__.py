"""Zero-shot attributes, retrieval, probes, search index and reports for trained models."""
from .._compat import moved_getattr as _moved
__getattr__ = _moved('eval')  # names of the old module `clipart.eval`, with a deprecation warning
