#!/usr/bin/env python3
"""Function sizes and nesting of C sources (clang-formatted: tabs, Linux
braces). For each function: its lines (from the first line of its signature to
its closing brace) and its deepest block nesting (statements directly in the
body are at 0, inside one `if {` at 1, ...).

  tests/tools/funcstat.py [--over N] [--deeper D] FILE...

Prints `lines depth file:line name` for every function over N lines or
nested deeper than D (defaults 60 and 3), then a count of each; exits 0.
"""
import re
import sys

def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            # the signature ends on the line before; find its name
            j = i - 1
            sig = lines[j]
            while j > 0 and "(" not in sig:
                j -= 1
                sig = lines[j] + sig
            k = j
            while k > 0 and not re.search(r"\w+\s*\(", lines[k]):
                k -= 1
            m = re.search(r"(\w+)\s*\(", lines[k])
            name = m.group(1) if m else "?"
            start = j
            depth = 0
            i += 1
            while i < len(lines) and lines[i] != "}":
                s = lines[i]
                if s.strip() and not s.lstrip().startswith(("*", "/*", "#")):
                    tabs = len(s) - len(s.lstrip("\t"))
                    # a label or a case sits one tab left of its block
                    if re.match(r"\t*(case .*|default|\w+):\s*$", s):
                        tabs += 1
                    # a continuation line is indented further but is not
                    # a new block: count only lines that open or sit in one
                    depth = max(depth, tabs - 1) if tabs else depth
                i += 1
            yield name, start + 1, i - start + 1, depth
        i += 1

def main(argv):
    over, deeper, files = 60, 3, []
    it = iter(argv)
    for a in it:
        if a == "--over":
            over = int(next(it))
        elif a == "--deeper":
            deeper = int(next(it))
        else:
            files.append(a)
    n_long = n_deep = 0
    for f in files:
        for name, line, length, depth in functions(f):
            if length > over or depth > deeper:
                print("%4d %d %s:%d %s" % (length, depth, f, line, name))
            n_long += length > over
            n_deep += depth > deeper
    print("functions over %d lines: %d; nested deeper than %d: %d"
          % (over, n_long, deeper, n_deep))

if __name__ == "__main__":
    main(sys.argv[1:])
