#!/usr/bin/env bash
# Makes a catalog N times the size of CONFIG's: every source is copied N times into OUT, each
# copy a source of its own (NAME, NAME-2, ... NAME-N) with its own files. Real copies, not hard
# links: ruledex reads a file hard-linked many times only once, and a re-sync benchmark changes
# one file of one copy. ATT&CK stays as CONFIG names it. Writes OUT/ruledex.toml and prints
# its path; copies already in OUT are reused.
#
#   bench/scale.sh 8 /tmp/ruledex-8x [examples/local-mirrors.toml]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 N OUT [CONFIG]" >&2; exit 2; }
n=$1 out=$2
config=$(realpath "${3:-$(dirname "$0")/../examples/local-mirrors.toml}")
case $n in '' | *[!0-9]* | 0) echo "$0: N must be a whole number from 1, not '$n'" >&2; exit 2 ;; esac
mkdir -p "$out"
out=$(realpath "$out")
python3 - "$n" "$out" "$config" <<'PY'
import json, os, shutil, sys, tomllib

n, out, config = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = os.path.dirname(config)
with open(config, "rb") as f:
    cfg = tomllib.load(f)

def absolute(path):
    return os.path.normpath(os.path.join(base, path))

def toml_value(value):
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string is a JSON string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise SystemExit(f"scale.sh: cannot write {value!r} back as TOML")

lines = ["# Written by bench/scale.sh: " + f"{n} copies of every source of {config}", "", "[attack]"]
for key, value in cfg.get("attack", {}).items():
    value = absolute(value) if key in ("enterprise", "ics", "mobile") and "://" not in value else value
    lines.append(f"{key} = {toml_value(value)}")
for source in cfg.get("sources", []):
    if "path" not in source:
        raise SystemExit(f"scale.sh: source {source['name']} has no local path to copy")
    original = absolute(source["path"])
    for i in range(1, n + 1):
        name = source["name"] if i == 1 else f"{source['name']}-{i}"
        copy = os.path.join(out, name)
        if not os.path.isdir(copy):
            shutil.copytree(original, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        lines += ["", "[[sources]]"]
        for key, value in source.items():
            lines.append(f"{key} = {toml_value(copy if key == 'path' else (name if key == 'name' else value))}")
path = os.path.join(out, "ruledex.toml")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
print(path)
PY
