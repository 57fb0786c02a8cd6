#!/usr/bin/env bash
# Supply-chain checks, run by scripts/test.sh:
#  1. cargo deny (deny.toml): licenses, duplicate versions, sources, and RustSec advisories
#     when its database (on github.com) can be fetched; offline, it says which check it skipped.
#  2. The declared minimum Rust version (`rust-version` in Cargo.toml) is honest: no shipped
#     dependency needs a newer Rust. (Our own code is held to it by clippy's incompatible_msrv
#     lint, which reads the same field and runs with -D warnings.)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deny > /dev/null || cargo install cargo-deny --locked --quiet

cargo deny --log-level error check licenses bans sources
if cargo deny --log-level error fetch db 2> /dev/null; then
  cargo deny --log-level error check advisories
else
  echo "scripts/supply-chain.sh: the RustSec advisory database (github.com/rustsec/advisory-db) cannot be" \
    "fetched from here; advisories were not checked (licenses, bans and sources were)" >&2
fi

cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
def version(text):
    parts = [int(p) for p in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))
members = {p["id"] for p in meta["packages"] if p["id"] in meta["workspace_members"]}
declared = {version(p["rust_version"]) for p in meta["packages"] if p["id"] in members}
if len(declared) != 1:
    sys.exit(f"workspace members declare different rust-versions: {sorted(declared)}")
msrv = declared.pop()
shown = ".".join(map(str, msrv[:2]))
resolve = {n["id"]: n for n in meta["resolve"]["nodes"]}
shipped, stack = set(), list(members)
while stack:
    node = resolve[stack.pop()]
    for dep in node["deps"]:
        kinds = {k["kind"] for k in dep["dep_kinds"]}
        if kinds - {"dev"} and dep["pkg"] not in shipped:
            shipped.add(dep["pkg"])
            stack.append(dep["pkg"])
packages = {p["id"]: p for p in meta["packages"]}
newer = sorted((packages[i]["name"], packages[i]["rust_version"]) for i in shipped
               if version(packages[i]["rust_version"]) > msrv)
if newer:
    sys.exit(f"rust-version {shown} is older than what these dependencies need: {newer}")
print(f"rust-version {shown}: all {len(shipped)} shipped dependencies build with it")
'
