# Shared helpers of the image build (sourced).
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
IMAGE_CACHE=${IOTBOX_IMAGE_CACHE:-/var/cache/iotbox-image}
log() { printf '[image %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'image: %s\n' "$*" >&2; exit 1; }

# The base root filesystem's cache key: a hash of every input that changes its contents.
base_key() {
  local repo=$1
  (cd "$repo" && cat image/packages.txt image/base.conf image/dpkg-excludes.txt image/hooks/*.sh \
    scripts/image/base.sh) | sha256sum | cut -c1-16
}

# qemu-user for arm64 maintainer scripts (binfmt_misc may not be mounted on a fresh machine)
ensure_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64
  fi
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || die "binfmt for qemu-aarch64 is not registered"
}
