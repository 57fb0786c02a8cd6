#!/usr/bin/env bash
# Tests scripts/test-data.sh without the internet. From a complete copy of the test data it
# builds an upstream mirror in a temporary folder: one git repository per corpus (a single
# commit of the copy's files, since the manifest's upstream commits cannot be recreated) and the
# single files and ATT&CK bundles at their raw.githubusercontent.com paths. The fetch runs
# against it with a manifest naming the mirror's commits, so it is verified by content: the
# fetched cache must hold exactly the copy's files. Then:
#   - a complete cache is reused without fetching anything, upstream unreachable;
#   - `check` names a corpus whose commit differs from the manifest;
#   - a stale corpus, a corpus without its SOURCE.txt, a file set missing a file and a leftover
#     partial folder are fetched again, and nothing else is;
#   - a download whose hash differs from the manifest is refused and leaves nothing behind;
#   - a folder the script did not make keeps its stale pieces;
#   - offline, with the real manifest, the message names every corpus, commit and URL that is
#     missing and the ways to provide them, and the exit status is 1.
#
#   scripts/test-bootstrap-check.sh [DATA]   DATA: the copy ($RULEDEX_TEST_DATA, else ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."

data=$(realpath "${1:-${RULEDEX_TEST_DATA:-../shared}}")
manifest=scripts/test-data.manifest
unreachable=http://127.0.0.1:9/
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mirror=$work/mirror
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

contains() { # haystack needle
  grep -qF -- "$2" <<<"$1"
}

# Runs scripts/test-data.sh; its status goes to $status, its stderr to $output.
run() { # args...
  status=0
  output=$(scripts/test-data.sh "$@" 2>&1 >/dev/null) || status=$?
}

# The URL's path below the mirror: host and path, percent-decoded.
mirror_path() { # url
  local path=${1#https://}
  printf '%s/%b' "$mirror" "${path//%/\\x}"
}

# One bare repository per corpus, holding the copy's files in one commit, and a manifest naming
# those commits instead of upstream's.
build_mirror_repos() {
  local kind dest url commit paths repo
  while read -r kind dest url commit paths; do
    if [ "$kind" != repo ]; then
      echo "$kind $dest $url $commit $paths"
      continue
    fi
    repo=$(mirror_path "$url")
    git init --quiet --bare "$repo"
    git --git-dir="$repo" config uploadpack.allowFilter true
    git -C "$data/$dest" --git-dir="$repo" --work-tree=. add --all -- . ':!SOURCE.txt'
    git -C "$data/$dest" --git-dir="$repo" --work-tree=. -c user.name=test -c user.email=test@ruledex.invalid \
      commit --quiet -m copy
    echo "repo $dest $url $(git --git-dir="$repo" rev-parse HEAD) $paths"
  done <"$manifest" >"$work/mirror.manifest"
}

# The single files and bundles at their raw URLs. The ICS bundle is served with a byte appended
# and its git blob id in the manifest, to stand for the upstream form of a bundle.
build_mirror_files() {
  local kind dest url commit path target
  while read -r kind dest url commit _ path; do
    case $kind in
      file)
        target=$(mirror_path "${url/github.com/raw.githubusercontent.com}/$commit/$path")
        mkdir -p "$(dirname "$target")"
        cp "$data/$dest/$path" "$target"
        ;;
      bundle)
        target=$(mirror_path "$url")
        mkdir -p "$(dirname "$target")"
        cp "$data/$dest" "$target"
        if [ "$dest" = attack/ics-attack.json ]; then
          echo >>"$target"
          sed -i "s|^bundle $dest $url [0-9a-f]* |bundle $dest $url $(git hash-object "$target") |" \
            "$work/mirror.manifest"
        fi
        ;;
    esac
  done <"$manifest"
}

# The fetched cache holds exactly the copy's files.
same_as_copy() { # cache
  local dest
  while read -r dest; do
    diff -r --exclude=SOURCE.txt "$data/$dest" "$1/$dest" >&2 || return 1
  done < <(awk '$1 == "repo" || $1 == "file" { print $2 }' "$manifest" | sort -u)
  cmp "$data/attack/enterprise-attack.json" "$1/attack/enterprise-attack.json" &&
    cmp "$data/attack/mobile-attack.json" "$1/attack/mobile-attack.json" &&
    cmp "$(mirror_path "$(awk '$2 == "attack/ics-attack.json" { print $3 }' "$manifest")")" \
      "$1/attack/ics-attack.json"
}

fetched() { # name
  contains "$output" "fetching $1 "
}

echo "building a mirror of $data in $work" >&2
mkdir -p "$mirror"
build_mirror_repos
build_mirror_files
export RULEDEX_TEST_DATA_MANIFEST=$work/mirror.manifest
cache=$work/cache

RULEDEX_TEST_DATA_UPSTREAM=file://$mirror/ run fetch "$cache"
expect "a fetch into an empty cache succeeds" test "$status" -eq 0
expect "the fetched cache holds the files of the copy" same_as_copy "$cache"
expect "no partial folder is left" test ! -e "$cache/.partial"
run check "$cache"
expect "check accepts the fetched cache" test "$status" -eq 0

RULEDEX_TEST_DATA_UPSTREAM=$unreachable run fetch "$cache"
expect "a complete cache is reused, upstream unreachable" test "$status" -eq 0
expect "a complete cache fetches nothing" test "$(grep -c fetching <<<"$output")" -eq 0

sed -i 's/^commit: .*/commit: 0000000000000000000000000000000000000000/' "$cache/corpus/sigma/SOURCE.txt"
run check "$cache"
expect "check fails on a stale corpus" test "$status" -eq 1
expect "check names the stale corpus and both commits" \
  contains "$output" "corpus/sigma: holds commit 0000000000000000000000000000000000000000, the manifest says"
rm "$cache/corpus/chronicle-detection-rules/SOURCE.txt"
rm "$cache/corpus-extra/azure-sentinel/Detections/SecurityEvent/RDP_Nesting.yaml"
mkdir -p "$cache/.partial/repo.cut-off"
RULEDEX_TEST_DATA_UPSTREAM=file://$mirror/ run fetch "$cache"
expect "stale and incomplete pieces are fetched again" test "$status" -eq 0
expect "the stale corpus is fetched again" fetched corpus/sigma
expect "a corpus without SOURCE.txt is fetched again" fetched corpus/chronicle-detection-rules
expect "a file set missing a file is fetched again" fetched corpus-extra/azure-sentinel
expect "nothing else is fetched" test "$(grep -c fetching <<<"$output")" -eq 3
expect "the cache holds the files of the copy again" same_as_copy "$cache"
expect "the leftover partial folder is gone" test ! -e "$cache/.partial"

# A manifest of the Sentinel files alone, the third with another hash.
zeros=0000000000000000000000000000000000000000000000000000000000000000
grep '^file corpus-extra/azure-sentinel ' "$work/mirror.manifest" |
  sed "3s/ [0-9a-f]\{64\} / $zeros /" >"$work/bad-hash.manifest"
bad_path=$(sed -n 3p "$work/bad-hash.manifest" | cut -d' ' -f6-)
good_hash=$(sha256sum "$data/corpus-extra/azure-sentinel/$bad_path" | cut -d' ' -f1)
RULEDEX_TEST_DATA_MANIFEST=$work/bad-hash.manifest RULEDEX_TEST_DATA_UPSTREAM=file://$mirror/ \
  run fetch "$work/bad-hash"
expect "a download with another hash fails" test "$status" -eq 1
expect "the failure names the download and both hashes" \
  contains "$output" "has sha256 $good_hash, the manifest says $zeros"
expect "a failed file set leaves nothing behind" test ! -e "$work/bad-hash/corpus-extra/azure-sentinel"
expect "a failed fetch leaves no partial folder" test ! -e "$work/bad-hash/.partial"

# A folder made by hand, holding a stale corpus: filled in, never overwritten.
grep '^repo corpus/chronicle-detection-rules ' "$work/mirror.manifest" >"$work/one-corpus.manifest"
mkdir -p "$work/by-hand/corpus/chronicle-detection-rules"
echo "commit: 1111111111111111111111111111111111111111" >"$work/by-hand/corpus/chronicle-detection-rules/SOURCE.txt"
RULEDEX_TEST_DATA_MANIFEST=$work/one-corpus.manifest RULEDEX_TEST_DATA_UPSTREAM=file://$mirror/ \
  run fetch "$work/by-hand"
expect "a folder not made by the script is not overwritten" test "$status" -eq 1
expect "the refusal says why" contains "$output" "was not made by scripts/test-data.sh"
expect "the stale piece is left as it was" \
  grep -q 1111111111111111111111111111111111111111 "$work/by-hand/corpus/chronicle-detection-rules/SOURCE.txt"

# Offline, with the real manifest: the message a fresh clone without a network shows.
started=$SECONDS
RULEDEX_TEST_DATA_MANIFEST=$manifest RULEDEX_TEST_DATA_UPSTREAM=$unreachable run fetch "$work/offline"
expect "offline, the fetch fails" test "$status" -eq 1
expect "offline, it gives up after the first failure" test $((SECONDS - started)) -lt 30
expect "offline, the message names the failed fetch" contains "$output" "git fetch of commit"
while read -r kind dest url commit _; do
  case $kind in
    repo)
      expect "offline, the message names $dest, its repository and commit" \
        contains "$output" "$dest: $url at commit $commit"
      ;;
    bundle) expect "offline, the message names $dest and its URL" contains "$output" "$dest: $url" ;;
  esac
done <"$manifest"
expect "offline, the message names the single files" contains "$output" \
  "corpus-extra/azure-sentinel: $(grep -c '^file corpus-extra/azure-sentinel ' "$manifest") single files"
expect "offline, the message offers ../shared" contains "$output" "beside the checkout as ../shared"
expect "offline, the message offers RULEDEX_TEST_DATA" contains "$output" "set RULEDEX_TEST_DATA"
expect "offline, no data is left behind" \
  test -z "$(find "$work/offline" -mindepth 1 -maxdepth 1 ! -name .ruledex-test-data ! -name .lock)"

RULEDEX_TEST_DATA_MANIFEST=$manifest run check "$data"
expect "the manifest matches the copy it was derived from" test "$status" -eq 0

if [ "$failures" -gt 0 ]; then
  echo "$failures checks failed" >&2
  exit 1
fi
echo "all checks passed"
