"""The console scripts: parse, wire, report."""
import warnings as _w
# a console script prints what the user needs: not upstream deprecation notes that torch emits while open_clip/timm import
_w.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
from .._compat import moved_getattr as _moved
__getattr__ = _moved('cli')  # names of the old module `clipart.cli`, with a deprecation warning
