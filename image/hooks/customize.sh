#!/bin/sh
# mmdebstrap --customize-hook, run on the host with $1 = the finished root: restore the real
# update-initramfs, build the initramfs ONCE (the raspi-firmware hook then copies kernel,
# initrd and device trees to /boot/firmware), and drop what the image never needs.
set -eu
root=$1
rm -f "$root/usr/sbin/update-initramfs"
chroot "$root" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.iotbox-real \
  --remove /usr/sbin/update-initramfs
for k in "$root"/boot/vmlinuz-*; do
  v=${k##*/vmlinuz-}
  echo "customize: mkinitramfs for $v (once)"
  chroot "$root" update-initramfs -c -k "$v"
done
# kernel and initrd must have reached the boot partition's folder
ls "$root"/boot/firmware/vmlinuz* "$root"/boot/firmware/initrd.img* >/dev/null
# apt's downloaded lists and archives, logs and caches: rebuilt on a device that never runs apt
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/*
