"""The console scripts: parse, wire, report."""

import warnings as _w

# a console script prints what the user needs: not upstream deprecation notes that torch emits while open_clip and
# timm import
_w.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
