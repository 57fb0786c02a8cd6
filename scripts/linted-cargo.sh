#!/usr/bin/env bash
# cargo, with clippy linting every workspace crate it compiles and any warning failing the build:
#
#   scripts/linted-cargo.sh test --workspace --all-targets --no-run
#
# builds the test binaries and lints what `cargo clippy --workspace --all-targets -- -D warnings`
# lints, in one compilation instead of two. `cargo clippy` is this with `cargo check`: cargo runs
# clippy-driver (a rustc with clippy's lints) around the compiler of workspace members only, and
# clippy-driver reads the lint levels `cargo clippy -- ARGS` would pass from CLIPPY_ARGS.
# Dependencies are compiled as by a plain cargo, so a plain `cargo test` shares them; workspace
# crates are kept apart from its (cargo puts the wrapper's path in their file names), and both
# the wrapper and CLIPPY_ARGS are part of their fingerprints, so a change of either rebuilds them.
set -euo pipefail

export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
# `cargo clippy -- -D warnings`: clippy-driver splits CLIPPY_ARGS at this marker.
export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
exec cargo "$@"
