"""Image-text models: open_clip factories, contrastive losses, CLIP and CLIP-MoCo callbacks, scale-out tools."""
