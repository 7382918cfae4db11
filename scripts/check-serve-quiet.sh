#!/usr/bin/env bash
# Checks that `trunk serve` (what scripts/run.sh ends in) stays quiet once built: after its
# first build, no rebuild for QUIET_SECS seconds (default 60) with nothing edited. It serves
# with an atlas in the cache, as run.sh does, so the build links it into the site.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

QUIET_SECS="${QUIET_SECS:-60}"
PORT="${PORT:-8093}"
work="$(mktemp -d)"
mkdir -p "$work/cache/atlas"
cp -r core/tests/fixtures/atlas/v1.0 "$work/cache/atlas/default"

step "Serving with trunk until the first build is done (minutes when nothing is built yet)"
# Into dist/ as run.sh serves (a dist/ elsewhere would hide what the watcher sees).
MICROSCOPE_CACHE="$work/cache" trunk serve --release --port "$PORT" >"$work/trunk.log" 2>&1 &
trunk_pid=$!
cleanup() {
  kill "$trunk_pid" 2>/dev/null || true
  wait "$trunk_pid" 2>/dev/null || true
  # The build linked the temporary atlas into dist/: drop that link with the atlas.
  if [ -L dist/atlas ] && [ "$(readlink dist/atlas)" = "$work/cache/atlas/default" ]; then
    rm dist/atlas
  fi
  rm -rf "$work"
}
trap cleanup EXIT

builds() { grep -c "starting build" "$work/trunk.log" || true; }
until grep -q "success" "$work/trunk.log"; do
  if ! kill -0 "$trunk_pid" 2>/dev/null; then
    cat "$work/trunk.log"; echo "trunk serve stopped before its first build finished" >&2; exit 1
  fi
  sleep 2
done
first="$(builds)"
elapsed

step "Watching for ${QUIET_SECS}s: any rebuild fails the check"
sleep "$QUIET_SECS"
now="$(builds)"
if [ "$now" -ne "$first" ]; then
  tail -n 40 "$work/trunk.log"
  echo "FAIL: $((now - first)) rebuild(s) in ${QUIET_SECS}s after the first build, with nothing edited" >&2
  exit 1
fi
echo "OK: no rebuild in ${QUIET_SECS}s after the first build"
