#!/usr/bin/env bash
# Installs everything the build and the tests need on a fresh Debian 12 machine (as root):
# the Debian packages listed in scripts/host-packages/*.txt, then the npm dependencies.
# Idempotent and quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "setup-host: run as root (it installs Debian packages)" >&2; exit 1; fi

# Node.js and npm only if the machine has none (a NodeSource nodejs already bundles npm).
if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

mapfile -t wanted < <(cat scripts/host-packages/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-host: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# nginx from the package starts a system service on :80; the benchmark runs its own instance.
if systemctl is-active --quiet nginx 2>/dev/null; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi

# npm dependencies (Bun arrives with them). Reinstall only when the lock file changed.
stamp=node_modules/.iotbox-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/bun ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
