#!/usr/bin/env bash
# The data the tests read (upstream corpora, single upstream files, ATT&CK bundles), as listed in
# scripts/test-data.manifest.
#
#   scripts/test-data.sh check DIR   DIR holds everything the manifest lists, at its commits and
#                                    hashes; otherwise name each difference and exit 1.
#   scripts/test-data.sh fetch DIR   Fetch into DIR what is missing there (git: shallow, sparse,
#                                    blobless, exactly the commit; curl: single files and
#                                    bundles, checked against their hashes). A complete DIR is
#                                    reused as is. Each piece lands in a temporary folder and is
#                                    renamed into place once complete, so a cut-off fetch is never
#                                    mistaken for data. Offline, names what is missing and how to
#                                    provide it, and exits 1.
#
# Environment:
#   RULEDEX_TEST_DATA_MANIFEST  another manifest (the script's own test uses its commits)
#   RULEDEX_TEST_DATA_UPSTREAM  replaces "https://" in every upstream URL, to fetch from a mirror
#                               laid out by host and path: with file:///srv/mirror/,
#                               https://github.com/a/b is fetched from /srv/mirror/github.com/a/b
set -euo pipefail

script=scripts/test-data.sh
manifest=${RULEDEX_TEST_DATA_MANIFEST:-$(dirname "$0")/test-data.manifest}
# Marks a folder this script created, whose stale pieces it may therefore replace.
owner_marker=.ruledex-test-data

die() {
  echo "$script: $*" >&2
  exit 1
}

# --- The manifest --------------------------------------------------------------------------

repo_dest=() repo_url=() repo_commit=() repo_paths=()
file_dest=() file_repo=() file_commit=() file_sha=() file_path=()
bundle_dest=() bundle_url=() bundle_blob=() bundle_sha=()

read_manifest() {
  [ -f "$manifest" ] || die "manifest $manifest does not exist"
  local kind a b c d rest n=0
  while read -r kind a b c d rest; do
    n=$((n + 1))
    case $kind in
      '' | '#'*) ;;
      repo)
        [ -n "$d" ] || die "$manifest line $n: a repo line needs a destination, repository, commit and paths"
        repo_dest+=("$a") repo_url+=("$b") repo_commit+=("$c") repo_paths+=("$d${rest:+ $rest}")
        ;;
      file)
        [ -n "$rest" ] || die "$manifest line $n: a file line needs a destination, repository, commit, sha256 and path"
        file_dest+=("$a") file_repo+=("$b") file_commit+=("$c") file_sha+=("$d") file_path+=("$rest")
        ;;
      bundle)
        [ -n "$d" ] || die "$manifest line $n: a bundle line needs a destination, url, git blob id and sha256"
        bundle_dest+=("$a") bundle_url+=("$b") bundle_blob+=("$c") bundle_sha+=("$d")
        ;;
      *) die "$manifest line $n: unknown kind \"$kind\" (expected repo, file or bundle)" ;;
    esac
  done <"$manifest"
}

# The destinations of the file sets, each once, in manifest order.
file_sets() {
  [ ${#file_dest[@]} -gt 0 ] || return 0
  printf '%s\n' "${file_dest[@]}" | awk '!seen[$0]++'
}

# --- Checking a copy -------------------------------------------------------------------------
# Each check prints what differs (nothing when the piece is complete).

sha256() {
  sha256sum "$1" | cut -d' ' -f1
}

# The commit a corpus folder holds: its SOURCE.txt, or its git HEAD for a clone made by hand.
corpus_commit() {
  if [ -f "$1/SOURCE.txt" ]; then
    sed -n 's/^commit: *//p' "$1/SOURCE.txt"
  elif [ -e "$1/.git" ]; then
    git -C "$1" rev-parse --verify --quiet HEAD || true
  fi
}

check_repo() { # root index
  local dir=$1/${repo_dest[$2]} commit=${repo_commit[$2]} found path paths
  [ -d "$dir" ] || {
    echo "${repo_dest[$2]}: missing"
    return
  }
  found=$(corpus_commit "$dir")
  [ "$found" = "$commit" ] || {
    echo "${repo_dest[$2]}: holds commit ${found:-(none recorded)}, the manifest says $commit"
    return
  }
  read -ra paths <<<"${repo_paths[$2]}"
  for path in "${paths[@]}"; do
    [ -e "$dir/$path" ] || echo "${repo_dest[$2]}: $path is missing"
  done
}

check_file_set() { # root destination
  local dir=$1/$2 i listed
  [ -d "$dir" ] || {
    echo "$2: missing"
    return
  }
  for i in "${!file_dest[@]}"; do
    [ "${file_dest[i]}" = "$2" ] || continue
    if [ ! -f "$dir/${file_path[i]}" ]; then
      echo "$2: ${file_path[i]} is missing"
    elif [ "$(sha256 "$dir/${file_path[i]}")" != "${file_sha[i]}" ]; then
      echo "$2: ${file_path[i]} has sha256 $(sha256 "$dir/${file_path[i]}"), the manifest says ${file_sha[i]}"
    elif [ -f "$dir/SOURCE.txt" ]; then
      listed=$(awk -v path="${file_path[i]}" '{ commit = $1; sub(/^[^ ]+ /, "") } $0 == path { print commit }' \
        "$dir/SOURCE.txt")
      [ "$listed" = "${file_commit[i]}" ] ||
        echo "$2: SOURCE.txt gives ${file_path[i]} commit ${listed:-(none)}, the manifest says ${file_commit[i]}"
    fi
  done
}

# Either form of a bundle is complete: the upstream file (its git blob id) or the re-serialized
# copy in ../shared (its SHA-256).
bundle_matches() { # file index
  [ "$(sha256 "$1")" = "${bundle_sha[$2]}" ] || [ "$(git hash-object --no-filters "$1")" = "${bundle_blob[$2]}" ]
}

check_bundle() { # root index
  local file=$1/${bundle_dest[$2]}
  if [ ! -f "$file" ]; then
    echo "${bundle_dest[$2]}: missing"
  elif ! bundle_matches "$file" "$2"; then
    echo "${bundle_dest[$2]}: neither the upstream file (git blob ${bundle_blob[$2]})" \
      "nor the copy in ../shared (sha256 ${bundle_sha[$2]})"
  fi
}

# Every difference between the folder and the manifest, one per line.
differences() { # root
  local i set
  for i in "${!repo_dest[@]}"; do check_repo "$1" "$i"; done
  while read -r set; do check_file_set "$1" "$set"; done < <(file_sets)
  for i in "${!bundle_dest[@]}"; do check_bundle "$1" "$i"; done
}

check() { # root
  local found
  found=$(differences "$1")
  [ -z "$found" ] || {
    printf '%s\n' "$found" | sed 's/^/  /' >&2
    die "$1 does not match $manifest (above); update the manifest or the data"
  }
}

# --- Fetching --------------------------------------------------------------------------------

upstream() { # url
  if [ -n "${RULEDEX_TEST_DATA_UPSTREAM:-}" ]; then
    echo "${RULEDEX_TEST_DATA_UPSTREAM%/}/${1#https://}"
  else
    echo "$1"
  fi
}

# A repository path as a URL path: every byte but unreserved ones and "/" percent-encoded.
url_path() {
  local LC_ALL=C path=$1 i char out=""
  for ((i = 0; i < ${#path}; i++)); do
    char=${path:i:1}
    case $char in
      [A-Za-z0-9._~/-]) out+=$char ;;
      *) out+=$(printf '%%%02X' "'$char") ;;
    esac
  done
  echo "$out"
}

raw_url() { # file index
  local repository=${file_repo[$1]#https://github.com/}
  echo "https://raw.githubusercontent.com/$repository/${file_commit[$1]}/$(url_path "${file_path[$1]}")"
}

# The sparse-checkout patterns of a corpus, one per line ("." is everything).
sparse_patterns() { # repo index
  local path paths
  read -ra paths <<<"${repo_paths[$1]}"
  for path in "${paths[@]}"; do
    if [ "$path" = . ]; then echo '/*'; else echo "/$path"; fi
  done
}

# Records why a fetch failed, so that later pieces are not attempted (offline, each would wait).
failure=""
fail() {
  failure=$1
  return 1
}

# Replaces the piece at `destination` with the complete folder or file `staged`.
install() { # staged destination
  local old
  mkdir -p "$(dirname "$2")" || return
  if [ -e "$2" ]; then
    old=$(mktemp -d "$partial/old.XXXXXX") && mv "$2" "$old/" || return
  fi
  mv "$1" "$2"
}

fetch_repo() { # repo index
  local commit=${repo_commit[$1]} url tmp path paths patterns
  url=$(upstream "${repo_url[$1]}")
  echo "$script: fetching ${repo_dest[$1]} (commit $commit of $url)" >&2
  mapfile -t patterns < <(sparse_patterns "$1")
  tmp=$(mktemp -d "$partial/repo.XXXXXX")
  {
    git -C "$tmp" init --quiet &&
      git -C "$tmp" remote add origin "$url" &&
      git -C "$tmp" sparse-checkout set --no-cone "${patterns[@]}"
  } 2>"$tmp.err" || fail "git could not prepare $tmp: $(tail -n 1 "$tmp.err")" || return
  git -C "$tmp" fetch --quiet --depth 1 --filter=blob:none origin "$commit" 2>"$tmp.err" ||
    fail "git fetch of commit $commit from $url failed: $(tail -n 1 "$tmp.err")" || return
  git -C "$tmp" -c advice.detachedHead=false checkout --quiet FETCH_HEAD 2>"$tmp.err" ||
    fail "git checkout of commit $commit from $url failed: $(tail -n 1 "$tmp.err")" || return
  read -ra paths <<<"${repo_paths[$1]}"
  for path in "${paths[@]}"; do
    [ -e "$tmp/$path" ] || fail "$url at commit $commit has no $path" || return
  done
  rm -rf "$tmp/.git" &&
    printf 'upstream: %s\ncommit: %s\npaths: %s\nfetched_from: %s\n' \
      "${repo_url[$1]}" "$commit" "${repo_paths[$1]}" "$url" >"$tmp/SOURCE.txt" &&
    install "$tmp" "$root/${repo_dest[$1]}"
}

download() { # url file
  curl --fail --silent --show-error --location --connect-timeout 20 --retry 2 --output "$2" "$1" \
    2>"$partial/curl.err" ||
    fail "download of $1 failed: $(tail -n 1 "$partial/curl.err")"
}

# The repository a set of single files comes from.
set_repository() { # destination
  local i
  for i in "${!file_dest[@]}"; do
    if [ "${file_dest[i]}" = "$1" ]; then
      echo "${file_repo[i]}"
      return
    fi
  done
}

fetch_file_set() { # destination
  local tmp i url found
  echo "$script: fetching $1 (single files of $(set_repository "$1"))" >&2
  tmp=$(mktemp -d "$partial/files.XXXXXX")
  printf 'upstream: %s\nnote: single files, each at the upstream commit listed, fetched by %s\n' \
    "$(set_repository "$1")" "$script" >"$tmp/SOURCE.txt"
  for i in "${!file_dest[@]}"; do
    [ "${file_dest[i]}" = "$1" ] || continue
    url=$(upstream "$(raw_url "$i")")
    mkdir -p "$(dirname "$tmp/${file_path[i]}")" && download "$url" "$tmp/${file_path[i]}" || return
    found=$(sha256 "$tmp/${file_path[i]}")
    [ "$found" = "${file_sha[i]}" ] || fail "$url has sha256 $found, the manifest says ${file_sha[i]}" || return
    echo "${file_commit[i]} ${file_path[i]}" >>"$tmp/SOURCE.txt"
  done
  install "$tmp" "$root/$1"
}

fetch_bundle() { # bundle index
  local url tmp
  url=$(upstream "${bundle_url[$1]}")
  echo "$script: fetching ${bundle_dest[$1]} ($url)" >&2
  tmp=$(mktemp "$partial/bundle.XXXXXX")
  download "$url" "$tmp" || return
  bundle_matches "$tmp" "$1" ||
    fail "$url is not the expected file (git blob ${bundle_blob[$1]}, or sha256 ${bundle_sha[$1]})" || return
  install "$tmp" "$root/${bundle_dest[$1]}"
}

# How to get each missing piece by hand, for the message when fetching failed.
describe_repo() { # repo index
  local dir=$root/${repo_dest[$1]}
  echo "  ${repo_dest[$1]}: ${repo_url[$1]} at commit ${repo_commit[$1]} (paths: ${repo_paths[$1]})"
  echo "      git init '$dir' &&"
  echo "        git -C '$dir' sparse-checkout set --no-cone $(sparse_patterns "$1" | sed "s/.*/'&'/" | paste -sd' ') &&"
  echo "        git -C '$dir' fetch --depth 1 ${repo_url[$1]} ${repo_commit[$1]} && git -C '$dir' checkout FETCH_HEAD"
}

describe_file_set() { # destination
  local i count=0 first=""
  for i in "${!file_dest[@]}"; do
    [ "${file_dest[i]}" = "$1" ] || continue
    count=$((count + 1))
    [ -n "$first" ] || first=$(raw_url "$i")
  done
  echo "  $1: $count single files of $(set_repository "$1"), each at its commit in $manifest"
  echo "      into '$root/$1/<path>', from URLs like $first"
}

describe_bundle() { # bundle index
  echo "  ${bundle_dest[$1]}: ${bundle_url[$1]}"
  echo "      curl --fail --location --create-dirs --output '$root/${bundle_dest[$1]}' '${bundle_url[$1]}'"
}

# Fetches one missing piece with `fetch_<kind> <key>`, unless an earlier fetch failed; when it
# is not fetched, adds how to get it to `missing`.
missing=""
obtain() { # kind key
  [ -z "$failure" ] && "fetch_$1" "$2" && return
  missing+="$("describe_$1" "$2")"$'\n'
}

# Fills `root` with what it lacks. Only a folder this script made has its stale pieces replaced.
fetch() {
  local found i set
  found=$(differences "$root")
  [ -n "$found" ] || return 0
  if [ -d "$root" ] && [ -n "$(ls -A "$root")" ] && [ ! -e "$root/$owner_marker" ] &&
    grep -v ': missing$' <<<"$found" >&2; then
    die "$root was not made by $script, so the pieces above are left as they are;" \
      "fix or remove them, or use another folder"
  fi
  # A repository that asks for credentials is missing, not a reason to wait for a password.
  export GIT_TERMINAL_PROMPT=0
  mkdir -p "$root"
  [ -n "$(ls -A "$root")" ] || echo "made by $script, which may replace what it holds" >"$root/$owner_marker"
  exec 9>"$root/.lock"
  flock 9
  partial=$root/.partial
  rm -rf "$partial"
  mkdir "$partial"
  trap 'rm -rf "$partial"' EXIT
  for i in "${!repo_dest[@]}"; do
    [ -z "$(check_repo "$root" "$i")" ] || obtain repo "$i"
  done
  while read -r set; do
    [ -z "$(check_file_set "$root" "$set")" ] || obtain file_set "$set"
  done < <(file_sets)
  for i in "${!bundle_dest[@]}"; do
    [ -z "$(check_bundle "$root" "$i")" ] || obtain bundle "$i"
  done
  if [ -n "$missing" ]; then
    cat >&2 <<EOF
$script: the test data in $root is incomplete, and fetching it failed:
  $failure
Missing, and how to get each piece by hand:
$missing
Provide it in any one of these ways, then run scripts/test.sh again:
  - put the shared test data beside the checkout as ../shared (where CI has it; same layout);
  - set RULEDEX_TEST_DATA to a folder with that layout;
  - where github.com and raw.githubusercontent.com are reachable, run the commands above, or
    \`$script fetch DIR\` and copy DIR to $root.
EOF
    exit 1
  fi
  check "$root"
}

read_manifest
case ${1:-} in
  check)
    [ $# -eq 2 ] || die "usage: $script check DIR"
    check "$2"
    echo "$script: $2 matches $manifest" >&2
    ;;
  fetch)
    [ $# -eq 2 ] || die "usage: $script fetch DIR"
    root=$2
    fetch
    echo "$script: $root holds the test data of $manifest" >&2
    ;;
  *) die "usage: $script check DIR | fetch DIR" ;;
esac
