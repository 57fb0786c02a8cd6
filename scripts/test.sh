#!/usr/bin/env bash
# The test command: formatting, lints, supply-chain checks and every test, on the real upstream
# corpora and ATT&CK bundles listed in scripts/test-data.manifest. On a fresh Debian machine it
# first installs what the tests need (Chromium and its WebDriver, git, curl, Python with the
# format checkers below, node with Microsoft's Kusto parser) and fetches the test data, so it is the only command needed to run the
# tests.
set -euo pipefail
# A relative RULEDEX_TEST_DATA names a folder from where the command was run.
[ -z "${RULEDEX_TEST_DATA:-}" ] || RULEDEX_TEST_DATA=$(realpath -m "$RULEDEX_TEST_DATA")
cd "$(dirname "$0")/.."

# Exports are checked with each format's own tools, Python packages from PyPI installed into a
# virtual environment under target/: Splunk AppInspect (the exported Splunk app, which also needs
# libmagic), MITRE's mitreattack-python (ATT&CK Navigator layers) and feedparser (Atom feeds).
# Panther's panther_analysis_tool (Panther exports) has its own environment: it needs a newer
# chardet than AppInspect pins.
python_tools=target/tools/python
python_packages=(splunk-appinspect mitreattack-python feedparser)
panther_tools=target/tools/panther
# The query languages' own parsers (scripts/oracles: Microsoft's Kusto parser from npm; eql and
# pySigma from PyPI, in an environment of their own) that crates/ruledex-core/tests/oracles.rs
# compares ruledex's queries with.
node_tools=target/tools/node
oracle_tools=target/tools/oracles

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v git >/dev/null || missing+=(git)
command -v curl >/dev/null || missing+=(curl)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(nodejs npm)
ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || missing+=(libmagic1)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "scripts/test.sh: installing ${missing[*]} (Debian packages) for the tests" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! "$python_tools/bin/python" -c 'import splunk_appinspect, mitreattack.navlayers, feedparser' 2>/dev/null; then
  echo "scripts/test.sh: installing ${python_packages[*]} (PyPI) into $python_tools" >&2
  python3 -m venv "$python_tools"
  "$python_tools/bin/pip" install --quiet "${python_packages[@]}"
fi
if [ ! -x "$panther_tools/bin/panther_analysis_tool" ]; then
  echo "scripts/test.sh: installing panther_analysis_tool (PyPI) into $panther_tools" >&2
  python3 -m venv "$panther_tools"
  "$panther_tools/bin/pip" install --quiet panther_analysis_tool
fi
# axe-core (same package.json) is the accessibility checker crates/ruledex-web/tests/browser.rs runs.
if ! NODE_PATH="$node_tools/node_modules" node scripts/oracles/kusto.js --version >/dev/null 2>&1 \
  || [ ! -f "$node_tools/node_modules/axe-core/axe.min.js" ]; then
  echo "scripts/test.sh: installing scripts/oracles/package.json (npm) into $node_tools" >&2
  mkdir -p "$node_tools" && cp scripts/oracles/package.json "$node_tools/"
  npm install --prefix "$node_tools" --no-audit --no-fund --silent
fi
if ! "$oracle_tools/bin/python" -c 'import eql, sigma.backends.kusto, sigma.backends.splunk, sigma.backends.elasticsearch' 2>/dev/null; then
  echo "scripts/test.sh: installing scripts/oracles/requirements.txt (PyPI) into $oracle_tools" >&2
  python3 -m venv "$oracle_tools"
  "$oracle_tools/bin/pip" install --quiet -r scripts/oracles/requirements.txt
fi
export RULEDEX_NODE_TOOLS=${RULEDEX_NODE_TOOLS:-$PWD/$node_tools}
export RULEDEX_ORACLE_PYTHON=${RULEDEX_ORACLE_PYTHON:-$PWD/$oracle_tools/bin/python}
export SPLUNK_APPINSPECT=${SPLUNK_APPINSPECT:-$PWD/$python_tools/bin/splunk-appinspect}
export PANTHER_ANALYSIS_TOOL=${PANTHER_ANALYSIS_TOOL:-$PWD/$panther_tools/bin/panther_analysis_tool}
export RULEDEX_PYTHON=${RULEDEX_PYTHON:-$PWD/$python_tools/bin/python}

# The test data: $RULEDEX_TEST_DATA if set, else ../shared beside the checkout (as in CI), else a
# cache; the first and the last are fetched into when incomplete, ../shared must match as it is.
if [ -n "${RULEDEX_TEST_DATA:-}" ]; then
  scripts/test-data.sh fetch "$RULEDEX_TEST_DATA"
elif [ -d ../shared ]; then
  RULEDEX_TEST_DATA=$(realpath ../shared)
  scripts/test-data.sh check "$RULEDEX_TEST_DATA"
else
  RULEDEX_TEST_DATA=${XDG_CACHE_HOME:-$HOME/.cache}/ruledex/test-data
  scripts/test-data.sh fetch "$RULEDEX_TEST_DATA"
fi
export RULEDEX_TEST_DATA

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Doc comments link to what they name; a broken link is a stale comment.
RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --locked --quiet
scripts/supply-chain.sh
cargo test --workspace --locked
