"""How long every console script takes to answer `--help`, `--version` and an option error, against open_clip_train's
`--help`.

    python benchmarks/cli_start.py [--repeats 5] [--out FILE]

Each command runs in a fresh process, as a user types it; the commands are interleaved (A B C ... A B C ...) so a
drifting machine moves all of them, and the median and spread (min-max) of `--repeats` runs are printed. The baseline,
`python -m open_clip_train.main --help`, runs in the same rounds. Goal (issue #26): every script's `--help` and option
error under 1.5 s on 2 cores.
"""

import argparse, json, statistics, subprocess, sys, time
from pathlib import Path
from benchlib import machine_info, machine_line

SCRIPTS = {  # an option error each script refuses before it loads anything: a bad value or an unknown option
    'clipart-train': ['--epochs', 'many'],
    'clipart-eval': ['--bs', 'lots'],
    'clipart-pretrain': ['--no-such-option'],
    'clipart-search': ['--k', 'eight'],
    'clipart-serve': ['--port', '0'],
    'clipart-label': ['--no-such-option'],
    'clipart-import': ['--no-such-option'],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    bin_ = Path(sys.executable).parent
    cmds = {}
    for s, err in SCRIPTS.items():
        exe = bin_ / s
        if not exe.exists():
            sys.exit(f"{exe}: not found: pip install -e . installs the console scripts")
        cmds[f'{s} --help'] = ([str(exe), '--help'], 0)
        cmds[f'{s} --version'] = ([str(exe), '--version'], 0)
        cmds[f"{s} {' '.join(err)}"] = ([str(exe), *err], None)  # any non-zero exit, with one line
    base = 'python -m open_clip_train.main --help'
    have_base = (
        subprocess.run([sys.executable, '-c', 'import open_clip_train.data'], capture_output=True).returncode == 0
    )  # it needs braceexpand, webdataset: pip install -e ".[bench]"
    if have_base:
        cmds[base] = ([sys.executable, '-m', 'open_clip_train.main', '--help'], 0)
    times = {k: [] for k in cmds}
    for _ in range(a.repeats):
        for k, (cmd, rc) in cmds.items():
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            times[k].append(time.perf_counter() - t)
            ok = r.returncode == 0 if rc == 0 else r.returncode != 0 and 'Traceback' not in r.stderr
            if not ok:
                sys.exit(f"{k}: exit {r.returncode}\n{r.stdout[-500:]}{r.stderr[-1500:]}")
    info = machine_info()
    print(f"{machine_line(info)}; median of {a.repeats} interleaved runs each\n")
    b = statistics.median(times[base]) if have_base else None
    print('| command | median s | min-max s |' + (' × open_clip_train --help |' if b else ''))
    print('|---|---|---|' + ('---|' if b else ''))
    for k, v in times.items():
        m = statistics.median(v)
        print(f"| `{k}` | {m:.2f} | {min(v):.2f}-{max(v):.2f} |" + (f" {m / b:.2f} |" if b else ''))
    worst = max(statistics.median(v) for k, v in times.items() if k != base)
    print(
        f"\nslowest clipart command: {worst:.2f} s (goal < 1.5 s)"
        + ('' if have_base else '; open_clip_train cannot start here (pip install -e ".[bench]"): no baseline')
    )
    if a.out:
        Path(a.out).write_text(
            json.dumps(dict(machine=info, repeats=a.repeats, seconds=times, goal_met=worst < 1.5), indent=1)
        )


if __name__ == '__main__':
    main()
