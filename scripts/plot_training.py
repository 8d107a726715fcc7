#!/usr/bin/env python3
"""Draw a ctxenc run's loss curves from RUN_DIR/log.jsonl into a PNG.

Usage: /usr/bin/python3 scripts/plot_training.py RUN_DIR [--out FILE.png] [--smooth N] [--title T]

Panels: masked L2 reconstruction loss; adversarial losses (D and G); images/s.
Needs Debian's python3-matplotlib (installed by scripts/setup.sh).
"""
import argparse
import json
import os
import sys


def read_log(path):
    steps, rec, adv, dloss, ips, t = [], [], [], [], [], []
    with open(path) as f:
        for line in f:
            try:
                j = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line after a crash
            if "loss_rec" not in j:
                continue
            steps.append(j["step"])
            rec.append(j["loss_rec"])
            adv.append(j.get("loss_adv", 0.0))
            dloss.append(j.get("loss_d", 0.0))
            ips.append(j.get("images_per_s", 0.0))
            t.append(j.get("time_s", 0.0))
    return steps, rec, adv, dloss, ips, t


def smooth(v, n):
    if n <= 1:
        return v
    out, acc = [], 0.0
    for i, x in enumerate(v):
        acc += x
        if i >= n:
            acc -= v[i - n]
        out.append(acc / min(i + 1, n))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--out", help="PNG to write (default RUN_DIR/loss.png)")
    ap.add_argument("--smooth", type=int, default=20, help="moving-average window in log lines")
    ap.add_argument("--title", default=None)
    ap.add_argument("--mark", action="append", default=[], metavar="STEP:LABEL",
                    help="draw a vertical line at STEP with LABEL (repeatable), e.g. 2250:shipped")
    a = ap.parse_args()
    log = os.path.join(a.run_dir, "log.jsonl")
    if not os.path.exists(log):
        sys.exit(f"plot_training: {log} does not exist")
    steps, rec, adv, dloss, ips, t = read_log(log)
    if not steps:
        sys.exit(f"plot_training: {log} holds no training steps")
    batch = 64
    try:
        with open(os.path.join(a.run_dir, "config.json")) as f:
            batch = json.load(f).get("batch_size", batch)
    except (OSError, json.JSONDecodeError):
        pass
    # Instantaneous rate between log lines (time_s restarts at 0 after a resume).
    rate = [ips[0]]
    for i in range(1, len(steps)):
        dt = t[i] - t[i - 1]
        rate.append((steps[i] - steps[i - 1]) * batch / dt if dt > 0 else rate[-1])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    ax[0].plot(steps, rec, alpha=0.25, color="C0")
    ax[0].plot(steps, smooth(rec, a.smooth), color="C0")
    ax[0].set_yscale("log")
    ax[0].set_title("masked L2 reconstruction (ring weighted)")
    if any(adv) or any(dloss):
        ax[1].plot(steps, smooth(dloss, a.smooth), label="D (real + fake BCE)")
        ax[1].plot(steps, smooth(adv, a.smooth), label="G adversarial BCE")
        ax[1].legend()
    else:
        ax[1].text(0.5, 0.5, "no adversarial loss\n(lambda_adv 0)", ha="center", va="center",
                   transform=ax[1].transAxes)
    ax[1].set_title("adversarial losses")
    ax[2].plot(steps, smooth(rate, a.smooth), color="C2")
    ax[2].set_title("training images/s")
    for m in a.mark:
        step, _, label = m.partition(":")
        for k, x in enumerate(ax):
            x.axvline(float(step), color="C3", linestyle="--", alpha=0.7)
            if k == 0 and label:
                x.text(float(step), 0.98, " " + label, color="C3", transform=x.get_xaxis_transform(), va="top")
    for x in ax:
        x.set_xlabel("step")
        x.grid(alpha=0.3)
    fig.suptitle(a.title or os.path.basename(os.path.normpath(a.run_dir)))
    fig.tight_layout()
    out = a.out or os.path.join(a.run_dir, "loss.png")
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, out)
    # Wall time: time_s counts from each (re)start, so add up the segments.
    wall, seg_start = 0.0, 0.0
    for i in range(1, len(t) + 1):
        if i == len(t) or t[i] < t[i - 1]:
            wall += t[i - 1] - seg_start
            seg_start = 0.0
    first = steps[0] - (steps[1] - steps[0] if len(steps) > 1 else steps[0])
    per_1000 = wall / max(1, steps[-1] - first) * 1000
    print(f"plot_training: wrote {out} ({len(steps)} points, last step {steps[-1]})")
    print(f"plot_training: logged wall time {wall / 3600:.2f} h, {per_1000:.0f} s per 1000 steps "
          f"({batch * 1000 / per_1000:.1f} images/s)")


if __name__ == "__main__":
    main()
