"""Self-supervised learning of image encoders: augmentations, encoders, SimCLR, MoCo, BYOL, SwAV, Barlow Twins, DINO (no
text model, no open_clip)."""

# the self-supervised methods `clipart.vision.pretrain.create_ssl` builds, here (without torch) for the configs to check
SSL_ALGOS = ('simclr', 'moco', 'byol', 'swav', 'barlow_twins', 'dino')
