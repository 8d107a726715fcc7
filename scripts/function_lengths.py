#!/usr/bin/python3
"""List the longest C++ functions in a source tree, in lines from signature to closing brace.

    scripts/function_lengths.py src tools        # the ten longest
    scripts/function_lengths.py src --top 30

A brace-matching reader, not a compiler: comments, strings and character literals are blanked
first, then every brace block opened at namespace or class level whose header ends in a
parameter list (a function, a constructor with its initialiser list, an operator) is counted.
Lambdas and blocks inside functions belong to the function that holds them.
"""

import argparse
import os
import re
import sys

EXTENSIONS = (".cpp", ".cc", ".h", ".hpp")


def blank_comments_and_strings(text):
    """Replaces comments and literals by spaces, keeping newlines, so line numbers stay."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    text = blank_comments_and_strings(open(path, encoding="utf-8", errors="replace").read())
    # Preprocessor lines (with their continuations) hold no code of a function header.
    text = re.sub(r"(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    stack = []        # kinds of open blocks: "scope" (namespace/class/extern) or "other"
    header_start = 0  # index where the text before the next brace began
    found = []
    line_of = lambda idx: text.count("\n", 0, idx) + 1
    i = 0
    while i < len(text):
        c = text[i]
        if c in ";":
            if all(k == "scope" for k in stack):
                header_start = i + 1
        elif c == "{":
            header = text[header_start:i]
            at_scope_level = all(k == "scope" for k in stack)
            h = " ".join(header.split())
            # Templates and attributes in front of the real header.
            if at_scope_level and re.match(r"^(template\s*<.*>\s*)?(namespace|struct|class|union|enum|extern)\b", h):
                stack.append("scope")
            elif at_scope_level and re.search(r"\)\s*(const|noexcept|override|final|mutable|\s)*(->[^{]*)?$", h) or (
                    at_scope_level and re.search(r"\)\s*:\s*\w", h)):
                start = header_start + (len(header) - len(header.lstrip()))
                depth, j = 1, i + 1
                while j < len(text) and depth:
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                name = re.search(r"([~\w:]+(?:operator\s*[^\s(]+)?)\s*\(", h)
                found.append((line_of(j - 1) - line_of(start) + 1, path, line_of(start),
                              name.group(1) if name else h[:40]))
                i = j
                header_start = j
                continue
            else:
                stack.append("other")
            header_start = i + 1
        elif c == "}":
            if stack:
                stack.pop()
            header_start = i + 1
        i += 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="folders or files")
    ap.add_argument("--top", type=int, default=10, help="how many to list (default 10)")
    args = ap.parse_args()
    rows = []
    for p in args.paths:
        if os.path.isfile(p):
            rows += functions(p)
            continue
        if not os.path.isdir(p):
            sys.exit(f"function_lengths: '{p}' is neither a file nor a folder")
        for root, _, files in os.walk(p):
            for f in sorted(files):
                if f.endswith(EXTENSIONS):
                    rows += functions(os.path.join(root, f))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    for lines, path, line, name in rows[: args.top]:
        print(f"{lines:5d}  {path}:{line}  {name}")


if __name__ == "__main__":
    main()
