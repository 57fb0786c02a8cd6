#!/usr/bin/env bash
# Tests scripts/linted-cargo.sh, the build scripts/test.sh lints with, on a workspace it writes in
# a temporary folder: one package with every kind of target `cargo clippy --all-targets` lints
# (library, binary, integration test, benchmark, example). Then:
#   - the clean package builds;
#   - in each kind of target in turn, a compiler warning (dead code) and a clippy warning
#     (needless_return) each fail the build, and the failure names the file and the lint;
#   - running the tests after the build, as scripts/test.sh does, compiles nothing again, and
#     neither does the build.
#
#   scripts/linted-cargo-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
linted_cargo=$PWD/scripts/linted-cargo.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
package=$work/package
export CARGO_TARGET_DIR=$work/target
failures=0

expect() { # description command...
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAILED: $what" >&2
    failures=$((failures + 1))
  fi
}

# Each target's file, by kind; every one is a crate of its own with a function of its own.
declare -A files=(
  [lib]=src/lib.rs
  [bin]=src/main.rs
  [test]=tests/integration.rs
  [bench]=benches/bench.rs
  [example]=examples/example.rs
)
write_package() {
  mkdir -p "$package"/{src,tests,benches,examples}
  cat >"$package/Cargo.toml" <<'TOML'
[package]
name = "lint-check"
version = "0.1.0"
edition = "2024"
publish = false

[[bench]]
name = "bench"
harness = false

[workspace]
TOML
  echo 'pub fn answer() -> i32 { 42 }' >"$package/src/lib.rs"
  echo 'fn main() { println!("{}", lint_check::answer()); }' >"$package/src/main.rs"
  echo '#[test] fn answers() { assert_eq!(lint_check::answer(), 42); }' >"$package/tests/integration.rs"
  echo 'fn main() { println!("{}", lint_check::answer()); }' >"$package/benches/bench.rs"
  echo 'fn main() { println!("{}", lint_check::answer()); }' >"$package/examples/example.rs"
}

build() { # output file
  (cd "$package" && "$linted_cargo" test --all-targets --no-run) >"$1" 2>&1
}

# The build fails, naming the file and the lint.
fails_naming() { # file lint
  local output=$work/output
  if build "$output"; then
    echo "  the build passed" >&2
    return 1
  fi
  grep -q -- "--> $1" "$output" && grep -q "$2" "$output" || {
    cat "$output" >&2
    return 1
  }
}

write_package
expect "the clean package builds" build "$work/output"

declare -A warnings=(
  [dead_code]='fn never_called() {}'
  [clippy::needless_return]=$'#[allow(dead_code)]\nfn needless() -> i32 {\n    return 1;\n}'
)
for kind in lib bin test bench example; do
  file=${files[$kind]}
  for lint in dead_code clippy::needless_return; do
    cp "$package/$file" "$work/clean.rs"
    printf '%s\n' "${warnings[$lint]}" >>"$package/$file"
    expect "a $lint warning in the $kind ($file) fails the build" fails_naming "$file" "$lint"
    cp "$work/clean.rs" "$package/$file"
  done
done

compiles_nothing() { # cargo arguments...
  local output=$work/output
  (cd "$package" && "$linted_cargo" "$@") >"$output" 2>&1 || {
    cat "$output" >&2
    return 1
  }
  ! grep -E '^ *(Compiling|Checking) ' "$output" >&2
}
build "$work/output"
expect "the tests run without compiling anything again" compiles_nothing test --tests --examples
expect "the doc tests run without compiling anything again" compiles_nothing test --doc
expect "a second build compiles nothing" compiles_nothing test --all-targets --no-run

[ "$failures" -eq 0 ] || {
  echo "scripts/linted-cargo-check.sh: $failures check(s) failed" >&2
  exit 1
}
