"""CLIP-style contrastive pre-training for fine-grained art recognition, as fastai callbacks."""
try:
    from importlib.metadata import version as _version, PackageNotFoundError
    __version__ = _version('clipart')
except PackageNotFoundError: __version__ = 'unknown'
from ._compat import install as _install_compat
_install_compat()  # old flat module paths (clipart.clip, ...) keep working for one release, with a warning
