"""The console scripts: parse, wire, report."""
from .._compat import moved_getattr as _moved
__getattr__ = _moved('cli')  # names of the old module `clipart.cli`, with a deprecation warning
