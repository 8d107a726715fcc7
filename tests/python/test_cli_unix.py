"""test_cli_unix.py — `ctxenc` as a Unix tool: --version, `-` for stdin and
stdout, --json on inpaint / eval / masks, progress on a terminal only (plain
lines otherwise, nothing under --quiet, NO_COLOR), the exit code table in
--help, the README and the man page, and the bash/zsh completions.

Run by CTest (python_cli_unix) with CTXENC_CLI, CTXENC_SOURCE_DIR,
CTXENC_BUILD_DIR and CTXENC_MODEL_PATH set. Standard library only.
"""
import json
import os
import pty
import re
import shutil
import subprocess
import tempfile
import threading
import unittest

CLI = os.environ["CTXENC_CLI"]
SRC = os.environ["CTXENC_SOURCE_DIR"]
BUILD = os.environ["CTXENC_BUILD_DIR"]
PHOTOS = os.path.join(SRC, "tests", "data", "photos")
PHOTO = os.path.join(PHOTOS, "photo3.jpg")


def run(args, stdin=None, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([CLI] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    if check and r.returncode != 0:
        raise AssertionError("ctxenc %s -> %d\n%s" % (" ".join(args), r.returncode, r.stderr.decode()))
    return r


def run_on_pty(args, env=None):
    """Runs ctxenc with stderr on a pseudo-terminal; returns (code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen([CLI] + args, stdout=subprocess.PIPE, stderr=slave, env=e)
    os.close(slave)
    chunks = []

    def reader():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO once the child has closed the terminal
                break
            if not data:
                break
            chunks.append(data)

    t = threading.Thread(target=reader)
    t.start()
    out, _ = p.communicate()
    t.join()
    os.close(master)
    return p.returncode, out, b"".join(chunks)


class Version(unittest.TestCase):
    def test_version_and_commit(self):
        for flag in ("--version", "-V"):
            r = run([flag])
            line = r.stdout.decode().strip()
            m = re.fullmatch(r"ctxenc (\d+\.\d+\.\d+) \(git ([0-9a-f]{7,}(?:-dirty)?|unknown)\)", line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.group(1), "0.1.0")
        if shutil.which("git") and os.path.exists(os.path.join(SRC, ".git")) and m.group(2) != "unknown":
            # The commit the binary was built from is one of this repository's (a commit made since the
            # build leaves HEAD ahead of it, so HEAD itself is not required).
            commit = m.group(2).split("-")[0]
            r = subprocess.run(["git", "-C", SRC, "cat-file", "-t", commit], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            self.assertEqual(r.stdout.decode().strip(), "commit", (commit, r.stderr))
            r = subprocess.run(["git", "-C", SRC, "merge-base", "--is-ancestor", commit, "HEAD"])
            self.assertEqual(r.returncode, 0, "%s is not an ancestor of HEAD" % commit)


class StdinStdout(unittest.TestCase):
    def test_pipe_equals_files(self):
        with tempfile.TemporaryDirectory() as d:
            out_file = os.path.join(d, "file.png")
            run(["--quiet", "inpaint", PHOTO, "--mask", "center", "--model", "center", "-o", out_file])
            with open(PHOTO, "rb") as f:
                piped = run(["inpaint", "-", "--mask", "center", "--model", "center", "-o", "-"], stdin=f.read())
            with open(out_file, "rb") as f:
                self.assertEqual(piped.stdout, f.read())  # PNG bytes, bit for bit
            self.assertTrue(piped.stdout.startswith(b"\x89PNG"))
            self.assertIn(b"-> stdout", piped.stderr)
            # -o -.jpg would be a file: only '-' itself is stdout.
            self.assertNotIn(b"\x89PNG", piped.stderr)

    def test_stdin_not_an_image(self):
        r = run(["inpaint", "-", "--mask", "center", "--model", "center", "-o", "-"], stdin=b"not an image", check=False)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("stdin", err)
        self.assertNotIn("ctxenc-stdio-", err)  # the temporary file is not shown

    def test_empty_stdin(self):
        r = run(["inpaint", "-", "--mask", "center", "--model", "center", "-o", "-"], stdin=b"", check=False)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_json_needs_stdout(self):
        with open(PHOTO, "rb") as f:
            r = run(["inpaint", "-", "--mask", "center", "--model", "center", "-o", "-", "--json"], stdin=f.read(),
                    check=False)
        self.assertEqual(r.returncode, 2)


class Json(unittest.TestCase):
    def test_inpaint_single(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.png")
            r = run(["inpaint", PHOTO, "--mask", "rect:10,10,30,20", "--model", "region", "-o", out, "--json"])
            j = json.loads(r.stdout)
            self.assertEqual(len(j["images"]), 1)
            im = j["images"][0]
            self.assertEqual(im["output"], out)
            self.assertEqual(im["input"], PHOTO)
            self.assertEqual(im["holes"], 1)
            self.assertGreater(im["seconds"]["inpaint"], 0)
            self.assertGreaterEqual(im["seconds"]["total"], im["seconds"]["inpaint"])
            self.assertGreater(j["seconds"]["model_load"], 0)
            self.assertEqual(j["failures"], [])
            self.assertTrue(os.path.isfile(out))
            self.assertEqual(r.stderr, b"")  # the report replaces the notes

    def test_inpaint_batch(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in")
            os.mkdir(src)
            for n in ("photo0.jpg", "photo1.jpg"):
                shutil.copy(os.path.join(PHOTOS, n), src)
            with open(os.path.join(src, "broken.png"), "wb") as f:
                f.write(b"\x89PNG garbage")
            r = run(["inpaint", "--input", src, "--masks", "center", "--model", "center", "--output",
                     os.path.join(d, "out"), "--json"], check=False)
            self.assertEqual(r.returncode, 3)  # one image failed
            j = json.loads(r.stdout)
            self.assertEqual(sorted(os.path.basename(i["output"]) for i in j["images"]), ["photo0.png", "photo1.png"])
            self.assertEqual(len(j["failures"]), 1)
            self.assertTrue(j["failures"][0]["input"].endswith("broken.png"))
            for i in j["images"]:
                self.assertTrue(os.path.isfile(i["output"]))

    def test_masks(self):
        with tempfile.TemporaryDirectory() as d:
            r = run(["masks", "--kind", "free-form", "--count", "3", "--size", "64", "--out", d, "--json"])
            j = json.loads(r.stdout)
            self.assertEqual(j["count"], 3)
            self.assertEqual(len(j["masks"]), 3)
            for m in j["masks"]:
                self.assertTrue(os.path.isfile(m["file"]))
                self.assertGreater(m["hole_ratio"], 0)
            self.assertAlmostEqual(j["mean_hole_ratio"], sum(m["hole_ratio"] for m in j["masks"]) / 3, places=9)

    def test_eval(self):
        with tempfile.TemporaryDirectory() as d:
            r = run(["eval", "--data", os.path.join(SRC, "tests", "data", "val"), "--baselines", "telea,mean",
                     "--limit", "2", "--size", "64", "--grid", "0", "--out", d, "--json"])
            j = json.loads(r.stdout)
            self.assertEqual(j["images"], 2)
            self.assertEqual([m["method"] for m in j["methods"]], ["telea", "mean"])
            for m in j["methods"]:
                self.assertGreater(m["psnr_db"], 0)
            self.assertTrue(os.path.isfile(j["files"]["report_json"]))


class Progress(unittest.TestCase):
    def batch(self, d):
        src = os.path.join(d, "in")
        os.makedirs(src, exist_ok=True)
        for n in ("photo0.jpg", "photo1.jpg", "photo2.jpg"):
            shutil.copy(os.path.join(PHOTOS, n), src)
        return ["inpaint", "--input", src, "--masks", "center", "--model", "center", "--output", os.path.join(d, "o")]

    def test_pipe_gets_plain_lines(self):
        with tempfile.TemporaryDirectory() as d:
            r = run(self.batch(d))
            err = r.stderr.decode()
            self.assertNotIn("\r", err)
            self.assertNotIn("\x1b", err)
            self.assertIn("inpaint [########################] 3/3", err)
            self.assertLessEqual(len(err.splitlines()), 3, err)  # a fast run: final bar + summary

    def test_terminal_gets_a_redrawn_coloured_bar(self):
        with tempfile.TemporaryDirectory() as d:
            # NO_COLOR set but empty does not disable colour (no-color.org).
            code, _, tty = run_on_pty(self.batch(d), env={"TERM": "xterm", "NO_COLOR": ""})
            self.assertEqual(code, 0, tty)
            self.assertIn(b"\r\x1b[K", tty)
            self.assertIn(b"\x1b[32m", tty)

    def test_no_color(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, tty = run_on_pty(self.batch(d), env={"TERM": "xterm", "NO_COLOR": "1"})
            self.assertEqual(code, 0, tty)
            self.assertIn(b"\r\x1b[K", tty)  # still redrawn in place
            self.assertNotIn(b"\x1b[32m", tty)

    def test_quiet(self):
        with tempfile.TemporaryDirectory() as d:
            r = run(["--quiet"] + self.batch(d))
            self.assertEqual(r.stderr, b"")
            code, _, tty = run_on_pty(["-q"] + self.batch(d))
            self.assertEqual(code, 0)
            self.assertEqual(tty, b"")
            # Errors still print under --quiet.
            r = run(["--quiet", "inpaint", "/nonexistent.jpg", "--mask", "center", "--model", "center", "-o",
                     os.path.join(d, "x.png")], check=False)
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"error", r.stderr)


EXPECTED_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 130}


class ExitCodesAndDocs(unittest.TestCase):
    def help_line(self):
        out = run(["--help"]).stdout.decode()
        m = re.search(r"^Exit codes: (.*)$", out, re.M)
        self.assertIsNotNone(m, out)
        return m.group(1)

    def test_help_lists_every_code(self):
        pairs = re.findall(r"(\d+) ([^,.]+(?:\([^)]*\))?)", self.help_line())
        self.assertEqual({int(c) for c, _ in pairs}, EXPECTED_CODES)

    def test_readme_agrees_with_help(self):
        with open(os.path.join(SRC, "README.md")) as f:
            readme = f.read()
        m = re.search(r"^Exit codes: (.*)$", readme, re.M)
        self.assertIsNotNone(m, "README has no 'Exit codes:' line")
        self.assertEqual(m.group(1).strip(), self.help_line().strip())

    def test_man_page(self):
        man = os.path.join(BUILD, "man", "ctxenc.1")
        if not os.path.isfile(man):
            self.skipTest("no help2man at configure time")
        with open(man) as f:
            text = f.read()
        self.assertIn('.SH "EXIT STATUS"', text)
        section = text.split('.SH "EXIT STATUS"')[1].split(".SH")[0]
        self.assertEqual({int(c) for c in re.findall(r"^\.B (\d+)$", section, re.M)}, EXPECTED_CODES)
        self.assertIn("\\-\\-version", text)
        # Every subcommand's flags (help2man reads --help-all).
        for flag in ("\\-\\-strategy", "\\-\\-resume", "\\-\\-layout", "\\-\\-baselines", "\\-\\-json"):
            self.assertIn(flag, text)
        if shutil.which("man"):
            r = subprocess.run(["man", "-l", man], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, MANPAGER="cat", MANWIDTH="100"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"EXIT STATUS", r.stdout)


class Help(unittest.TestCase):
    def test_every_subcommand(self):
        for sub in ("train", "inpaint", "info", "eval", "bench", "masks", "export", "import"):
            r = run([sub, "--help"])
            self.assertIn(b"--help", r.stdout, sub)
        self.assertIn(b"--layout", run(["import", "--help"]).stdout)
        self.assertIn(b"--format", run(["export", "--help"]).stdout)
        self.assertNotIn(b"completion", run(["--help"]).stdout)  # hidden: it serves the build


class Completions(unittest.TestCase):
    def bash_complete(self, words, cword):
        script = os.path.join(BUILD, "completions", "ctxenc")
        words_s = " ".join("'%s'" % w for w in words)
        cmd = 'source "%s"; COMP_WORDS=(%s); COMP_CWORD=%d; _ctxenc; printf "%%s\\n" "${COMPREPLY[@]}"' % (
            script, words_s, cword)
        r = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SRC)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().split()

    def test_bash(self):
        self.assertEqual(self.bash_complete(["ctxenc", "inp"], 1), ["inpaint"])
        self.assertIn("--model", self.bash_complete(["ctxenc", "inpaint", "--mo"], 2))
        self.assertIn("--json", self.bash_complete(["ctxenc", "eval", "--js"], 2))
        self.assertIn("--version", self.bash_complete(["ctxenc", "--ver"], 1))
        self.assertIn("center", self.bash_complete(["ctxenc", "inpaint", "--model", "cen"], 3))
        # A value of a flag completes files.
        self.assertIn("README.md", self.bash_complete(["ctxenc", "inpaint", "-o", "READ"], 3))

    def test_zsh(self):
        script = os.path.join(BUILD, "completions", "_ctxenc")
        with open(script) as f:
            text = f.read()
        self.assertTrue(text.startswith("#compdef ctxenc"))
        for sub in ("inpaint", "train", "eval", "masks", "info", "export"):
            self.assertIn("    %s)" % sub, text)
        if shutil.which("zsh"):
            r = subprocess.run(["zsh", "-n", script], stderr=subprocess.PIPE)
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
