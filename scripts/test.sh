#!/usr/bin/env bash
# The test command: formatting, lints and every test, on the real corpora in ../shared.
# On a fresh Debian machine it first installs what the end-to-end tests need (Chromium and
# its WebDriver), so it is the only command needed to run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
  echo "scripts/test.sh: ../shared (the upstream corpora and ATT&CK bundles) must sit beside the checkout" >&2
  exit 1
fi

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v git >/dev/null || missing+=(git)
# Splunk AppInspect checks the exported Splunk app (crates/ruledex-core/tests/splunk_app.rs). It
# is a Python package, installed into a virtual environment under target/ unless one is on PATH;
# it needs Python with venv and libmagic.
appinspect_venv=target/tools/appinspect
need_appinspect=false
if [ -z "${SPLUNK_APPINSPECT:-}" ] && ! command -v splunk-appinspect >/dev/null \
  && [ ! -x "$appinspect_venv/bin/splunk-appinspect" ]; then
  need_appinspect=true
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3 python3-venv)
  ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || missing+=(libmagic1)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "scripts/test.sh: installing ${missing[*]} (Debian packages) for the tests" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if $need_appinspect; then
  echo "scripts/test.sh: installing splunk-appinspect (PyPI) into $appinspect_venv" >&2
  python3 -m venv "$appinspect_venv"
  "$appinspect_venv/bin/pip" install --quiet splunk-appinspect
fi
if [ -z "${SPLUNK_APPINSPECT:-}" ] && ! command -v splunk-appinspect >/dev/null; then
  export SPLUNK_APPINSPECT="$PWD/$appinspect_venv/bin/splunk-appinspect"
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
