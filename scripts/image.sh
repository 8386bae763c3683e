#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine, as root, installs the host tools
# (scripts/host-packages/*.txt, npm dependencies with Bun) and builds the SD-card image into out/.
# The slow base root filesystem is cached in /var/cache/iotbox-image (see scripts/image/base.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
start=$(date +%s)
bash scripts/image/build.sh "$@"
echo "image: built in $(( $(date +%s) - start )) s; see out/"
