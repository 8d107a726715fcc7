#!/usr/bin/python3
"""load_test.py — a load run against `ctxenc serve` on loopback (docs/server.md). Not a timed test.

Starts `build/ctxenc serve` on the shipped models (or uses --url), then runs two phases:
  1. --small N requests (default 10,000) at --concurrency (16): 128x128 crops of the example photos,
     the center model, its own central hole (mask=center);
  2. --large N requests (default 1,000) at the same concurrency: 1024x768 photos with random
     brush strokes (an RGBA canvas-style mask), the region model.
For each: errors (any non-200), p50/p99 latency, throughput, and the server's RSS at the start,
middle and end of the phase (from /proc; only when this script started the server).

  nice -n 10 /usr/bin/python3 scripts/load_test.py [--small 10000] [--large 1000] [--workers 2]
"""
import argparse
import http.client
import io
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def png_bytes(img):
    b = io.BytesIO()
    img.save(b, "PNG")
    return b.getvalue()


def multipart(fields):
    boundary = "ctxencload%016x" % random.getrandbits(64)
    out = io.BytesIO()
    for name, value, filename in fields:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"".encode())
        if filename:
            out.write(f"; filename=\"{filename}\"\r\nContent-Type: image/png".encode())
        out.write(b"\r\n\r\n")
        out.write(value if isinstance(value, bytes) else value.encode())
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def small_bodies(n_distinct, seed):
    rng = random.Random(seed)
    photos = [Image.open(os.path.join(ROOT, p)).convert("RGB") for p in ("examples/chambord.jpg",)]
    bodies = []
    for i in range(n_distinct):
        p = photos[i % len(photos)]
        s = rng.randint(160, min(p.size) // 2)
        x, y = rng.randint(0, p.size[0] - s), rng.randint(0, p.size[1] - s)
        crop = p.crop((x, y, x + s, y + s)).resize((128, 128), Image.LANCZOS)
        bodies.append(multipart([("image", png_bytes(crop), "crop.png"), ("mask", "center", None),
                                 ("model", "center", None)]))
    return bodies


def large_bodies(n_distinct, seed):
    rng = random.Random(seed)
    sources = [Image.open(os.path.join(ROOT, p)).convert("RGB") for p in
               ("examples/chambord.jpg", "examples/kleiber-4000x3000.jpg")]
    bodies = []
    for i in range(n_distinct):
        p = sources[i % len(sources)]
        w = rng.randint(1024, p.size[0]) if p.size[0] > 1024 else p.size[0]
        h = int(w * 0.75)
        h = min(h, p.size[1])
        x, y = rng.randint(0, p.size[0] - w), rng.randint(0, p.size[1] - h)
        photo = p.crop((x, y, x + w, y + h)).resize((1024, 768), Image.LANCZOS)
        mask = Image.new("RGBA", (1024, 768), (0, 0, 0, 0))
        d = ImageDraw.Draw(mask)
        for _ in range(rng.randint(1, 3)):  # brush strokes, as the page paints them
            pts = [(rng.randint(100, 924), rng.randint(100, 668))]
            for _ in range(rng.randint(2, 5)):
                pts.append((min(1000, max(24, pts[-1][0] + rng.randint(-150, 150))),
                            min(744, max(24, pts[-1][1] + rng.randint(-120, 120)))))
            d.line(pts, fill=(255, 40, 40, 255), width=rng.randint(12, 40), joint="curve")
        bodies.append(multipart([("image", png_bytes(photo), "photo.png"), ("mask", png_bytes(mask), "mask.png"),
                                 ("model", "region", None)]))
    return bodies


def run_phase(name, host, port, bodies, total, concurrency, pid):
    lat, errors = [], []
    lock = threading.Lock()
    counter = iter(range(total))
    rss = {"start": rss_kb(pid) if pid else None}
    t0 = time.time()

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=300)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body, ctype = bodies[i % len(bodies)]
            t = time.time()
            try:
                conn.request("POST", "/api/v1/inpaint", body=body, headers={"Content-Type": ctype})
                r = conn.getresponse()
                data = r.read()
                ok = r.status == 200 and data[:8] == b"\x89PNG\r\n\x1a\n"
                err = None if ok else f"HTTP {r.status}: {data[:200]!r}"
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                err = repr(e)
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=300)
            dt = time.time() - t
            with lock:
                lat.append(dt)
                if err:
                    errors.append(err)
                if pid and len(lat) == max(1, total // 100):
                    rss["warm"] = rss_kb(pid)  # after the first 1 %: caches and pools in place
                if pid and len(lat) == total // 2:
                    rss["middle"] = rss_kb(pid)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    last = 0
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if len(lat) - last >= max(1, total // 10):
            last = len(lat)
            print(f"  {name}: {last}/{total} ({time.time() - t0:.0f} s)", flush=True)
    for t in threads:
        t.join()
    wall = time.time() - t0
    if pid:
        rss["end"] = rss_kb(pid)
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
    print(f"{name}: {total} requests at concurrency {concurrency} in {wall:.1f} s: {len(errors)} error(s), "
          f"p50 {1000 * q(0.5):.0f} ms, p99 {1000 * q(0.99):.0f} ms, max {1000 * lat[-1]:.0f} ms, "
          f"throughput {total / wall:.2f} req/s")
    if pid:
        print(f"{name}: server RSS start {rss['start'] / 1024:.1f} MB, after 1 % {rss.get('warm', -1) / 1024:.1f} MB, "
              f"middle {rss.get('middle', -1) / 1024:.1f} MB, end {rss['end'] / 1024:.1f} MB")
    for e in errors[:5]:
        print("  error:", e)
    return len(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/ctxenc"))
    ap.add_argument("--url", default="", help="an already running server (no RSS figures)")
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--large", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900,
                    help="the server's --timeout: long, so a deep queue of large photos measures throughput")
    args = ap.parse_args()

    server = None
    if args.url:
        u = urllib.parse.urlparse(args.url)
        host, port, pid = u.hostname, u.port, None
    else:
        server = subprocess.Popen([args.cli, "serve", "--models", os.path.join(ROOT, "models"), "--port", "0",
                                   "--workers", str(args.workers), "--threads", str(args.threads),
                                   "--queue", str(max(16, args.concurrency)), "--timeout", str(args.timeout)],
                                  stderr=subprocess.PIPE, text=True)
        for line in server.stderr:
            m = re.search(r"listening on http://([\d.]+):(\d+)/", line)
            if m:
                host, port = m.group(1), int(m.group(2))
                break
        else:
            sys.exit("load_test: the server did not start")
        # Drain the per-request log lines so the server never blocks on a full pipe.
        log_lines = [0]

        def drain():
            for _ in server.stderr:
                log_lines[0] += 1
        threading.Thread(target=drain, daemon=True).start()
        pid = server.pid
        print(f"load_test: server pid {pid} on {host}:{port}, --workers {args.workers} --threads {args.threads}")

    errors = 0
    try:
        if args.small:
            print(f"load_test: preparing 64 distinct 128x128 requests")
            errors += run_phase("128x128 center", host, port, small_bodies(64, 1), args.small, args.concurrency, pid)
        if args.large:
            print(f"load_test: preparing 16 distinct 1024x768 requests with strokes")
            errors += run_phase("1024x768 region strokes", host, port, large_bodies(16, 2), args.large,
                                args.concurrency, pid)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=120)
            print(f"load_test: server exit code {server.returncode} after SIGTERM")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
