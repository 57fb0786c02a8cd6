#!/usr/bin/env bash
# The test command: formatting, lints and every test, on the real corpora in ../shared.
# On a fresh Debian machine it first installs what the end-to-end tests need (Chromium and
# its WebDriver) and MITRE's mitreattack-python, which checks the ATT&CK Navigator layers
# ruledex writes, so it is the only command needed to run the tests.
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
command -v python3 >/dev/null || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "scripts/test.sh: installing ${missing[*]} (Debian packages) for the tests" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! python3 -c 'import mitreattack.navlayers' 2>/dev/null; then
  echo "scripts/test.sh: installing mitreattack-python (PyPI) for the ATT&CK Navigator layer test" >&2
  # Debian's own Python refuses installs outside a virtual environment (PEP 668) unless told to.
  python3 -m pip install --quiet mitreattack-python 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages mitreattack-python
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
