#!/usr/bin/python3
"""Build a training set of real photographs from Debian packages.

The photos come from a fixed set of Debian packages, fetched with
`apt-get download` and unpacked with `dpkg-deb -x` into a cache directory
(nothing is installed).  Which files are photographs was decided by looking
at every candidate image; the decisions live in scripts/debian_photos_lists/
(one reviewed allow/deny list per package).  Images whose short side is below
--min-side pixels are skipped, near-duplicates (perceptual dHash, also across
packages) are dropped keeping the larger copy, and the rest is split into
train/val deterministically.

Output (built in DIR.tmp-XXXX and renamed into place at the very end):

  DIR/train/<package>/<name>.<ext>   original encoded bytes (jpg/png/webp);
  DIR/val/<package>/<name>.<ext>     re-encoded only where a rotation applies
  DIR/manifest.csv, DIR/manifest.json   one record per photo
  DIR/licenses/<package>.copyright      usr/share/doc/<package>/copyright
  DIR/SUMMARY.txt                       counts and timing

Needs Debian's python3 with python3-numpy and python3-pil, plus apt and
dpkg (dpkg-deb), which every Debian system has.
"""

import argparse
import csv
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

PROG = "debian_photos"
T0 = time.monotonic()

try:
    import numpy as np
    from PIL import Image
except ImportError as _e:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        f"{PROG}: error: {_e}; install the Debian packages python3-numpy and "
        "python3-pil and run this with /usr/bin/python3\n")
    sys.exit(1)

# Pillow >= 9.1 has Image.Transpose; Debian 12 ships 9.4.
_TR = getattr(Image, "Transpose", Image)

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LISTS = os.path.join(SCRIPT_DIR, "debian_photos_lists")
DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "ctxenc", "debs")

GCOMPRIS_RCC_DIR = "usr/share/gcompris-qt/rcc"
GCOMPRIS_ACTIVITIES = [
    "erase", "explore_monuments", "explore_world_animals",
    "explore_farm_animals", "explore_world_music", "categorization",
]
RASTER_EXT = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")

# Where each package's candidate images live (paths relative to the package
# root).  Everything found here must be decided by the package's review list.
PACKAGES = {
    "gcompris-qt-data": {"rcc": GCOMPRIS_ACTIVITIES},
    "mate-backgrounds": {"scan": ["usr/share/backgrounds/mate"]},
    "lomiri-wallpapers-16.04": {"scan": ["usr/share/backgrounds"]},
    "lomiri-wallpapers-20.04": {"scan": ["usr/share/backgrounds"]},
    "lxqt-themes": {"scan": ["usr/share/lxqt/wallpapers"]},
    "plasma-workspace-wallpapers": {"scan": ["usr/share/wallpapers"]},
    "tuxpaint-data": {"scan": ["usr/share/tuxpaint/templates",
                               "usr/share/tuxpaint/starters"]},
    "kphotoalbum": {"scan": ["usr/share/kphotoalbum/demo"],
                    "exts": (".jpg", ".jpeg")},
}

# Fallback licence summary per package (the licence of "Files: *" in its
# debian/copyright; kphotoalbum's copyright is not machine-readable).
LICENCE_SUMMARY = {
    "gcompris-qt-data": "GPL-3+",
    "mate-backgrounds": "GPL-2+",
    "lomiri-wallpapers-16.04": "CC-BY-SA-3.0",
    "lomiri-wallpapers-20.04": "CC-BY-SA-3.0",
    "lxqt-themes": "LGPL-2.1+",
    "plasma-workspace-wallpapers": "GPL-2+",
    "tuxpaint-data": "GPL-2+",
    "kphotoalbum": "GPL-2+",
}


class Fatal(Exception):
    """An error reported as one line, exit status 1."""


def log(msg):
    sys.stderr.write(f"{PROG}: [{time.monotonic() - T0:6.1f}s] {msg}\n")
    sys.stderr.flush()


def warn(msg):
    sys.stderr.write(f"{PROG}: warning: {msg}\n")
    sys.stderr.flush()


def run(cmd, cwd=None, timeout=300):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except FileNotFoundError:
        raise Fatal(f"command not found: {cmd[0]} (this script needs a Debian "
                    "system with apt and dpkg)")
    except subprocess.TimeoutExpired:
        raise Fatal(f"timed out after {timeout}s: {' '.join(cmd)}")
    return p


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Fetching and unpacking packages

def apt_candidates(pkgs):
    """Return {pkg: {Version, Architecture, SHA256, Size}} from apt-cache."""
    p = run(["apt-cache", "show", "--no-all-versions"] + pkgs, timeout=120)
    info, cur = {}, {}
    for line in p.stdout.decode("utf-8", "replace").splitlines() + [""]:
        if not line.strip():
            if cur.get("Package") in pkgs and cur["Package"] not in info:
                info[cur["Package"]] = cur
            cur = {}
        elif not line[0].isspace() and ":" in line:
            k, v = line.split(":", 1)
            cur[k] = v.strip()
    return info


def deb_filename(pkg, version, arch):
    # apt-get download's naming: the epoch colon is written as %3a.
    return f"{pkg}_{version.replace(':', '%3a')}_{arch}.deb"


def cached_debs(cache, pkg):
    return sorted(f for f in os.listdir(cache)
                  if f.startswith(pkg + "_") and f.endswith(".deb")
                  and f.count("_") == 2)


def fetch_packages(cache, pkgs):
    """Make sure the candidate .deb of each package is in `cache`.

    Returns {pkg: path}.  Uses the cached file when its SHA256 matches what
    apt expects; downloads the others in one `apt-get download` call."""
    os.makedirs(cache, exist_ok=True)
    info = apt_candidates(pkgs)
    result, need = {}, []
    for pkg in pkgs:
        if pkg not in info:
            have = cached_debs(cache, pkg)
            if have:
                warn(f"apt knows no candidate for {pkg}; using cached {have[-1]}")
                result[pkg] = os.path.join(cache, have[-1])
                continue
            raise Fatal(f"apt has no candidate for package {pkg} (run "
                        "'apt-get update'; the package is in Debian 12 main)")
        i = info[pkg]
        path = os.path.join(cache, deb_filename(pkg, i["Version"], i["Architecture"]))
        if os.path.exists(path) and (not i.get("SHA256")
                                     or sha256_file(path) == i["SHA256"]):
            result[pkg] = path
        else:
            need.append((pkg, i, path))
    if need:
        total = sum(int(i.get("Size", 0)) for _, i, _ in need)
        log(f"apt-get download {len(need)} package(s), {total / 1e6:.0f} MB "
            f"into {cache}")
        cmd = ["apt-get", "download", "-q"]
        if os.geteuid() == 0:
            # root downloading into a directory _apt cannot write: skip the
            # sandbox instead of printing a warning about it.
            cmd += ["-o", "APT::Sandbox::User=root"]
        cmd += [f"{pkg}={i['Version']}" for pkg, i, _ in need]
        p = run(cmd, cwd=cache, timeout=600)
        if p.returncode != 0:
            err = p.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Fatal("apt-get download failed: " + (err[-1] if err else
                                                       f"exit {p.returncode}"))
        for pkg, i, path in need:
            if not os.path.exists(path):
                raise Fatal(f"apt-get download did not produce {path}")
            if i.get("SHA256") and sha256_file(path) != i["SHA256"]:
                raise Fatal(f"SHA256 mismatch for downloaded {path}")
            result[pkg] = path
    else:
        log(f"all {len(pkgs)} packages already in cache {cache}")
    return result


def deb_field(deb, field):
    p = run(["dpkg-deb", "-f", deb, field], timeout=60)
    if p.returncode != 0:
        raise Fatal(f"dpkg-deb -f failed on {deb}: "
                    + p.stderr.decode("utf-8", "replace").strip())
    return p.stdout.decode().strip()


def unpack(deb, cache):
    """dpkg-deb -x the package once into cache/extracted/<deb stem>/."""
    root = os.path.join(cache, "extracted", os.path.basename(deb)[:-4])
    done = os.path.join(root, ".debian_photos-complete")
    if os.path.exists(done):
        return root
    os.makedirs(os.path.dirname(root), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(root) + ".tmp-",
                           dir=os.path.dirname(root))
    try:
        p = run(["dpkg-deb", "-x", deb, tmp], timeout=300)
        if p.returncode != 0:
            raise Fatal(f"dpkg-deb -x failed on {deb}: "
                        + p.stderr.decode("utf-8", "replace").strip())
        open(os.path.join(tmp, ".debian_photos-complete"), "w").close()
        if os.path.exists(root):
            shutil.rmtree(root)
        os.rename(tmp, root)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return root


# --------------------------------------------------------------------------
# Qt resource (.rcc) files

RCC_COMPRESSED_ZLIB = 0x01
RCC_DIRECTORY = 0x02
RCC_COMPRESSED_ZSTD = 0x04


def _zstd_decompress(raw, what):
    try:
        import zstandard  # python3-zstandard
        return zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 30)
    except ImportError:
        pass
    if shutil.which("zstd"):
        p = subprocess.run(["zstd", "-dcq"], input=raw, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode == 0:
            return p.stdout
        raise Fatal(f"zstd failed on {what}: "
                    + p.stderr.decode("utf-8", "replace").strip())
    raise Fatal(f"{what} is zstd-compressed; install the Debian package zstd "
                "(or python3-zstandard)")


def parse_rcc(buf, what="rcc"):
    """Parse a Qt binary resource file.

    Returns (version, stats, entries) where entries is a list of
    (path, flags, payload) with the payload already decompressed.
    Format: "qres", u32 version, u32 tree, u32 data, u32 names offsets (all
    big-endian; version >= 3 adds u32 overall flags).  Tree nodes are 14 bytes
    (22 from version 2: + u64 mtime): u32 name offset, u16 flags, then either
    u32 child count + u32 first child index (directory) or u16 country, u16
    language, u32 data offset.  Names: u16 length, u32 hash, UTF-16BE chars.
    Data: u32 size + bytes; zlib entries start with a u32 uncompressed size
    (qCompress), zstd entries are a plain zstd frame."""
    if len(buf) < 20 or buf[:4] != b"qres":
        raise Fatal(f"{what}: not a Qt rcc file (bad magic)")
    version, tree, data, names = struct.unpack_from(">IIII", buf, 4)
    if version not in (1, 2, 3):
        raise Fatal(f"{what}: unsupported rcc format version {version}")
    node_size = 14 if version == 1 else 22
    stats = {"stored": 0, "zlib": 0, "zstd": 0}

    def name_at(off):
        o = names + off
        (n,) = struct.unpack_from(">H", buf, o)
        return buf[o + 6:o + 6 + 2 * n].decode("utf-16-be")

    entries, stack, seen = [], [(0, "")], set()
    while stack:
        idx, path = stack.pop()
        if idx in seen:
            raise Fatal(f"{what}: corrupt rcc tree (loop)")
        seen.add(idx)
        p = tree + idx * node_size
        if p + 14 > len(buf):
            raise Fatal(f"{what}: corrupt rcc tree (node out of range)")
        name_off, flags = struct.unpack_from(">IH", buf, p)
        full = path + "/" + name_at(name_off) if idx else ""
        if flags & RCC_DIRECTORY:
            count, first = struct.unpack_from(">II", buf, p + 6)
            for c in range(count - 1, -1, -1):
                stack.append((first + c, full))
            continue
        (doff,) = struct.unpack_from(">I", buf, p + 10)
        (size,) = struct.unpack_from(">I", buf, data + doff)
        raw = buf[data + doff + 4:data + doff + 4 + size]
        if len(raw) != size:
            raise Fatal(f"{what}: corrupt rcc data for {full}")
        if flags & RCC_COMPRESSED_ZLIB:
            stats["zlib"] += 1
            try:
                payload = zlib.decompress(raw[4:])
            except zlib.error as e:
                raise Fatal(f"{what}: bad zlib data in {full}: {e}")
        elif flags & RCC_COMPRESSED_ZSTD:
            stats["zstd"] += 1
            payload = _zstd_decompress(raw, f"{what}:{full}")
        else:
            stats["stored"] += 1
            payload = raw
        entries.append((full, flags, payload))
    return version, stats, entries


# --------------------------------------------------------------------------
# Licences

def norm_licence(s):
    """'CC-BY-SA 4.0' -> 'CC-BY-SA-4.0', 'Public Domain' -> 'public-domain'."""
    s = " ".join(s.split())
    if re.fullmatch(r"(?i)public[ -]domain", s):
        return "public-domain"
    m = re.fullmatch(r"(?i)GPLv(\d)(\+?)", s)
    if m:
        return f"GPL-{m.group(1)}{m.group(2)}"
    m = re.fullmatch(r"(?i)LGPLv(\d(?:\.\d)?)(\+?)", s)
    if m:
        return f"LGPL-{m.group(1)}{m.group(2)}"
    return re.sub(r"(?<=[A-Za-z])[ -]v?(?=\d)", "-", s)


def parse_dep5(text):
    """Parse a machine-readable debian/copyright into Files stanzas."""
    if not re.search(r"^Format:\s*\S*copyright-format", text, re.M):
        return None
    stanzas = []
    for para in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in para.splitlines():
            if line[:1] in (" ", "\t"):
                if key:
                    fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, v = line.split(":", 1)
                fields[key] = v.strip()
        if "Files" in fields and "License" in fields:
            stanzas.append({
                "patterns": fields["Files"].split(),
                "licence": fields["License"].splitlines()[0].strip(),
                "copyright": " / ".join(
                    x.strip() for x in fields.get("Copyright", "").splitlines()
                    if x.strip()),
            })
    return stanzas


def _suffix_match(path, pattern):
    parts = path.split("/")
    return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern)
               for i in range(len(parts)))


def dep5_lookup(stanzas, path):
    """Licence stanza for `path` (an installed or source path).

    debian/copyright patterns are relative to the source tree, so a pattern
    matches when it matches a trailing part of the path; the last matching
    stanza wins (DEP-5).  When only the catch-all matches, a wildcard-free
    pattern with the same basename is accepted (source trees whose layout
    differs from the installed one).  Returns (stanza, pattern) or (None, None)."""
    hit = (None, None)
    for st in stanzas:
        for pat in st["patterns"]:
            if pat != "*" and _suffix_match(path, pat):
                hit = (st, pat)
    if hit[0]:
        return hit
    base = path.rsplit("/", 1)[-1]
    cands = [(st, pat) for st in stanzas for pat in st["patterns"]
             if not any(c in pat for c in "*?[") and pat.rsplit("/", 1)[-1] == base]
    if cands and len({st["licence"] for st, _ in cands}) == 1:
        return cands[-1]
    for st in stanzas:
        if "*" in st["patterns"]:
            hit = (st, "*")
    return hit


def parse_gcompris_readme(text, readme_dir):
    """Map rcc path -> {licence, copyright, source} from an upstream README."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in para.splitlines():
            m = re.match(r"^(Copyright|License|Licence|Source|Files|Comments?):\s*(.*)$", line)
            if m:
                key = m.group(1)
                fields[key] = m.group(2).strip()
            elif key and line.strip():
                fields[key] += "\n" + line.strip()
        if "Files" in fields and ("License" in fields or "Licence" in fields):
            files = [f for f in re.split(r"[\s,]+", fields["Files"]) if f and f != "to"]
            info = {"licence": norm_licence(fields.get("License", fields.get("Licence", ""))),
                    "copyright": " ".join(fields.get("Copyright", "").split()),
                    "source": fields.get("Source", "").split("\n")[0]}
            for f in files:
                out.append((readme_dir + "/" + f, info))
    return out


def _within_one_edit(a, b):
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return (a[i + 1:] == b[i + 1:] or a[i:] == b[i + 1:] or a[i + 1:] == b[i:])


def readme_lookup(readmes, path, all_paths):
    """Find the README paragraph for `path`.  Upstream READMEs have a few
    slips ('hammer9' without extension, 'screDriver.webp', 'audaPalatina.webp'),
    so after exact/glob matches an entry that names no existing file is
    accepted when its stem is within one edit of the file's (and unique).
    Returns (info, note)."""
    hit = None
    for fpat, info in readmes:
        if fnmatch.fnmatchcase(path, fpat):
            hit = info
    if hit:
        return hit, ""
    stem = path.rsplit(".", 1)[0]
    for fpat, info in readmes:
        if "." not in fpat.rsplit("/", 1)[-1] and fpat == stem:
            return info, f" (entry '{fpat.rsplit('/', 1)[-1]}')"
    d, base = path.rsplit("/", 1)
    near = [(fpat, info) for fpat, info in readmes
            if not any(c in fpat for c in "*?[") and fpat not in all_paths
            and fpat.rsplit("/", 1)[0] == d
            and _within_one_edit(fpat.rsplit("/", 1)[-1].lower(), base.lower())]
    if len(near) == 1:
        return near[0][1], f" (entry '{near[0][0].rsplit('/', 1)[-1]}', misspelt)"
    return None, ""


# --------------------------------------------------------------------------
# Review lists

class ReviewList:
    """'+ path' = photo, '- path' = not a photo; globs allowed; an explicit
    path beats a glob; among rules of the same kind, conflicting verdicts are
    an error."""

    def __init__(self, path):
        self.path = path
        self.exact, self.globs = {}, []
        if not os.path.exists(path):
            raise Fatal(f"review list missing: {path}")
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                if line[0] not in "+-" or not line[1:].strip():
                    raise Fatal(f"{path}:{n}: expected '+ path' or '- path'")
                verdict, pat = line[0] == "+", line[1:].strip().lstrip("/")
                if any(c in pat for c in "*?["):
                    self.globs.append((pat, verdict, n))
                else:
                    if pat in self.exact and self.exact[pat][0] != verdict:
                        raise Fatal(f"{path}:{n}: {pat} is both allowed and denied")
                    self.exact[pat] = (verdict, n)
        self.used = set()

    def decide(self, p):
        """True (photo), False (not a photo) or None (not reviewed)."""
        if p in self.exact:
            self.used.add(p)
            return self.exact[p][0]
        verdicts = {v for pat, v, _ in self.globs if fnmatch.fnmatchcase(p, pat)}
        if len(verdicts) > 1:
            raise Fatal(f"{self.path}: {p} matches both '+' and '-' globs")
        return verdicts.pop() if verdicts else None

    def unused_allows(self):
        return sorted(p for p, (v, _) in self.exact.items() if v and p not in self.used)


# --------------------------------------------------------------------------
# Collecting candidates

class Photo:
    def __init__(self, package, version, src_path, name, data, rcc_path=""):
        self.package, self.version = package, version
        self.src_path, self.rcc_path = src_path, rcc_path
        self.name = name            # output stem, unique per package
        self.data = data            # original encoded bytes
        self.rotate_cw = 0          # extra clockwise rotation (kphotoalbum)
        self.licence = self.licence_source = ""
        self.upstream_licence = self.upstream_source = self.copyright = ""
        self.transform = ""
        self.out_bytes = None
        self.ext = ""
        self.width = self.height = 0
        self.dhash = None
        self.split = ""
        self.out_path = ""

    @property
    def key(self):
        return f"{self.package}:{self.rcc_path or self.src_path}"


def safe_name(s):
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._")
    return s or "image"


def scan_files(root, rel_dirs, exts):
    for rel in rel_dirs:
        top = os.path.join(root, rel)
        if not os.path.isdir(top):
            continue
        for d, dirs, files in os.walk(top):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(d, f)
                if os.path.islink(full) or not f.lower().endswith(exts):
                    continue
                yield os.path.relpath(full, root).replace(os.sep, "/")


def collect(pkg, version, root, review, stats):
    spec = PACKAGES[pkg]
    photos = []

    def consider(rel_key, make):
        verdict = review.decide(rel_key)
        if verdict is None:
            stats["unreviewed"].append(f"{pkg}:{rel_key}")
            warn(f"{pkg}: {rel_key} is not in {os.path.basename(review.path)} "
                 "(not reviewed) - skipped; look at it and add '+' or '-'")
        elif verdict:
            photos.append(make())
        else:
            stats["denied"][pkg] = stats["denied"].get(pkg, 0) + 1

    if "rcc" in spec:
        for act in spec["rcc"]:
            rel = f"{GCOMPRIS_RCC_DIR}/{act}.rcc"
            full = os.path.join(root, rel)
            if not os.path.exists(full):
                raise Fatal(f"{pkg}: {rel} not found in the package")
            with open(full, "rb") as f:
                ver, st, entries = parse_rcc(f.read(), rel)
            for k in ("stored", "zlib", "zstd"):
                stats["rcc"][k] += st[k]
            stats["rcc"]["versions"].add(ver)
            readmes = []
            all_paths = {path for path, _, _ in entries}
            for path, _, payload in entries:
                if path.rsplit("/", 1)[-1] == "README":
                    readmes += parse_gcompris_readme(
                        payload.decode("utf-8", "replace"), path.rsplit("/", 1)[0])
            for path, _, payload in entries:
                if not path.lower().endswith(RASTER_EXT):
                    continue
                rp = path.lstrip("/")
                short = re.sub(r"^gcompris/src/activities/", "", rp)
                short = re.sub(r"/(resource|images)(?=/)", "", short)
                stem = safe_name(short.rsplit(".", 1)[0].replace("/", "-"))

                def make(rel=rel, path=path, payload=payload, stem=stem):
                    ph = Photo(pkg, version, rel, stem, payload, rcc_path=path)
                    info, note = readme_lookup(readmes, path, all_paths)
                    if info:
                        ph.upstream_licence = info["licence"]
                        ph.copyright = info["copyright"]
                        ph.upstream_source = "README in the rcc" + note + (
                            f"; source {info['source']}" if info["source"] else "")
                    return ph
                consider(rp, make)
    else:
        exts = spec.get("exts", RASTER_EXT)
        for rel in scan_files(root, spec["scan"], exts):
            def make(rel=rel):
                if pkg == "plasma-workspace-wallpapers":
                    stem = rel.split("/")[3]          # wallpaper name
                else:
                    stem = os.path.basename(rel).rsplit(".", 1)[0]
                with open(os.path.join(root, rel), "rb") as f:
                    return Photo(pkg, version, rel, safe_name(stem), f.read())
            consider(rel, make)
    for p in review.unused_allows():
        warn(f"{pkg}: listed photo {p} is not in package version {version}")
        stats["missing"].append(f"{pkg}:{p}")
    names = {}
    for ph in photos:
        if ph.name in names:
            raise Fatal(f"{pkg}: two photos map to the name {ph.name}: "
                        f"{names[ph.name]} and {ph.rcc_path or ph.src_path}")
        names[ph.name] = ph.rcc_path or ph.src_path
    return photos


def kphotoalbum_angles(root):
    """Clockwise rotation per demo file from demo/index.xml."""
    idx = os.path.join(root, "usr/share/kphotoalbum/demo/index.xml")
    angles = {}
    if os.path.exists(idx):
        try:
            for im in ET.parse(idx).getroot().iter("image"):
                a = int(im.get("angle") or 0) % 360
                if a:
                    angles[im.get("file")] = a
        except (ET.ParseError, ValueError) as e:
            raise Fatal(f"kphotoalbum: cannot read demo/index.xml: {e}")
    return angles


def add_licences(photos, pkg, root):
    cp_path = os.path.join(root, f"usr/share/doc/{pkg}/copyright")
    text = open(cp_path, encoding="utf-8", errors="replace").read() \
        if os.path.exists(cp_path) else ""
    stanzas = parse_dep5(text) or []
    upstream = {}
    if pkg == "lxqt-themes":
        lic = os.path.join(root, "usr/share/lxqt/wallpapers/License")
        if os.path.exists(lic):
            m = re.search(r"creativecommons\.org/licenses/([a-z-]+)/([\d.]+)",
                          open(lic, encoding="utf-8", errors="replace").read())
            if m:
                upstream["*"] = (f"CC-{m.group(1).upper()}-{m.group(2)}",
                                 "usr/share/lxqt/wallpapers/License")
    for ph in photos:
        lookup_path = (ph.rcc_path.lstrip("/").replace("gcompris/", "", 1)
                       if ph.rcc_path else ph.src_path)
        st, pat = dep5_lookup(stanzas, lookup_path) if stanzas else (None, None)
        if st:
            ph.licence = st["licence"]
            ph.licence_source = f"debian/copyright Files: {pat}"
            if not ph.copyright and pat != "*":
                ph.copyright = st["copyright"]
        else:
            ph.licence = LICENCE_SUMMARY[pkg]
            ph.licence_source = "package licence summary (debian/copyright)"
        if pkg == "plasma-workspace-wallpapers":
            meta = os.path.join(root, "usr/share/wallpapers", ph.name, "metadata.json")
            if os.path.exists(meta):
                try:
                    kp = json.load(open(meta, encoding="utf-8")).get("KPlugin", {})
                    ph.upstream_licence = norm_licence(kp.get("License", ""))
                    ph.copyright = ", ".join(a.get("Name", "") for a in kp.get("Authors", []))
                    ph.upstream_source = f"usr/share/wallpapers/{ph.name}/metadata.json"
                except (ValueError, AttributeError):
                    pass
        if "*" in upstream and not ph.upstream_licence:
            ph.upstream_licence, ph.upstream_source = upstream["*"]
    return cp_path if os.path.exists(cp_path) else None


# --------------------------------------------------------------------------
# Image processing

def dhash(img, n):
    g = img.convert("L").resize((n + 1, n), Image.BILINEAR)
    a = np.asarray(g, dtype=np.int16)
    return np.packbits((a[:, 1:] > a[:, :-1]).ravel())


def hamming(a, b):
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


_EXIF_OPS = {2: [_TR.FLIP_LEFT_RIGHT], 3: [_TR.ROTATE_180], 4: [_TR.FLIP_TOP_BOTTOM],
             5: [_TR.TRANSPOSE], 6: [_TR.ROTATE_270], 7: [_TR.TRANSVERSE],
             8: [_TR.ROTATE_90]}
_CW = {90: _TR.ROTATE_270, 180: _TR.ROTATE_180, 270: _TR.ROTATE_90}


def prepare(ph):
    """Decode, apply rotations, decide the output encoding, hash."""
    try:
        im = Image.open(io.BytesIO(ph.data))
        im.load()
    except Exception as e:  # PIL raises many types
        raise Fatal(f"{ph.key}: cannot decode image: {e}")
    fmt = im.format
    orient = 1
    if fmt in ("JPEG", "WEBP", "PNG", "TIFF"):
        try:
            orient = int(im.getexif().get(0x0112, 1) or 1)
        except Exception:
            orient = 1
    steps = []
    if orient not in (1, 0) and orient in _EXIF_OPS:
        steps.append(f"EXIF orientation {orient} applied")
    if ph.rotate_cw:
        steps.append(f"rotated {ph.rotate_cw} deg clockwise (kphotoalbum index.xml angle)")
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (
        im.mode == "P" and "transparency" in im.info)
    transparent = False
    if has_alpha:
        a = np.asarray(im.convert("RGBA"))[..., 3]
        transparent = bool(a.min() < 255)
    needs_reencode = bool(steps) or transparent or fmt not in ("JPEG", "PNG", "WEBP")
    if needs_reencode:
        out = im
        for op in _EXIF_OPS.get(orient, []):
            out = out.transpose(op)
        if ph.rotate_cw:
            out = out.transpose(_CW[ph.rotate_cw])
        if transparent:
            bg = Image.new("RGB", out.size, (255, 255, 255))
            rgba = out.convert("RGBA")
            bg.paste(rgba, mask=rgba.getchannel("A"))
            out = bg
            steps.append("transparency flattened onto white")
        buf = io.BytesIO()
        if fmt == "JPEG" and not transparent:
            exif = im.getexif()
            if 0x0112 in exif:
                del exif[0x0112]
            kw = {"quality": 95, "subsampling": 0, "exif": exif.tobytes()}
            if im.info.get("icc_profile"):
                kw["icc_profile"] = im.info["icc_profile"]
            out.convert("RGB").save(buf, "JPEG", **kw)
            ph.ext = "jpg"
            steps.append("re-encoded JPEG q95 without Orientation tag")
        else:
            if out.mode not in ("RGB", "L", "P"):
                out = out.convert("RGB")
            out.save(buf, "PNG", optimize=False)
            ph.ext = "png"
            steps.append(f"converted {fmt} to PNG")
        ph.out_bytes = buf.getvalue()
        im = out
    else:
        ph.out_bytes = ph.data
        ph.ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
    ph.transform = "; ".join(steps)
    ph.width, ph.height = im.size
    small = im.convert("RGB")
    small.thumbnail((256, 256), Image.BILINEAR)
    ph.dhash = dhash(small, 16)
    ph.data = None  # free memory; out_bytes is what gets written


def split_of(package, filename, seed, val_fraction):
    h = hashlib.sha256(f"ctxenc-debian-photos\0{seed}\0{package}\0{filename}"
                       .encode("utf-8")).digest()
    return "val" if int.from_bytes(h[:8], "big") / 2.0 ** 64 < val_fraction else "train"


# --------------------------------------------------------------------------

FIELDS = ["package", "version", "src_path", "rcc_path", "width", "height",
          "bytes", "format", "licence", "licence_source", "upstream_licence",
          "upstream_licence_source", "copyright", "split", "out_path",
          "transform", "sha256", "dhash256"]


def record(ph):
    return {
        "package": ph.package, "version": ph.version, "src_path": ph.src_path,
        "rcc_path": ph.rcc_path, "width": ph.width, "height": ph.height,
        "bytes": len(ph.out_bytes), "format": ph.ext, "licence": ph.licence,
        "licence_source": ph.licence_source,
        "upstream_licence": ph.upstream_licence,
        "upstream_licence_source": ph.upstream_source,
        "copyright": ph.copyright, "split": ph.split, "out_path": ph.out_path,
        "transform": ph.transform,
        "sha256": hashlib.sha256(ph.out_bytes).hexdigest(),
        "dhash256": ph.dhash.tobytes().hex(),
    }


def build(args):
    out_dir = os.path.abspath(args.out)
    if os.path.exists(out_dir) and not args.force:
        raise Fatal(f"{out_dir} exists; remove it or pass --force to replace it")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    cache = os.path.abspath(os.path.expanduser(args.cache))
    pkgs = list(PACKAGES)
    reviews = {p: ReviewList(os.path.join(args.lists, p + ".txt")) for p in pkgs}

    debs = fetch_packages(cache, pkgs)
    stats = {"unreviewed": [], "missing": [], "denied": {},
             "rcc": {"stored": 0, "zlib": 0, "zstd": 0, "versions": set()}}
    photos, versions, copyrights = [], {}, {}
    for pkg in pkgs:
        deb = debs[pkg]
        versions[pkg] = deb_field(deb, "Version")
        root = unpack(deb, cache)
        got = collect(pkg, versions[pkg], root, reviews[pkg], stats)
        if pkg == "kphotoalbum":
            angles = kphotoalbum_angles(root)
            for ph in got:
                ph.rotate_cw = angles.get(os.path.basename(ph.src_path), 0)
        copyrights[pkg] = add_licences(got, pkg, root)
        log(f"{pkg} {versions[pkg]}: {len(got)} photos listed")
        photos.extend(got)

    log(f"decoding and hashing {len(photos)} photos")
    for ph in photos:
        prepare(ph)

    small = [ph for ph in photos if min(ph.width, ph.height) < args.min_side]
    photos = [ph for ph in photos if min(ph.width, ph.height) >= args.min_side]

    # Near-duplicates: greedy, largest first, so the larger copy survives.
    photos.sort(key=lambda p: (-p.width * p.height, -len(p.out_bytes), p.key))
    kept, dups = [], []
    for ph in photos:
        twin = next((k for k in kept if hamming(k.dhash, ph.dhash) <= args.dup_threshold), None)
        if twin is None:
            kept.append(ph)
        else:
            dups.append((ph, twin, hamming(twin.dhash, ph.dhash)))
    kept.sort(key=lambda p: (p.package, p.name))
    log(f"{len(kept)} photos kept; dropped {len(small)} below {args.min_side} px, "
        f"{len(dups)} near-duplicates")
    if not kept:
        raise Fatal("no photos left")

    tmp = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".tmp-", dir=parent)
    try:
        for ph in kept:
            fname = f"{ph.name}.{ph.ext}"
            ph.split = split_of(ph.package, fname, args.seed, args.val_fraction)
            ph.out_path = f"{ph.split}/{ph.package}/{fname}"
            dest = os.path.join(tmp, ph.out_path)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(ph.out_bytes)
        # Read every file back: it must decode to the recorded size.
        for ph in kept:
            with Image.open(os.path.join(tmp, ph.out_path)) as im:
                im.load()
                if im.size != (ph.width, ph.height):
                    raise Fatal(f"{ph.out_path}: reads back as {im.size}")

        lic_dir = os.path.join(tmp, "licenses")
        os.makedirs(lic_dir)
        for pkg, cp in copyrights.items():
            if cp:
                shutil.copyfile(cp, os.path.join(lic_dir, f"{pkg}.copyright"))
            else:
                warn(f"{pkg}: no usr/share/doc/{pkg}/copyright in the package")

        records = [record(ph) for ph in kept]
        with open(os.path.join(tmp, "manifest.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(records)

        counts = {p: {"train": 0, "val": 0} for p in pkgs}
        for ph in kept:
            counts[ph.package][ph.split] += 1
        elapsed = time.monotonic() - T0
        manifest = {
            "description": "Real photographs from Debian packages for ctxenc "
                           "(built by scripts/debian_photos.py)",
            "seed": args.seed, "val_fraction": args.val_fraction,
            "min_side": args.min_side, "dup_threshold_bits_of_256": args.dup_threshold,
            "split_rule": "val iff sha256('ctxenc-debian-photos\\0<seed>\\0<package>"
                          "\\0<file name>')[:8] / 2^64 < val_fraction",
            "packages": {p: {"version": versions[p],
                             "deb": os.path.basename(debs[p]),
                             "deb_sha256": sha256_file(debs[p]),
                             "licence_summary": LICENCE_SUMMARY[p],
                             "copyright_file": f"licenses/{p}.copyright",
                             "train": counts[p]["train"], "val": counts[p]["val"]}
                         for p in pkgs},
            "photos": records,
            "dropped_small": [{"key": ph.key, "width": ph.width, "height": ph.height}
                              for ph in sorted(small, key=lambda p: p.key)],
            "dropped_duplicates": [{"key": d.key, "size": [d.width, d.height],
                                    "duplicate_of": t.key, "kept_size": [t.width, t.height],
                                    "hamming": h}
                                   for d, t, h in sorted(dups, key=lambda x: x[0].key)],
            "unreviewed_skipped": stats["unreviewed"],
            "listed_but_missing": stats["missing"],
            "rcc_entries": {k: stats["rcc"][k] for k in ("stored", "zlib", "zstd")},
        }
        with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, ensure_ascii=False)
            f.write("\n")

        lines = [
            "Debian photo set for ctxenc (scripts/debian_photos.py)",
            f"seed {args.seed}, val fraction {args.val_fraction}, min side "
            f"{args.min_side} px, duplicate threshold {args.dup_threshold}/256 bits",
            "",
            f"{'package':30} {'version':18} {'train':>6} {'val':>5} {'total':>6}",
        ]
        for p in pkgs:
            c = counts[p]
            lines.append(f"{p:30} {versions[p]:18} {c['train']:6d} {c['val']:5d} "
                         f"{c['train'] + c['val']:6d}")
        tt = sum(c["train"] for c in counts.values())
        tv = sum(c["val"] for c in counts.values())
        lines += [f"{'total':30} {'':18} {tt:6d} {tv:5d} {tt + tv:6d}", ""]
        lines.append(f"dropped below {args.min_side} px: {len(small)}"
                     + "".join(f"\n  {ph.key} ({ph.width}x{ph.height})"
                               for ph in sorted(small, key=lambda p: p.key)))
        lines.append(f"dropped near-duplicates: {len(dups)}"
                     + "".join(f"\n  {d.key} ({d.width}x{d.height}) = {t.key} "
                               f"({t.width}x{t.height}), {h} bits"
                               for d, t, h in sorted(dups, key=lambda x: x[0].key)))
        lines.append("reviewed as not photos: " + ", ".join(
            f"{p} {n}" for p, n in sorted(stats["denied"].items())))
        lines.append(f"unreviewed images skipped: {len(stats['unreviewed'])}")
        lines.append(f"listed photos missing from the packages: {len(stats['missing'])}")
        r = stats["rcc"]
        lines.append(f"gcompris rcc entries read: {r['stored']} stored, {r['zlib']} zlib, "
                     f"{r['zstd']} zstd (format version(s) "
                     f"{', '.join(map(str, sorted(r['versions'])))})")
        lines.append(f"total time: {elapsed:.1f} s")
        with open(os.path.join(tmp, "SUMMARY.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

        old = None
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + ".old-", dir=parent)
            os.rename(out_dir, os.path.join(old, "x"))
        os.rename(tmp, out_dir)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {out_dir}: {tt} train + {tv} val = {tt + tv} photos")
    sys.stderr.write("\n".join(lines[3:3 + len(pkgs) + 2]) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="debian_photos.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build a train/val set of real photographs from Debian "
                    "packages (apt-get download + dpkg-deb -x; nothing is "
                    "installed).",
        epilog="Packages: " + ", ".join(PACKAGES) + ".\n\n"
               "Which images are photographs is decided by the reviewed lists in "
               "scripts/debian_photos_lists/<package>.txt; images found in a "
               "package but missing from its list are skipped with a warning.\n"
               "Split: a photo goes to val iff sha256(seed, package, output "
               "file name) falls below --val-fraction, so the split is the same "
               "on every run and machine.\n\n"
               "Example:\n  /usr/bin/python3 scripts/debian_photos.py "
               "--out data/debian-photos\n")
    ap.add_argument("--out", required=True, metavar="DIR",
                    help="output directory (must not exist unless --force)")
    ap.add_argument("--cache", default=DEFAULT_CACHE, metavar="DIR",
                    help="where .deb files are downloaded and unpacked "
                         "(default: %(default)s)")
    ap.add_argument("--val-fraction", type=float, default=0.1, metavar="F",
                    help="fraction of photos in val, 0 <= F < 1 (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="split seed (default: %(default)s)")
    ap.add_argument("--force", action="store_true",
                    help="replace DIR if it exists (only after the new set is complete)")
    ap.add_argument("--min-side", type=int, default=128, metavar="PX",
                    help="skip images whose short side is below PX (default: %(default)s)")
    ap.add_argument("--dup-threshold", type=int, default=20, metavar="BITS",
                    help="near-duplicate if the 256-bit dHashes differ in at most "
                         "BITS bits (default: %(default)s)")
    ap.add_argument("--lists", default=DEFAULT_LISTS, metavar="DIR",
                    help="directory of the per-package review lists "
                         "(default: scripts/debian_photos_lists)")
    ap.add_argument("--traceback", action="store_true",
                    help="show a Python traceback on unexpected errors")
    args = ap.parse_args(argv)
    if not 0.0 <= args.val_fraction < 1.0:
        ap.error("--val-fraction must be in [0, 1)")
    if not 0 <= args.dup_threshold <= 256:
        ap.error("--dup-threshold must be in [0, 256]")
    try:
        build(args)
    except Fatal as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted; no output written\n")
        return 130
    except Exception as e:  # one line unless asked for the traceback
        if args.traceback:
            raise
        sys.stderr.write(f"{PROG}: error: unexpected {type(e).__name__}: {e} "
                         "(rerun with --traceback for details)\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
