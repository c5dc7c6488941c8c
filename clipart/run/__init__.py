"""The run layer: one config per job (`TrainConfig`, `PretrainConfig`, `EvalConfig`) and each step of a run as a
function a notebook can call: read, build, fit, score, write."""
