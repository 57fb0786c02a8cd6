#!/usr/bin/env bash
# The test command: formatting, lints, supply-chain checks and every test, on the real upstream
# corpora and ATT&CK bundles listed in scripts/test-data.manifest. On a fresh Debian machine it
# first installs what the tests need (Chromium and its WebDriver, git, curl, Python with the
# format checkers below, node with Microsoft's Kusto parser) and fetches the test data, so it is
# the only command needed to run the tests. It ends with the time each step took.
#
# The Rust side compiles once: clippy lints every workspace crate while the test binaries are
# compiled (scripts/linted-cargo.sh), and what needs no build (installing Python and node tools,
# cargo deny, the check of the lint build itself) runs beside it, each into a log under
# target/test-logs.
set -euo pipefail
# A relative RULEDEX_TEST_DATA names a folder from where the command was run.
[ -z "${RULEDEX_TEST_DATA:-}" ] || RULEDEX_TEST_DATA=$(realpath -m "$RULEDEX_TEST_DATA")
cd "$(dirname "$0")/.."

script=scripts/test.sh
logs=target/test-logs
mkdir -p "$logs"

# --- Steps, timed -----------------------------------------------------------------------------

timings=()
started=$SECONDS
step() { # name command...
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$name: $((SECONDS - start)) s")
}

# Jobs beside the build, each in a process group of its own (stopped if the run stops) and with
# its own log; `finish` waits for one and, if it failed, shows its log and stops the run.
declare -A job_pid
beside() { # name command...
  local name=$1
  shift
  echo "$script: $name, beside the build (log: $logs/$name.log)"
  set -m
  (
    start=$SECONDS
    "$@"
    echo "$name: $((SECONDS - start)) s (beside the build)" >"$logs/$name.time"
  ) >"$logs/$name.log" 2>&1 &
  set +m
  job_pid[$name]=$!
}
finish() { # name [--show-log]
  local name=$1
  if ! wait "${job_pid[$name]}"; then
    cat "$logs/$name.log" >&2
    echo "$script: $name failed (log: $logs/$name.log)" >&2
    exit 1
  fi
  unset "job_pid[$name]"
  [ "${2:-}" != --show-log ] || cat "$logs/$name.log"
  timings+=("$(cat "$logs/$name.time")")
}
# On the way out, passed or not: stop what still runs beside, and say what each step took.
on_exit() {
  local pid timing
  for pid in "${job_pid[@]}"; do
    kill -- "-$pid" 2>/dev/null || true
  done
  for timing in "${timings[@]}"; do
    echo "$script: $timing"
  done
}
trap on_exit EXIT

# --- What the tests need from Debian, PyPI and npm --------------------------------------------

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

install_debian_packages() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$script: installing ${missing[*]} (Debian packages) for the tests"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

install_python_and_node_tools() {
  if ! "$python_tools/bin/python" -c 'import splunk_appinspect, mitreattack.navlayers, feedparser' 2>/dev/null; then
    echo "$script: installing ${python_packages[*]} (PyPI) into $python_tools"
    python3 -m venv "$python_tools"
    "$python_tools/bin/pip" install --quiet "${python_packages[@]}"
  fi
  if [ ! -x "$panther_tools/bin/panther_analysis_tool" ]; then
    echo "$script: installing panther_analysis_tool (PyPI) into $panther_tools"
    python3 -m venv "$panther_tools"
    "$panther_tools/bin/pip" install --quiet panther_analysis_tool
  fi
  # axe-core (same package.json) is the accessibility checker crates/ruledex-web/tests/browser.rs runs.
  if ! NODE_PATH="$node_tools/node_modules" node scripts/oracles/kusto.js --version >/dev/null 2>&1 \
    || [ ! -f "$node_tools/node_modules/axe-core/axe.min.js" ]; then
    echo "$script: installing scripts/oracles/package.json (npm) into $node_tools"
    mkdir -p "$node_tools" && cp scripts/oracles/package.json "$node_tools/"
    npm install --prefix "$node_tools" --no-audit --no-fund --silent
  fi
  if ! "$oracle_tools/bin/python" -c 'import eql, sigma.backends.kusto, sigma.backends.splunk, sigma.backends.elasticsearch' 2>/dev/null; then
    echo "$script: installing scripts/oracles/requirements.txt (PyPI) into $oracle_tools"
    python3 -m venv "$oracle_tools"
    "$oracle_tools/bin/pip" install --quiet -r scripts/oracles/requirements.txt
  fi
}

test_tools() {
  [ ${#missing[@]} -eq 0 ] || install_debian_packages
  install_python_and_node_tools
}

# git and curl fetch the test data before anything is built, and sudo may have to ask for a
# password: then the packages are installed first. Otherwise they come beside the build.
if [ ${#missing[@]} -gt 0 ] && { [[ " ${missing[*]} " == *" git "* || " ${missing[*]} " == *" curl "* ]] ||
  { [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; }; }; then
  step "Debian packages" install_debian_packages
  missing=()
fi
beside test-tools test_tools
export RULEDEX_NODE_TOOLS=${RULEDEX_NODE_TOOLS:-$PWD/$node_tools}
export RULEDEX_ORACLE_PYTHON=${RULEDEX_ORACLE_PYTHON:-$PWD/$oracle_tools/bin/python}
export SPLUNK_APPINSPECT=${SPLUNK_APPINSPECT:-$PWD/$python_tools/bin/splunk-appinspect}
export PANTHER_ANALYSIS_TOOL=${PANTHER_ANALYSIS_TOOL:-$PWD/$panther_tools/bin/panther_analysis_tool}
export RULEDEX_PYTHON=${RULEDEX_PYTHON:-$PWD/$python_tools/bin/python}

# --- The test data ----------------------------------------------------------------------------

# $RULEDEX_TEST_DATA if set, else ../shared beside the checkout (as in CI), else a cache; the
# first and the last are fetched into when incomplete, ../shared must match as it is.
if [ -n "${RULEDEX_TEST_DATA:-}" ]; then
  step "test data" scripts/test-data.sh fetch "$RULEDEX_TEST_DATA"
elif [ -d ../shared ]; then
  RULEDEX_TEST_DATA=$(realpath ../shared)
  step "test data" scripts/test-data.sh check "$RULEDEX_TEST_DATA"
else
  RULEDEX_TEST_DATA=${XDG_CACHE_HOME:-$HOME/.cache}/ruledex/test-data
  step "test data" scripts/test-data.sh fetch "$RULEDEX_TEST_DATA"
fi
export RULEDEX_TEST_DATA

# --- Checks beside the build ------------------------------------------------------------------

beside supply-chain scripts/supply-chain.sh
beside lint-build-check scripts/linted-cargo-check.sh

# --- Format, build and lint -------------------------------------------------------------------

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "format" cargo fmt --all -- --check

# A crate with `autotests = false` builds one test binary from the root its [[test]] names, and
# only the files that root names as modules: a test file it does not name would never run.
unnamed_test_files() {
  local manifest dir file name unnamed=0
  for manifest in crates/*/Cargo.toml; do
    grep -qx 'autotests = false' "$manifest" || continue
    dir=$(dirname "$manifest")/tests
    for file in "$dir"/*.rs "$dir"/*/mod.rs; do
      [ -e "$file" ] || continue
      name=${file#"$dir"/}
      name=${name%/mod.rs}
      name=${name%.rs}
      grep -qx "path = \"tests/$name.rs\"" "$manifest" || grep -qx "mod $name;" "$dir"/*.rs || {
        echo "$script: $file is in no test binary: name it in a \`mod $name;\` of its crate's tests/tests.rs" >&2
        unnamed=1
      }
    done
  done
  return $unnamed
}
step "test files" unnamed_test_files

# Every target `cargo clippy --workspace --all-targets -- -D warnings` lints is compiled, and
# linted on the way; the tests below then run what this built. What each crate took to compile
# is in target/cargo-timings/cargo-timing.html.
step "build and lint" scripts/linted-cargo.sh test --workspace --all-targets --locked --no-run --timings
# Doc comments link to what they name; a broken link is a stale comment. rustdoc reads the
# dependencies' metadata, which the build above does not write: they are checked once for it.
step "doc links" env RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --locked --quiet --timings

# --- Tests ------------------------------------------------------------------------------------

finish test-tools
finish supply-chain --show-log
finish lint-build-check --show-log
# What `cargo test` runs (benchmarks are built above, not run), in the two commands cargo needs
# for it when the examples it builds must be those built above (as tests).
step "tests" scripts/linted-cargo.sh test --workspace --locked --tests --examples
step "doc tests" scripts/linted-cargo.sh test --workspace --locked --doc

timings+=("all passed in $((SECONDS - started)) s")
