#!/usr/bin/python3
"""test_web_page.py — the `ctxenc serve` web page in real headless Chromium (Debian chromium +
chromium-driver, python3-selenium), registered in CTest (so .ci/run runs it).

It starts `ctxenc serve` on the shipped models on a free port, loads the page, opens a photo through
the file picker, sets the brush size with the keyboard, paints a stroke, checks undo/redo, clicks
Fill, waits for the result, downloads it and checks that every pixel away from the stroke equals the
input and the pixels under it changed; then paints a second stroke and fills again on the result
(everything away from the second stroke must equal the first result). Finally SIGTERM must stop the
server cleanly. Screenshots of the page before and after the fill go to --screenshots.

  /usr/bin/python3 tests/browser/test_web_page.py --cli build/ctxenc --source . [--screenshots DIR]
"""
import argparse
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

W, H = 320, 240


def fail(msg):
    print("test_web_page: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def start_server(cli, models):
    proc = subprocess.Popen([cli, "serve", "--models", models, "--port", "0", "--workers", "1"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    lines = []
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return proc, m.group(1), lines
    proc.kill()
    fail("the server did not start:\n" + "".join(lines))


def browser(download_dir):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,900", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                           "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def mask_pixels(driver):
    return driver.execute_script("""
        const c = document.getElementById('mask'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] >= 127) ++n; return n;""")


def canvas_sum(driver):
    """The sum of the image canvas's RGB values (to compare with a file's)."""
    return driver.execute_script("""
        const c = document.getElementById('image'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2]; return s;""")


def fill_and_wait(driver, label):
    before = driver.execute_script("return window.ctxenc.fills")
    driver.find_element(By.ID, "fill").click()
    WebDriverWait(driver, 180).until(lambda d: d.execute_script(
        "return window.ctxenc.fills > arguments[0] || (window.ctxenc.failed && !window.ctxenc.busy)", before))
    if driver.execute_script("return window.ctxenc.fills") <= before:
        fail(f"{label} failed: " + driver.find_element(By.ID, "status").text)


def paint(driver, a, b):
    """A brush stroke from image point a to b, with real pointer events."""
    canvas = driver.find_element(By.ID, "overlay")
    scale = driver.execute_script("return window.ctxenc.view.scale")
    off = lambda p: (int(round((p[0] - W / 2) * scale)), int(round((p[1] - H / 2) * scale)))
    chain = ActionChains(driver).move_to_element_with_offset(canvas, *off(a)).click_and_hold()
    for i in range(1, 11):
        t = i / 10
        chain = chain.move_to_element_with_offset(canvas, *off((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))))
    chain.release().perform()


def distance_to_segment(a, b):
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    px, py = xs + 0.5, ys + 0.5  # pixel centres, as the canvas draws
    ax, ay, bx, by = *a, *b
    t = np.clip(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)
    return np.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay)))


def check_fill(before, after, a, b, radius, label):
    if after.shape != before.shape:
        fail(f"{label}: result is {after.shape}, input {before.shape}")
    d = distance_to_segment(a, b)
    changed = np.any(after != before, axis=2)
    outside = d > radius + 2
    inside = d < radius - 2
    bad = int(np.count_nonzero(changed & outside))
    frac = float(np.count_nonzero(changed & inside)) / max(1, int(np.count_nonzero(inside)))
    print(f"test_web_page: {label}: {bad} changed pixel(s) away from the stroke, "
          f"{100 * frac:.1f}% of the pixels under it changed")
    if bad:
        fail(f"{label}: {bad} pixels away from the stroke differ from the input")
    if frac < 0.5:
        fail(f"{label}: only {100 * frac:.1f}% of the stroke's pixels changed")


def wait_download(folder, name, timeout=30):
    path = os.path.join(folder, name)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload") and os.path.getsize(path) > 0:
            time.sleep(0.2)
            return path
        time.sleep(0.1)
    fail(f"no download {name} in {folder}: {os.listdir(folder)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--screenshots", default="")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ctxenc-browser-")
    shots = args.screenshots or work
    os.makedirs(shots, exist_ok=True)
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads)
    photo = os.path.join(work, "chambord-small.png")
    Image.open(os.path.join(args.source, "examples/chambord.jpg")).convert("RGB").resize((W, H), Image.LANCZOS).save(photo)
    source = np.asarray(Image.open(photo).convert("RGB"))

    server, url, _ = start_server(args.cli, os.path.join(args.source, "models"))
    driver = None
    try:
        driver = browser(downloads)
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.getElementById('model').options.length") > 0)
        model = driver.execute_script("return document.getElementById('model').value")
        print(f"test_web_page: page loaded from {url}, model '{model}'")
        driver.find_element(By.ID, "file").send_keys(photo)
        WebDriverWait(driver, 30).until(lambda d: f"{W}×{H}" in d.find_element(By.ID, "status").text)

        viewport = driver.find_element(By.ID, "viewport")
        ActionChains(driver).send_keys_to_element(viewport, "[").perform()  # brush 40 -> 32
        size = driver.execute_script("return window.ctxenc.size")
        if size != 32:
            fail(f"'[' should shrink the brush from 40 to 32, it is {size}")
        a, b = (70.0, 150.0), (250.0, 110.0)
        paint(driver, a, b)
        painted = mask_pixels(driver)
        if painted < 3000:
            fail(f"the stroke painted only {painted} mask pixels")
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        if mask_pixels(driver) != 0:
            fail("Ctrl-Z did not undo the stroke")
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
        if mask_pixels(driver) != painted:
            fail("Ctrl-Y did not redo the stroke")
        driver.save_screenshot(os.path.join(shots, "web-before.png"))

        t0 = time.time()
        fill_and_wait(driver, "Fill")
        print(f"test_web_page: filled in {time.time() - t0:.1f} s: {driver.find_element(By.ID, 'status').text}")
        driver.save_screenshot(os.path.join(shots, "web-after.png"))
        driver.find_element(By.ID, "download").click()
        first = np.asarray(Image.open(wait_download(downloads, "chambord-small-filled.png")).convert("RGB"))
        check_fill(source, first, a, b, size / 2, "first fill")
        if canvas_sum(driver) != int(first.astype(np.int64).sum()):
            fail("the page does not show the downloaded result")

        # Undo the fill (the photo and the stroke come back), then redo it.
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        WebDriverWait(driver, 10).until(lambda d: canvas_sum(d) == int(source.astype(np.int64).sum()))
        if mask_pixels(driver) != painted:
            fail("undoing the fill did not bring the stroke back")
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
        WebDriverWait(driver, 10).until(lambda d: canvas_sum(d) == int(first.astype(np.int64).sum()))
        if mask_pixels(driver) != 0:
            fail("redoing the fill did not clear the mask")
        print("test_web_page: Ctrl-Z undid the fill, Ctrl-Y redid it")

        driver.find_element(By.ID, "compare").click()
        driver.execute_script("const s = document.getElementById('compare-slider'); s.value = 50; s.oninput();")
        driver.save_screenshot(os.path.join(shots, "web-compare.png"))
        driver.find_element(By.ID, "compare").click()

        # Fill again on the result: a second stroke elsewhere.
        os.remove(os.path.join(downloads, "chambord-small-filled.png"))
        c, d = (60.0, 40.0), (140.0, 60.0)
        paint(driver, c, d)
        fill_and_wait(driver, "Fill again")
        driver.find_element(By.ID, "download").click()
        second = np.asarray(Image.open(wait_download(downloads, "chambord-small-filled.png")).convert("RGB"))
        check_fill(first, second, c, d, size / 2, "fill again on the result")

        # Rectangle (R), eraser (E), clear (Delete), zoom (+, 0) from the keyboard.
        canvas = driver.find_element(By.ID, "overlay")
        ActionChains(driver).send_keys_to_element(viewport, "r").perform()
        scale = driver.execute_script("return window.ctxenc.view.scale")
        at = lambda x, y: (int(round((x - W / 2) * scale)), int(round((y - H / 2) * scale)))
        ActionChains(driver).move_to_element_with_offset(canvas, *at(200, 150)).click_and_hold() \
            .move_to_element_with_offset(canvas, *at(260, 200)).release().perform()
        rect = mask_pixels(driver)
        if abs(rect - 60 * 50) > 60 + 50 + 1:
            fail(f"a 60x50 rectangle painted {rect} mask pixels")
        ActionChains(driver).send_keys_to_element(viewport, "e").perform()
        paint(driver, (195.0, 175.0), (265.0, 175.0))
        erased = mask_pixels(driver)
        if not 0 < erased < rect - 1000:
            fail(f"the eraser left {erased} of {rect} mask pixels")
        ActionChains(driver).send_keys_to_element(viewport, Keys.DELETE).perform()
        if mask_pixels(driver) != 0:
            fail("Delete did not clear the mask")
        ActionChains(driver).send_keys_to_element(viewport, "+").perform()
        zoomed = driver.execute_script("return window.ctxenc.view.scale")
        ActionChains(driver).send_keys_to_element(viewport, "0").perform()
        if not (zoomed > scale and driver.execute_script("return window.ctxenc.view.scale") == scale):
            fail(f"zoom: + gave {zoomed}, 0 should fit back to {scale}")
        print(f"test_web_page: rectangle {rect} px, after the eraser {erased} px, Delete cleared, zoom {scale} -> {zoomed} -> fit")
    finally:
        if driver:
            driver.quit()
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            fail("the server did not stop within 60 s of SIGTERM")
    if server.returncode != 0 or "stopped" not in err:
        fail(f"SIGTERM: exit code {server.returncode}, stderr:\n{err}")
    print(f"test_web_page: server stopped on SIGTERM (exit 0); screenshots in {shots}")
    print("test_web_page: PASS")


if __name__ == "__main__":
    main()
