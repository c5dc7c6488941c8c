"""Image-text models: open_clip factories, contrastive losses, CLIP and CLIP-MoCo callbacks, scale-out tools."""

# the inference settings, here (without torch) for the configs to check: `clipart.multimodal.infer.for_inference` takes
# the first four; 'onnx' runs a run folder's ONNX export (`clipart.multimodal.onnx`, `RunFolder.model('onnx')`)
PRECISIONS = ('fp32', 'bf16', 'int8', 'auto', 'onnx')
