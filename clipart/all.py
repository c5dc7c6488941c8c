"""Everything clipart offers, with fastai's vision API: `from clipart.all import *` (as `from fastai.vision.all import
*`)."""

from fastai.vision.all import *
from .dist import *
from .metrics import *
from .momentum import *
from .training import *
from .data.imet import *
from .data.captions import *
from .data.tokens import *
from .data.synthetic import *
from .data.images import *
from .vision.augment import *
from .vision.encoders import *
from .vision.ssl import *
from .vision.simclr import *
from .vision.moco import *
from .vision.byol import *
from .vision.swav import *
from .vision.barlow_twins import *
from .vision.dino import *
from .vision.pretrain import *
from .multimodal.models import *
from .multimodal.losses import *
from .multimodal.clip import *
from .multimodal.clip_moco import *
from .multimodal.scale import *
from .multimodal.embed import *
from .multimodal.classifier import *
from .eval.zero_shot import *
from .eval.probes import *
from .search.index import *
from .eval.report import *
from .search.duplicates import *
from .catalogue.core import *
from .app.gallery import *
from .multimodal.adapt import *
from .multimodal.lora import *

# Two fastai names keep their fastai meaning here; clipart's own are one import away:
# `clipart.vision.augment.RandomResizedCrop` (a batch transform, one box per image) and
# `clipart.multimodal.models.image_size` (the image size a model expects).
from fastai.vision.all import RandomResizedCrop, image_size  # noqa: F401 (fastai's, over the star imports above)
