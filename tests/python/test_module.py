"""test_module.py — `import ctxenc` (python/ctxenc_module.cpp): load, info,
inpaint on numpy arrays, the GIL released during inference, library errors
as Python exceptions, and results equal to `ctxenc inpaint`'s bit for bit.

Run by CTest (python_module) with PYTHONPATH at the built module and
CTXENC_MODEL_PATH at models/. Needs numpy.
"""
import os
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np

import ctxenc

CLI = os.environ["CTXENC_CLI"]
SRC = os.environ["CTXENC_SOURCE_DIR"]
PHOTO = os.path.join(SRC, "tests", "data", "photos", "photo3.jpg")


def cli(*args):
    r = subprocess.run([CLI, "--quiet"] + list(args), stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise AssertionError(r.stderr.decode())


class Load(unittest.TestCase):
    def test_version(self):
        out = subprocess.run([CLI, "--version"], stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("ctxenc %s (git %s)" % (ctxenc.__version__, ctxenc.git_commit), out)

    def test_load_by_name_and_path(self):
        by_name = ctxenc.load("center")
        by_path = ctxenc.load(os.path.join(SRC, "models", "center.ctxm"))
        self.assertEqual(os.path.realpath(by_name.path), os.path.realpath(by_path.path))
        info = by_name.info()
        self.assertEqual(info["model"]["image_size"], 128)
        self.assertGreater(info["generator_parameters"], 1000)
        self.assertIn("kind", info)

    def test_errors(self):
        with self.assertRaises(ctxenc.ModelFileError) as c:
            ctxenc.load("no-such-model")
        self.assertIn("no-such-model", str(c.exception))
        self.assertEqual(c.exception.code, 4)
        self.assertIsInstance(c.exception, ctxenc.Error)
        self.assertIsInstance(c.exception, RuntimeError)
        with tempfile.NamedTemporaryFile(suffix=".ctxm") as f:
            f.write(b"CTXE garbage")
            f.flush()
            with self.assertRaises(ctxenc.ModelFileError):
                ctxenc.load(f.name)
        with self.assertRaises(ctxenc.UsageError) as c:
            ctxenc.load("center", blend="smudge")
        self.assertIn("smudge", str(c.exception))
        self.assertEqual(c.exception.code, 2)
        with self.assertRaises(ctxenc.InputError):
            ctxenc.load_image("/nonexistent.png")
        with self.assertRaises(TypeError):
            ctxenc.load("center", colour="red")


class Inpaint(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.region = ctxenc.load("region")
        cls.center = ctxenc.load("center")
        cls.image = ctxenc.load_image(PHOTO)

    def test_arrays(self):
        img = self.image
        self.assertEqual(img.dtype, np.uint8)
        self.assertEqual(img.ndim, 3)
        self.assertEqual(img.shape[2], 3)
        mask = np.zeros(img.shape[:2], bool)
        mask[20:50, 30:70] = True
        out = self.region.inpaint(img, mask)
        self.assertEqual(out.shape, img.shape)
        self.assertEqual(out.dtype, np.uint8)
        np.testing.assert_array_equal(out[~mask], img[~mask])  # known pixels bit for bit
        self.assertGreater(np.abs(out[mask].astype(int) - img[mask].astype(int)).sum(), 0)
        # A uint8 0/255 mask is the same mask; a non-contiguous image works.
        out8 = self.region.inpaint(np.ascontiguousarray(img[:, ::-1])[:, ::-1], mask.astype(np.uint8) * 255)
        np.testing.assert_array_equal(out8, out)

    def test_bad_arrays(self):
        img = self.image
        mask = np.zeros(img.shape[:2], bool)
        with self.assertRaises(TypeError):
            self.region.inpaint(img.astype(np.float32), mask)
        with self.assertRaises(ValueError):
            self.region.inpaint(img[:, :, :2], mask)
        with self.assertRaises(ValueError):
            self.region.inpaint(img, mask[:-1])
        with self.assertRaises(ValueError):  # a 0/1 uint8 mask would be all known
            m01 = np.zeros(img.shape[:2], np.uint8)
            m01[5:9, 5:9] = 1
            self.region.inpaint(img, m01)
        with self.assertRaises(ctxenc.UsageError):
            self.region.inpaint(img, mask, strategy="sideways")

    def test_equals_cli_bit_for_bit(self):
        with tempfile.TemporaryDirectory() as d:
            h, w = self.image.shape[:2]
            # A mask file with two holes, region model, Poisson blend.
            mask = np.zeros((h, w), bool)
            mask[10:40, 15:60] = True
            mask[h - 30:h - 5, w - 50:w - 10] = True
            mask_file = os.path.join(d, "mask.png")
            ctxenc.save_image(mask_file, mask.astype(np.uint8) * 255)
            cli("inpaint", PHOTO, "--mask", mask_file, "--model", "region", "--blend", "poisson", "-o",
                os.path.join(d, "cli_region.png"))
            py = self.region.inpaint(self.image, ctxenc.load_mask(mask_file), blend="poisson")
            np.testing.assert_array_equal(py, ctxenc.load_image(os.path.join(d, "cli_region.png")))
            # --mask center with the center model.
            cli("inpaint", PHOTO, "--mask", "center", "--model", "center", "-o", os.path.join(d, "cli_center.png"))
            py = self.center.inpaint(self.image, self.center.center_hole(w, h))
            np.testing.assert_array_equal(py, ctxenc.load_image(os.path.join(d, "cli_center.png")))
            # And ctxenc.save_image writes what the CLI writes.
            ctxenc.save_image(os.path.join(d, "py_center.png"), py)
            with open(os.path.join(d, "py_center.png"), "rb") as a, open(os.path.join(d, "cli_center.png"), "rb") as b:
                self.assertEqual(a.read(), b.read())

    def test_gil_released(self):
        # Python code in another thread keeps running while the model works:
        # with the GIL held, the ticker would stop for the whole inference.
        big = np.ascontiguousarray(np.tile(self.image, (5, 5, 1)))
        mask = np.zeros(big.shape[:2], bool)
        mask[:, big.shape[1] // 3: big.shape[1] // 2] = True
        ticks = []
        done = threading.Event()

        def ticker():
            while not done.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.005)

        t = threading.Thread(target=ticker)
        t.start()
        time.sleep(0.05)
        t0 = time.monotonic()
        self.region.inpaint(big, mask, strategy="full", flip_average=True, threads=1)
        t1 = time.monotonic()
        done.set()
        t.join()
        during = [x for x in ticks if t0 <= x <= t1]
        duration = t1 - t0
        self.assertGreater(duration, 0.1, "inference too short to tell")
        gaps = np.diff([t0] + during + [t1])
        self.assertLess(gaps.max(), duration / 2, "ticker stalled %.3f s of %.3f s" % (gaps.max(), duration))

    def test_threads_in_parallel(self):
        mask = np.zeros(self.image.shape[:2], bool)
        mask[20:50, 30:70] = True
        want = self.region.inpaint(self.image, mask)
        results = [None] * 3

        def work(i):
            results[i] = self.region.inpaint(self.image, mask)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            np.testing.assert_array_equal(r, want)


if __name__ == "__main__":
    unittest.main()
