#!/usr/bin/env bash
# The image stage of scripts/test.sh (exit 0 = pass): builds the SD-card image (the base root
# filesystem comes from /var/cache/iotbox-image when its inputs did not change), then boots the
# image file in qemu-system-aarch64 and checks the box end to end (scripts/image/boot.test.ts)
# and the build's outputs (scripts/image/outputs.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test-image: run as root (the image build needs it)" >&2; exit 1; }
# --no-build: the image in out/ was just built (scripts/test.sh builds it alongside the unit tests)
[ "${1:-}" = --no-build ] || bash scripts/image/build.sh
exec node_modules/.bin/bun test --timeout 1800000 ./scripts/image/
