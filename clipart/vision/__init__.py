"""Self-supervised learning of image encoders: augmentations, encoders, SimCLR, MoCo, BYOL, SwAV, Barlow Twins, DINO (no
text model, no open_clip)."""
