"""Inference precision on real-size towers: images/s of open_clip's eager fp32 `encode_image` (the baseline) against
clipart's `bf16` cast (`CastCLIP`: weights and activations cast), `torch.autocast` in bf16 (for reference), the ONNX
export run by ONNX Runtime (`OnnxCLIP`, when onnxruntime is installed), int8 dynamic quantization of the linear
layers through torchao (`quantize_(m, Int8DynamicActivationInt8WeightConfig())`, when torchao is installed: the
maintained successor of `torch.ao.quantization.quantize_dynamic`), and what `auto` (`choose_precision`) picks on this
machine; each setting's worst cosine to fp32 over the batch, and the share of
the GEMM peak (fp32 and bf16 matmuls measured in the same run) the model's FLOPs reach.

    python benchmarks/inference_precision.py                       # ViT-B-32 and ViT-B-16, 224 px, batch 32 and 1
    python benchmarks/inference_precision.py --archs ViT-B-32 --bs 32 --rounds 3 --out benchmarks/results/x.json
    python benchmarks/inference_precision.py --archs '' --runs runs/aic_s0 runs/aic_s1   # answers on trained runs

With `--runs`, each `clipart-train` run labels its own validation items (as if uncatalogued: `propose_attributes`)
at fp32 and at bf16: the share of items whose proposed set, and whose top proposal per group, is unchanged, and each
setting's sample F2 and micro F1 against the curated labels.

Random-init towers (speed does not depend on the weights), random images at the tower's size (224 px for these);
interleaved rounds (A B C A B C ...), the median and min-max printed. Ratios are per round against the fp32 call of the
same round.
"""

import argparse, copy, statistics, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import gemm_peak, interleaved, machine_info, machine_line, ratios, spread, write_results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--archs', default='ViT-B-32,ViT-B-16', help='open_clip architectures, comma-separated')
    ap.add_argument('--bs', default='32,1', help='batch sizes, comma-separated')
    ap.add_argument('--rounds', type=int, default=5, help='interleaved rounds')
    ap.add_argument('--runs', nargs='*', default=[], help='clipart-train runs: proposals at fp32 and bf16 compared')
    ap.add_argument('--out', help='write the results (JSON) here')
    a = ap.parse_args(argv)
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from clipart.multimodal.models import create_clip_model, image_size
    from clipart.multimodal.infer import CastCLIP, choose_precision, int8_model, _have_torchao
    import tempfile

    try:
        from clipart.multimodal.onnx import export_onnx, OnnxCLIP
    except ImportError:
        export_onnx = None
    tmp = tempfile.TemporaryDirectory()

    info = machine_info()
    print(machine_line(info))
    peak = {p: max(gemm_peak('cpu', p) for _ in range(3)) for p in ('fp32', 'bf16')}
    gf = {p: f"{v / 1e9:.0f}" for p, v in peak.items()}
    print(
        f"GEMM peak (the largest matmul up to 2048x2048 that runs in 50 ms, best of 3): fp32 {gf['fp32']} GFLOP/s, "
        f"bf16 {gf['bf16']} GFLOP/s"
    )
    res = dict(peak=peak, rows=[])
    for arch in [x for x in a.archs.split(',') if x]:
        torch.manual_seed(0)
        m = create_clip_model(arch).eval()
        cast = CastCLIP(copy.deepcopy(m), torch.bfloat16)
        auto, why = choose_precision(m, cache=False)
        print(f"\n{arch}: auto chooses {why}")
        onnx = None
        if export_onnx is not None:
            meta = export_onnx(m, Path(tmp.name) / arch)
            onnx = OnnxCLIP(Path(tmp.name) / arch)
            print(f"  ONNX export: {meta['seconds']:.0f} s")
        int8 = int8_model(copy.deepcopy(m)) if _have_torchao() else None  # the nn.Linear layers: MLPs, projections
        for bs in [int(b) for b in a.bs.split(',')]:
            x = torch.rand(bs, 3, image_size(m), image_size(m), generator=torch.Generator().manual_seed(1))
            with torch.inference_mode():
                with FlopCounterMode(display=False) as fc:
                    m.encode_image(x)
                flops = fc.get_total_flops()
                ref = m.encode_image(x, normalize=True)

                def autocast():
                    with torch.autocast('cpu', dtype=torch.bfloat16):
                        return m.encode_image(x, normalize=True).float()

                fns = dict(
                    fp32=lambda: m.encode_image(x, normalize=True),
                    bf16=lambda: cast.encode_image(x, normalize=True),
                    autocast_bf16=autocast,
                    **({'onnx': lambda: onnx.encode_image(x, normalize=True)} if onnx is not None else {}),
                    **({'int8': lambda: int8.encode_image(x, normalize=True)} if int8 is not None else {}),
                )
                unit = torch.nn.functional.normalize
                cos = {k: float((unit(f().float(), dim=-1) * ref).sum(1).min()) for k, f in fns.items()}
                t = interleaved(fns, rounds=a.rounds)
            print(f"  batch {bs}: {flops / bs / 1e9:.1f} GFLOP per image")
            for k in fns:
                ips = [bs / s for s in t[k]]
                r = ratios(t['fp32'], t[k])
                pk = 'bf16' if 'bf16' in k else 'fp32'  # ONNX Runtime runs the fp32 graph; int8: against fp32's
                frac = flops / statistics.median(t[k]) / peak[pk]
                print(
                    f"    {k:<14} {spread(ips, fmt='.1f')} images/s  {spread(r)}x fp32  cosine {cos[k]:.5f}  "
                    f"{frac:.0%} of the {pk} GEMM peak" + ('  <- auto' if k == auto else '')
                )
                res['rows'].append(
                    dict(arch=arch, bs=bs, setting=k, seconds=t[k], ratio=r, min_cos=cos[k], auto=k == auto)
                )
        res.setdefault('auto', {})[arch] = why
    for run in a.runs:
        res.setdefault('runs', []).append(answers(run))
    write_results(a.out, info, **res)


def answers(run):
    "Proposals for a run's validation items at fp32 and bf16: agreement, sample F2 and micro F1 of each"
    import numpy as np, pandas as pd
    from clipart.catalogue.core import propose_attributes
    from clipart.metrics import fbeta_samples, fbeta_micro
    from clipart.run.folder import RunFolder

    r = RunFolder(run)
    it = r.items()
    va = it[it.split == 'valid']
    df = pd.DataFrame(dict(id='new-' + va.id.astype(str), image=va.image.values))
    truth = dict(zip(df.id, [set(str(l).split('|')) - {''} for l in va.labels]))
    out = dict(run=str(run), items=len(df))
    got = {}
    for p in ('fp32', 'bf16'):
        a = propose_attributes(r, df, precision=p, progress=False).attributes
        a['attr'] = a.group + '::' + a.value
        got[p] = a
        names = sorted({n for s in truth.values() for n in s} | set(a.attr))
        col = {n: j for j, n in enumerate(names)}
        T, P = np.zeros((len(df), len(names))), np.zeros((len(df), len(names)))
        row = {i: k for k, i in enumerate(df.id)}
        for i, s in truth.items():
            T[row[i], [col[n] for n in s]] = 1
        for i, n in zip(a.id[a.proposed], a.attr[a.proposed]):
            P[row[i], col[n]] = 1
        out[p] = dict(sample_F2=fbeta_samples(T, P, 2), micro_F1=fbeta_micro(T, P, 1))
    sets = {p: g[g.proposed].groupby('id').attr.apply(frozenset) for p, g in got.items()}
    top = {p: g[g['rank'] == 1].set_index(['id', 'group']).attr for p, g in got.items()}
    out['same_set'] = float((sets['fp32'] == sets['bf16'].reindex(sets['fp32'].index)).mean())
    out['same_top'] = float((top['fp32'] == top['bf16'].reindex(top['fp32'].index)).mean())
    d = {k: out['bf16'][k] - out['fp32'][k] for k in ('sample_F2', 'micro_F1')}
    print(
        f"\n{run}: {len(df)} validation items labelled at fp32 and bf16: proposed set unchanged for "
        f"{out['same_set']:.0%}, top proposal per group for {out['same_top']:.1%}; sample F2 "
        f"{out['fp32']['sample_F2']:.3f} -> {out['bf16']['sample_F2']:.3f} ({d['sample_F2']:+.3f}), micro F1 "
        f"{out['fp32']['micro_F1']:.3f} -> {out['bf16']['micro_F1']:.3f} ({d['micro_F1']:+.3f})"
    )
    return out


if __name__ == '__main__':
    main()
