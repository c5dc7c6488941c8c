"""Image-text models: open_clip factories, contrastive losses, CLIP and CLIP-MoCo callbacks, scale-out tools."""

# the inference settings `clipart.multimodal.infer.for_inference` takes, here (without torch) for the configs to check
PRECISIONS = ('fp32', 'bf16', 'auto')
