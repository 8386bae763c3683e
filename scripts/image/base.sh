#!/usr/bin/env bash
# Builds (or reuses) the cached base root filesystem: Debian arm64 with the packages of
# image/packages.txt, the initramfs built once, docs/man/locales and foreign kernel modules
# never installed. Cached OUTSIDE the clone as $IMAGE_CACHE/base-<key>.tar, where <key> hashes
# every input (see base_key), so CI on this machine and later rebuilds reuse it.
# Prints the tarball's path on stdout. Cold: ~15-20 min under qemu-user; warm: instant.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/scripts/image/lib.sh"
. "$repo/image/base.conf"

key=$(base_key "$repo")
tarball=$IMAGE_CACHE/base-$key.tar
mkdir -p "$IMAGE_CACHE"
exec 9>"$IMAGE_CACHE/base.lock"
flock 9   # one base build at a time; a second caller waits and then reuses it
if [ -s "$tarball" ]; then log "base root filesystem: cached ($tarball)"; echo "$tarball"; exit 0; fi

ensure_binfmt
log "base root filesystem: building $tarball (slow: mmdebstrap under qemu-user)"
include=$(sed 's/#.*//' "$repo/image/packages.txt" | tr -s ' \t' '\n' | grep -v '^$' | sort -u | paste -sd,)
dpkgopts=()
while read -r kind pattern; do
  case $kind in
    exclude) dpkgopts+=("--dpkgopt=path-exclude=$pattern") ;;
    include) dpkgopts+=("--dpkgopt=path-include=$pattern") ;;
  esac
done < <(sed 's/#.*//' "$repo/image/dpkg-excludes.txt" | grep -v '^ *$')

start=$(date +%s)
tmp=$tarball.tmp.$$
trap 'rm -f "$tmp"' EXIT
SOURCE_DATE_EPOCH=$BASE_SOURCE_DATE_EPOCH mmdebstrap \
  --arch="$ARCH" --variant="$VARIANT" --components="$COMPONENTS" \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='Acquire::Languages "none"' \
  "${dpkgopts[@]}" \
  --include="$include" \
  --essential-hook="sh '$repo/image/hooks/essential.sh' \"\$1\"" \
  --customize-hook="sh '$repo/image/hooks/customize.sh' \"\$1\"" \
  --format=tar \
  "$SUITE" "$tmp" \
  "deb $MIRROR $SUITE $COMPONENTS" \
  "deb $MIRROR $SUITE-updates $COMPONENTS" \
  "deb $SECURITY_MIRROR $SUITE-security $COMPONENTS"
mv "$tmp" "$tarball"
trap - EXIT
log "base root filesystem: built in $(( $(date +%s) - start )) s"
echo "$(( $(date +%s) - start ))" > "$tarball.build-seconds"
echo "$tarball"
