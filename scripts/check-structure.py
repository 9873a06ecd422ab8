#!/usr/bin/env python3
"""Holds the library crates to the shape a reader can hold (issue 16).

* no library source file over 600 lines;
* no function over 80 lines, unless a comment right above it (among its doc comment and
  attributes) says `one piece:` and why;
* no import cycle between the top-level modules of a crate (`a` uses `crate::b` and `b`
  uses `crate::a`, directly or through others);
* no binaries in library crates (`src/bin/` or `[[bin]]`);
* no two public error, configuration or policy types in the family share a name (users
  import them side by side).

Prints every breach and exits 1 if there is one; `--report` prints the figures (largest
file, longest function) and always exits 0.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARIES = ["ffc-core", "ffc-device", "ffc-client", "ffc-protocols", "ffc-sales"]
MAX_FILE_LINES = 600
MAX_FN_LINES = 80

FN_RE = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def rust_files(crate):
    src = os.path.join(ROOT, crate, "src")
    for base, _dirs, files in os.walk(src):
        for name in sorted(files):
            if name.endswith(".rs"):
                yield os.path.join(base, name)


def functions(lines):
    """(name, first line, length) of every fn with a body, by rustfmt's indentation."""
    for i, line in enumerate(lines):
        m = FN_RE.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        end = None
        for j in range(i, len(lines)):
            if lines[j].rstrip().endswith(";") and j == i:
                break
            if j > i and lines[j].startswith(indent + "}") and not lines[j].startswith(indent + "} else"):
                end = j
                break
            if j == i and lines[j].rstrip().endswith("}"):
                end = j
                break
        if end is not None:
            yield m.group(7), i, end - i + 1


def justified(lines, fn_line):
    """True when the comments and attributes right above a fn say why it is one piece."""
    j = fn_line - 1
    while j >= 0:
        text = lines[j].strip()
        if text.startswith("//") or text.startswith("#["):
            if "one piece:" in text:
                return True
            j -= 1
            continue
        break
    return False


def module_of(crate, path):
    rel = os.path.relpath(path, os.path.join(ROOT, crate, "src"))
    first = rel.split(os.sep)[0]
    if first.endswith(".rs"):
        first = first[:-3]
    return first


USE_RE = re.compile(r"\bcrate::(\w+)")


def cycles(crate):
    graph = {}
    for path in rust_files(crate):
        module = module_of(crate, path)
        if module in ("lib", "main"):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # Test modules may use anything; only library code counts.
        text = text.split("#[cfg(test)]\nmod tests")[0]
        for target in USE_RE.findall(text):
            if target != module:
                graph.setdefault(module, set()).add(target)
    found = []
    def visit(node, stack, seen):
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(" -> ".join(cycle))
            elif len(stack) < 12:
                visit(nxt, stack + [nxt], seen)
    seen = set()
    for node in sorted(graph):
        visit(node, [node], seen)
    return found


PUB_TYPE_RE = re.compile(r"^\s*pub\s+(struct|enum)\s+(\w+(Error|Config|Policy))\b")


def shared_names():
    """Public *Error / *Config / *Policy types declared more than once in the family."""
    seen = {}
    for crate in LIBRARIES:
        for path in rust_files(crate):
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = PUB_TYPE_RE.match(line)
                    if m:
                        seen.setdefault(m.group(2), []).append(f"{os.path.relpath(path, ROOT)}:{n}")
    return {name: places for name, places in seen.items() if len(places) > 1}


def main():
    report = "--report" in sys.argv
    breaches = []
    largest = (0, "")
    longest = (0, "")
    for crate in LIBRARIES:
        if os.path.isdir(os.path.join(ROOT, crate, "src", "bin")):
            breaches.append(f"{crate}: library crate has binaries in src/bin/")
        with open(os.path.join(ROOT, crate, "Cargo.toml"), encoding="utf-8") as f:
            if "[[bin]]" in f.read():
                breaches.append(f"{crate}: library crate declares [[bin]]")
        for path in rust_files(crate):
            rel = os.path.relpath(path, ROOT)
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            n = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
            largest = max(largest, (n, rel))
            if n > MAX_FILE_LINES:
                breaches.append(f"{rel}: {n} lines (at most {MAX_FILE_LINES})")
            for name, first, length in functions(lines):
                longest = max(longest, (length, f"{rel}:{first + 1} {name}"))
                if length > MAX_FN_LINES and not justified(lines, first):
                    breaches.append(
                        f"{rel}:{first + 1}: fn {name} is {length} lines (at most {MAX_FN_LINES}, "
                        "or a `one piece:` comment saying why)"
                    )
        for cycle in cycles(crate):
            breaches.append(f"{crate}: import cycle {cycle}")
    clashes = shared_names()
    for name, places in sorted(clashes.items()):
        breaches.append(f"public type {name} declared {len(places)} times: {', '.join(places)}")
    if report:
        print(f"public error/config/policy types sharing a name: {sum(len(p) for p in clashes.values())}")
        print(f"largest library file: {largest[1]} ({largest[0]} lines)")
        print(f"longest library function: {longest[1]} ({longest[0]} lines)")
        for b in breaches:
            print(b)
        return 0
    for b in breaches:
        print(b)
    if breaches:
        print(f"{len(breaches)} structure breach(es)")
        return 1
    print("structure: every library file and function within bounds, no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
