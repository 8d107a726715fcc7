"""readme_snippets.py README OUTDIR — writes the fenced code blocks of the
README's "Use it from C++ / Python / PyTorch" section to OUTDIR as
NN.cmake / NN.cpp / NN.py / NN.sh, in order, for test_install.sh to run."""
import os
import re
import sys

text = open(sys.argv[1]).read()
m = re.search(r"^## Use it from C\+\+ / Python / PyTorch\n(.*?)^## ", text, re.S | re.M)
if not m:
    sys.exit("README has no 'Use it from C++ / Python / PyTorch' section")
blocks = re.findall(r"^```(\w+)\n(.*?)^```", m.group(1), re.S | re.M)
ext = {"cmake": "cmake", "cpp": "cpp", "python": "py", "sh": "sh"}
os.makedirs(sys.argv[2], exist_ok=True)
for i, (lang, body) in enumerate(blocks):
    if lang not in ext:
        sys.exit("README block %d has language %r" % (i, lang))
    with open(os.path.join(sys.argv[2], "%02d.%s" % (i, ext[lang])), "w") as f:
        f.write(body)
    print("%02d.%s" % (i, ext[lang]))
