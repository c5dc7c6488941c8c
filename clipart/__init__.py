"""CLIP-style contrastive pre-training for fine-grained art recognition, as fastai callbacks."""

try:
    from importlib.metadata import version as _version, PackageNotFoundError

    __version__ = _version('clipart')
except PackageNotFoundError:
    __version__ = 'unknown'
