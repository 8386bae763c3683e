#!/bin/sh
# mmdebstrap --essential-hook, run on the host with $1 = the new root, after the Essential
# packages and before the listed ones. Makes the install run mkinitramfs ZERO times: every
# kernel/initramfs-tools trigger would otherwise rebuild the initramfs under qemu-user (about
# 4 minutes each). customize.sh restores the real update-initramfs and runs it once.
set -eu
root=$1
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.iotbox-real \
  --add /usr/sbin/update-initramfs
mkdir -p "$root/usr/sbin"
printf '#!/bin/sh\n# iotbox image build: deferred until the end of the install\nexit 0\n' \
  > "$root/usr/sbin/update-initramfs"
chmod 755 "$root/usr/sbin/update-initramfs"
# initramfs: zstd, every module a Pi (or the QEMU test machine) could boot from
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=most\nCOMPRESS=zstd\n' > "$root/etc/initramfs-tools/conf.d/iotbox.conf"
