#!/usr/bin/env bash
# The test command: formatting, lints and every test, on the real corpora in ../shared.
# Installs nothing itself beyond what cargo fetches; .ci/run installs system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
  echo "scripts/test.sh: ../shared (the upstream corpora and ATT&CK bundles) must sit beside the checkout" >&2
  exit 1
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
