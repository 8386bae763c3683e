#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then runs every stage.
# Prints one closing line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"

pass=0; fail=0; rc=0
run_stage() { # name, command... (a command that runs `bun test` and prints its counts)
  local name=$1; shift
  echo "=== stage: $name"
  local log; log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  local st=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '^ *[0-9]+ pass' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '^ *[0-9]+ fail' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  pass=$((pass + p)); fail=$((fail + f))
  if [ "$st" != 0 ]; then rc=1; [ "$f" = 0 ] && fail=$((fail + 1)); fi
  rm -f "$log"
}

# The SD-card image is built in the background while the type check and the unit tests run (the
# build, ~25 min when its base root filesystem is not cached, is mostly one core of package
# configuration under emulation and downloads; the unit tests leave room for it). The QEMU boots
# run afterwards, alone: they are the timing-sensitive part.
build_log=$(mktemp)
[ "$(id -u)" = 0 ] && { bash scripts/image/build.sh > "$build_log" 2>&1; echo $? > "$build_log.rc"; } &
build_pid=$!

echo "=== stage: typecheck (tsc --noEmit, strict)"
if tsc --noEmit -p .; then pass=$((pass + 1)); else fail=$((fail + 1)); rc=1; fi

run_stage "runtime, service, diagnostics, terminals" bun test --timeout 120000 ./src ./test ./provisioner
# The SD-card image: built (base root filesystem cached in /var/cache/iotbox-image), then booted in QEMU.
wait "$build_pid"
echo "=== image build (ran alongside the stages above)"
cat "$build_log"
if [ "$(cat "$build_log.rc" 2>/dev/null)" = 0 ]; then
  run_stage "image" bash scripts/test-image.sh --no-build
else
  echo "image build failed (exit $(cat "$build_log.rc" 2>/dev/null || echo '?'); test-image.sh needs root)"
  fail=$((fail + 1)); rc=1
fi
rm -f "$build_log" "$build_log.rc"

echo "tests: $pass passed, $fail failed"
exit $rc
