#!/usr/bin/python3
"""Kill test: what survives a SIGKILL at a random moment of a training run.

    /usr/bin/python3 scripts/kill_test.py --trials 50 [--ctxenc build/ctxenc] [--seed 1]

A calibration run first measures how long one run takes. Each trial starts a tiny training run (32 px channel-wise model on tests/data/photos, a checkpoint
every --save-every steps, sample grids and snapshots on), kills it with SIGKILL after a random
delay within that length, then resumes it to the end with `ctxenc train --resume`. A run that ends before
its kill is not a trial (it is counted and drawn again with a shorter delay). It counts:
  * resumes that worked (the resume exits 0 and writes the final model);
  * corrupt files left behind: any .ctx/.ctxm file that `ctxenc info` refuses, any PNG that does
    not decode, any temp file (*.tmp.*) left after the resume, a log line that is not JSON;
  * steps lost: the last step the killed run logged minus the step its checkpoint held, which
    must never exceed the save interval.
Prints one line per trial and a summary; exits 1 if any trial failed a promise.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def step_of(ctxenc, path):
    out = subprocess.run([ctxenc, "info", "--json", path], capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)["step"]


def corrupt_files(ctxenc, run):
    bad = []
    for root, _, files in os.walk(run):
        for f in files:
            p = os.path.join(root, f)
            if ".tmp." in f:
                bad.append(p + " (temp file left)")
            elif f.endswith((".ctx", ".ctxm")) and step_of(ctxenc, p) is None:
                bad.append(p + " (refused by info)")
            elif f.endswith(".png"):
                with open(p, "rb") as fh:
                    data = fh.read()
                if not data.startswith(b"\x89PNG\r\n\x1a\n") or not data.rstrip().endswith(b"IEND\xaeB`\x82"):
                    bad.append(p + " (not a whole PNG)")
            elif f == "log.jsonl":
                with open(p) as fh:
                    for line in fh:
                        try:
                            json.loads(line)
                        except ValueError:
                            bad.append(p + " (a line that is not JSON)")
                            break
    return bad


def last_logged_step(run):
    last = 0
    try:
        with open(os.path.join(run, "log.jsonl")) as fh:
            for line in fh:
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if "event" not in j:
                    last = max(last, j.get("step", 0))
    except FileNotFoundError:
        pass
    return last


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--ctxenc", default=os.path.join(ROOT, "build", "ctxenc"))
    ap.add_argument("--steps", type=int, default=120, help="steps of each run")
    ap.add_argument("--save-every", type=int, default=4)
    ap.add_argument("--max-delay", type=float, default=0.0,
                    help="kill after U[0.2, this] seconds (default: 0.95 x a calibration run's length)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not os.access(args.ctxenc, os.X_OK):
        sys.exit(f"kill_test: no ctxenc binary at {args.ctxenc} (build first: scripts/build.sh)")
    rng = random.Random(args.seed)
    env = dict(os.environ, CTXENC_THREADS="1")
    common = ["--image-size", "32", "--bottleneck", "channelwise", "--nef", "8", "--ngf", "8", "--ndf", "8",
              "--batch", "4", "--steps", str(args.steps), "--save-every", str(args.save_every), "--log-every", "1",
              "--sample-every", "3", "--keep-every", "5", "--ema-decay", "0.9", "--loader-threads", "1"]
    worked = corrupt = 0
    worst_lost = 0
    failures = []
    finished_early = 0
    lost_counts = {}
    tmp = tempfile.mkdtemp(prefix="ctxenc-kill-")

    def start(run):
        return subprocess.Popen([args.ctxenc, "train", "--data", os.path.join(ROOT, "tests/data/photos"),
                                 "--out", run] + common, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        max_delay = args.max_delay
        if max_delay <= 0:
            t0 = time.monotonic()
            if start(os.path.join(tmp, "calibration")).wait() != 0:
                sys.exit("kill_test: the calibration run failed")
            max_delay = 0.95 * (time.monotonic() - t0)
            shutil.rmtree(os.path.join(tmp, "calibration"), ignore_errors=True)
            print(f"kill_test: a run of {args.steps} steps takes {max_delay / 0.95:.1f} s; kills in "
                  f"[0.2, {max_delay:.1f}] s", flush=True)
        t = 0
        while t < args.trials:
            run = os.path.join(tmp, f"run{t}")
            p = start(run)
            delay = rng.uniform(0.2, max_delay)
            time.sleep(delay)
            if p.poll() is not None:  # finished before the kill: not a trial; draw again, sooner
                finished_early += 1
                max_delay = max(0.3, 0.9 * max_delay)
                shutil.rmtree(run, ignore_errors=True)
                continue
            p.send_signal(signal.SIGKILL)
            p.wait()
            killed_at = last_logged_step(run)
            ckpt = os.path.join(run, "checkpoint.ctx")
            saved = step_of(args.ctxenc, ckpt) if os.path.exists(ckpt) else 0
            lost = killed_at - (saved or 0)
            worst_lost = max(worst_lost, lost)
            if os.path.exists(ckpt):
                r = subprocess.run([args.ctxenc, "train", "--resume", "--out", run], env=env, capture_output=True,
                                   text=True)
            else:  # killed before the first checkpoint: a resume has nothing; start again
                shutil.rmtree(run, ignore_errors=True)
                r = subprocess.run([args.ctxenc, "train", "--data", os.path.join(ROOT, "tests/data/photos"),
                                    "--out", run] + common, env=env, capture_output=True, text=True)
            final = step_of(args.ctxenc, os.path.join(run, "model.ctxm"))
            ok = r.returncode == 0 and final == args.steps
            worked += ok
            bad = corrupt_files(args.ctxenc, run)
            corrupt += len(bad)
            promise = ok and not bad and lost <= args.save_every
            if not promise:
                failures.append(t)
            lost_counts[lost] = lost_counts.get(lost, 0) + 1
            print(f"trial {t:3d}: killed after {delay:4.1f} s "
                  f"at step {killed_at:3d}, checkpoint step {saved}, lost {lost}; resume "
                  f"{'ok' if ok else 'FAILED: ' + r.stderr.strip()[-200:]}; corrupt files {len(bad)}"
                  + ("".join("\n    " + b for b in bad)), flush=True)
            shutil.rmtree(run, ignore_errors=True)
            t += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"kill_test: {args.trials} trials, resumes that worked {worked}/{args.trials}, corrupt files {corrupt}, "
          f"most steps lost {worst_lost} (save interval {args.save_every}); steps lost: "
          + ", ".join(f"{k}: {v} trials" for k, v in sorted(lost_counts.items()))
          + f"; {finished_early} runs ended before their kill and were drawn again")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
