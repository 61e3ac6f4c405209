#!/usr/bin/env bash
# Declared dependencies equal imports: for every Swift target in Package.swift (library, executable,
# test and bench targets), the modules listed in `dependencies:` must be exactly the modules its
# files `import` (toolchain modules aside; an executable target a test runs as a process may be
# declared without an import). An import that only compiles because another
# dependency brings it along, or a declared dependency nothing imports, fails the check.
# Usage: scripts/check-deps.sh [path/to/package]   (run by `make test` on . and bench)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

python3 - <<'PY'
import os, re, sys

# Modules that come with the toolchain or the OS, never declared as dependencies.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML", "CoreFoundation",
    "Dispatch", "Glibc", "Musl", "Darwin", "ucrt", "WinSDK", "Synchronization", "Observation",
    "RegexBuilder", "Testing", "XCTest", "_Concurrency", "_StringProcessing", "Swift", "os",
}

manifest = open("Package.swift").read()
# Drop comments so a commented-out target or dependency does not count.
manifest = re.sub(r"//[^\n]*", "", manifest)

def balanced(text, start, open_char, close_char):
    """The text from `start` (at open_char) through its matching close_char."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_char:
            depth += 1
        elif text[i] == close_char:
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    sys.exit(f"check-deps: unbalanced {open_char} in Package.swift at offset {start}")

def dependency_names(args):
    """Module names in a `dependencies: [...]` list (bare names and .product(name:))."""
    names = set(re.findall(r'\.product\(\s*name:\s*"([^"]+)"', args))
    names |= set(re.findall(r'\.target\(\s*name:\s*"([^"]+)"', args))
    bare = re.sub(r"\.(product|target|byName)\([^)]*\)", "", args)
    names |= set(re.findall(r'"([^"]+)"', bare))
    return names

targets = []  # (name, kind, path, declared)
for m in re.finditer(r"\.(target|testTarget|executableTarget|systemLibrary)\(", manifest):
    body = balanced(manifest, m.end() - 1, "(", ")")
    name = re.search(r'name:\s*"([^"]+)"', body)
    if not name or "\\(" in name.group(1):
        continue  # the bench() helper's template
    kind = m.group(1)
    path = re.search(r'path:\s*"([^"]+)"', body)
    path = path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name.group(1)
    deps = re.search(r"dependencies:\s*\[", body)
    declared = dependency_names(balanced(body, deps.end() - 1, "[", "]")) if deps else set()
    targets.append((name.group(1), kind, path, declared))

# bench("NAME", [deps]) (bench/Package.swift): an executable at the path its helper's template names.
helper = re.search(r'func bench\(.*?path:\s*"([^"]+)"', manifest, re.S)
for m in re.finditer(r'\bbench\(\s*"([^"]+)"\s*,\s*\[', manifest):
    deps = balanced(manifest, m.end() - 1, "[", "]")
    path = helper.group(1).replace("\\(name)", m.group(1))
    targets.append((f"graft-bench-{m.group(1)}", "executableTarget", path, dependency_names(deps)))

import_line = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|package\s+|internal\s+|private\s+|fileprivate\s+)?"
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_]\w*)", re.M)

# An executable a test runs as a process is a build-order dependency, not an import.
executables = {name for name, kind, _, _ in targets if kind == "executableTarget"}

failures = 0
checked = 0
for name, kind, path, declared in targets:
    if kind == "systemLibrary":
        continue
    swift_files = [os.path.join(root, f) for root, _, files in os.walk(path) for f in files if f.endswith(".swift")]
    if not swift_files:
        continue  # a C target: its #includes are not module imports
    imported = set()
    for f in swift_files:
        imported |= set(import_line.findall(open(f, encoding="utf-8").read()))
    imported -= TOOLCHAIN
    checked += 1
    missing, unused = sorted(imported - declared), sorted(declared - imported - executables)
    if missing or unused:
        failures += 1
        if missing:
            print(f"check-deps: {name} imports {', '.join(missing)} without declaring it in Package.swift", file=sys.stderr)
        if unused:
            print(f"check-deps: {name} declares {', '.join(unused)} but no file of {path} imports it", file=sys.stderr)

if failures:
    sys.exit(f"check-deps: {failures} of {checked} targets disagree with their imports")
print(f"check-deps: dependencies equal imports in all {checked} Swift targets")
PY
