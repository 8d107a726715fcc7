"""test_torch_parity.py — PyTorch weights in and out, against Debian's python3-torch.

* import: a random-initialised generator in the public _netG layout
  (context_encoder_pytorch's model.py: main_encode / main_decode), saved with
  torch.save as that project's training script saves it, is imported by
  `ctxenc import`; ctxenc's generator output equals PyTorch's within
  TOLERANCE (max absolute difference on outputs in [-1, 1]).
* every architecture ctxenc builds: random python/ctxenc_torch.py generators
  -> `ctxenc import --layout ctxenc` -> same outputs within TOLERANCE ->
  `ctxenc export --format torch` -> torch.load (weights_only) gives the same
  tensors bit for bit.
* the shipped models: export -> torch.load -> ctxenc_torch.Generator equals
  ctxenc within TOLERANCE.
* the reader refuses a pickle that would run code.

Run by CTest (python_torch_parity) when torch imports.
"""
import json
import os
import pickle
import subprocess
import tempfile
import unittest
import zipfile

import numpy as np
import torch
import torch.nn as nn

import ctxenc
import ctxenc_torch

CLI = os.environ["CTXENC_CLI"]
# ctxenc folds BatchNorm into the convolutions and runs up-convolutions as
# sub-pixel convolutions; both change float32 rounding, nothing else.
TOLERANCE = 1e-5

torch.manual_seed(0)
torch.set_num_threads(1)


def cli(*args):
    r = subprocess.run([CLI, "--quiet"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r


def randomise_batchnorm(module):
    # Fresh BatchNorms are the identity; random statistics make the check mean something.
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)


class NetG(nn.Module):
    """The public _netG layout (same module indices), written for this test."""

    def __init__(self, nc=3, nef=64, ngf=64, nbottleneck=4000, image_size=128):
        super().__init__()
        enc = [nn.Conv2d(nc, nef, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        ch = nef
        widths = {128: [nef, nef * 2, nef * 4, nef * 8], 64: [nef * 2, nef * 4, nef * 8]}[image_size]
        for w in widths:
            enc += [nn.Conv2d(ch, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.LeakyReLU(0.2)]
            ch = w
        enc += [nn.Conv2d(ch, nbottleneck, 4, bias=False), nn.BatchNorm2d(nbottleneck), nn.LeakyReLU(0.2)]
        self.main_encode = nn.Sequential(*enc)
        dec = [nn.ConvTranspose2d(nbottleneck, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU()]
        ch = ngf * 8
        outs = {128: [ngf * 4, ngf * 2, ngf], 64: [ngf * 4, ngf * 2]}[image_size]
        for w in outs:
            dec += [nn.ConvTranspose2d(ch, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            ch = w
        dec += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main_decode = nn.Sequential(*dec)

    def forward(self, x):
        return self.main_decode(self.main_encode(x))


def max_diff(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


class ImportNetG(unittest.TestCase):
    def check(self, net, image_size, save):
        randomise_batchnorm(net)
        net.eval()
        x = torch.rand(2, 3, image_size, image_size) * 2 - 1
        with torch.no_grad():
            want = net(x).numpy()
        with tempfile.TemporaryDirectory() as d:
            pth, ctxm = os.path.join(d, "netG.pth"), os.path.join(d, "netG.ctxm")
            torch.save(save(net), pth)
            r = cli("import", pth, "-o", ctxm)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            model = ctxenc.load(ctxm, threads=1)
            got = model.forward(x.numpy())
            self.assertEqual(got.shape, want.shape)
            diff = max_diff(got, want)
            print("\n  netG %d px: max |ctxenc - torch| = %.2e (tolerance %.0e)" % (image_size, diff, TOLERANCE))
            self.assertLessEqual(diff, TOLERANCE)
            # The imported model inpaints through the CLI like any other.
            photo = os.path.join(os.environ["CTXENC_SOURCE_DIR"], "tests", "data", "photos", "photo0.jpg")
            r = cli("inpaint", photo, "--mask", "center", "--model", ctxm, "-o", os.path.join(d, "out.png"))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return model.info()

    def test_training_script_checkpoint(self):
        # {'epoch': ..., 'state_dict': ...}, as the public training script saves netG.
        net = NetG(nef=16, ngf=16, nbottleneck=200)
        info = self.check(net, 128, lambda n: {"epoch": 3, "state_dict": n.state_dict()})
        m = info["model"]
        self.assertEqual((m["image_size"], m["nef"], m["ngf"], m["nbottleneck"]), (128, 16, 16, 200))
        self.assertEqual((m["bottleneck"], m["output"], m["upsampling"]), ("dense", "center", "transposed"))

    def test_plain_state_dict_64px(self):
        self.check(NetG(nef=8, ngf=8, nbottleneck=50, image_size=64), 64, lambda n: n.state_dict())

    def test_dataparallel_prefix(self):
        net = NetG(nef=8, ngf=8, nbottleneck=40)
        self.check(net, 128, lambda n: {"module." + k: v for k, v in n.state_dict().items()})

    def test_wrong_layout_refused(self):
        net = NetG(nef=8, ngf=8, nbottleneck=40)
        with tempfile.TemporaryDirectory() as d:
            sd = net.state_dict()
            sd["main_encode.3.weight"] = torch.zeros(5)  # a BatchNorm of the wrong width
            torch.save(sd, os.path.join(d, "bad.pth"))
            r = cli("import", os.path.join(d, "bad.pth"), "-o", os.path.join(d, "bad.ctxm"))
            self.assertEqual(r.returncode, 4, r.stderr.decode())
            self.assertIn("main_encode.3.weight", r.stderr.decode())
            self.assertFalse(os.path.exists(os.path.join(d, "bad.ctxm")))


ARCHITECTURES = [
    dict(image_size=32, output="center", bottleneck="dense", upsampling="transposed"),
    dict(image_size=32, output="center", bottleneck="channelwise", upsampling="bilinear"),
    dict(image_size=32, output="full", bottleneck="dense", upsampling="bilinear"),
    dict(image_size=32, output="full", bottleneck="channelwise", upsampling="transposed"),
    dict(image_size=64, output="center", bottleneck="channelwise", upsampling="transposed", mask_channel=True),
    dict(image_size=64, output="full", bottleneck="dense", upsampling="bilinear", residual=True, mask_channel=True),
]


class EveryArchitecture(unittest.TestCase):
    def test_round_trip(self):
        for arch in ARCHITECTURES:
            with self.subTest(**arch), tempfile.TemporaryDirectory() as d:
                cfg = dict(nef=8, ngf=8, nbottleneck=24, **arch)
                g = ctxenc_torch.Generator(cfg)
                randomise_batchnorm(g)
                g.eval()
                cin = 3 + (1 if arch.get("mask_channel") else 0)
                x = torch.rand(2, cin, cfg["image_size"], cfg["image_size"]) * 2 - 1
                with torch.no_grad():
                    want = g(x).numpy()
                pt, ctxm, back = (os.path.join(d, n) for n in ("g.pt", "g.ctxm", "back.pt"))
                torch.save(g.state_dict(), pt)
                r = cli("import", pt, "--layout", "ctxenc", "--model-config", json.dumps(cfg), "-o", ctxm)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                got = ctxenc.load(ctxm, threads=1).forward(x.numpy())
                diff = max_diff(got, want)
                print("\n  %s: max |ctxenc - torch| = %.2e" % (arch, diff))
                self.assertLessEqual(diff, TOLERANCE)
                # And back out: torch.load (weights only) gives the same tensors, bit for bit.
                r = cli("export", "--format", "torch", ctxm, "-o", back)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                sd = torch.load(back, weights_only=True)
                self.assertEqual(list(sd.keys()), list(g.state_dict().keys()))
                for k, v in g.state_dict().items():
                    self.assertTrue(torch.equal(sd[k], v), k)
                g2 = ctxenc_torch.Generator(ctxenc.load(ctxm).info()["model"])
                g2.load_state_dict(sd)
                g2.eval()
                with torch.no_grad():
                    self.assertTrue(torch.equal(g2(x), g(x)))


class ShippedModels(unittest.TestCase):
    def test_export_matches(self):
        for name in ("center", "region"):
            with self.subTest(model=name), tempfile.TemporaryDirectory() as d:
                pt = os.path.join(d, name + ".pt")
                r = cli("export", "--format", "torch", name, "-o", pt)
                self.assertEqual(r.returncode, 0, r.stderr.decode())
                self.assertTrue(zipfile.is_zipfile(pt))
                model = ctxenc.load(name, threads=1)
                cfg = model.info()["model"]
                g = ctxenc_torch.Generator(cfg)
                g.load_state_dict(torch.load(pt, weights_only=True))
                g.eval()
                cin = cfg["channels"] + (1 if cfg["mask_channel"] else 0)
                x = torch.rand(1, cin, cfg["image_size"], cfg["image_size"]) * 2 - 1
                with torch.no_grad():
                    want = g(x).numpy()
                diff = max_diff(model.forward(x.numpy()), want)
                print("\n  shipped %s: max |ctxenc - torch| = %.2e" % (name, diff))
                self.assertLessEqual(diff, TOLERANCE)


class RestrictedReader(unittest.TestCase):
    def test_code_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            pt, out = os.path.join(d, "evil.pt"), os.path.join(d, "evil.ctxm")
            marker = os.path.join(d, "pwned")
            class Pwn:
                def __reduce__(self):
                    return (os.system, ("touch " + marker,))
            torch.save({"state_dict": {"main_encode.0.weight": torch.zeros(1)}, "x": Pwn()}, pt)
            r = cli("import", pt, "-o", out)
            self.assertEqual(r.returncode, 4, r.stderr.decode())
            self.assertIn("posix.system", r.stderr.decode())
            self.assertFalse(os.path.exists(marker))
            self.assertFalse(os.path.exists(out))

    def test_not_a_zip(self):
        with tempfile.TemporaryDirectory() as d:
            pt = os.path.join(d, "legacy.pt")
            with open(pt, "wb") as f:
                pickle.dump({"a": 1}, f)
            r = cli("import", pt, "-o", os.path.join(d, "x.ctxm"))
            self.assertEqual(r.returncode, 4)
            self.assertEqual(len(r.stderr.decode().strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
