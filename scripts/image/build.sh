#!/usr/bin/env bash
# Assembles the SD-card image from the cached base root filesystem, the overlay tree and the
# compiled runtime, without loop mounts (mkfs.ext4 -d, mkfs.vfat + mcopy, sfdisk on a file).
# Outputs in out/: iotbox-<version>-arm64.img, .img.xz, .sha256, .packages.txt, os_list JSON, and
# the update bundle iotbox-<version>-arm64.raucb (RAUC, signed with the vendor's key).
# Usage: scripts/image/build.sh   (as root; scripts/image.sh installs the host tools first)
# Env: IOTBOX_XZ_LEVEL (default 1: ~50 s here; 6-9 compress ~10 % better in 3-5x the time), IOTBOX_IMAGE_URL_BASE (download URL prefix in the Imager
#      file, default: the bare file name), IOTBOX_SKIP_XZ=1 (tests: no .xz, no Imager file),
#      IOTBOX_VENDOR_CERT + IOTBOX_VENDOR_KEY (the vendor's update-signing certificate and key, a
#      PKCS#11 URI for the key works too; default: a test vendor made once in $IMAGE_CACHE/vendor-test).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. scripts/image/lib.sh
. image/layout.conf
t0=$(date +%s%N)
step() { local ms=$(( ($(date +%s%N) - t0) / 1000000 )); log "$1 ($((ms / 1000)).$((ms % 1000 / 100)) s)"; }

[ "$(id -u)" = 0 ] || die "run as root (file ownership inside the image)"

# 1. the base root filesystem (cached by the hash of its inputs; ~20 min when cold)
cold=true; [ -s "$IMAGE_CACHE/base-$(base_key "$repo").tar" ] && cold=false
base=$(bash scripts/image/base.sh)
step "base ready: $base"

# 2. the runtime, cross-compiled for arm64 (never run here: an arm64 Bun crashes under qemu-user)
node_modules/.bin/bun scripts/build.ts --only iotbox-linux-arm64 >&2
[ -x dist/iotbox-linux-arm64 ] || die "dist/iotbox-linux-arm64 was not built"
version=$(cat dist/VERSION)
[[ $version =~ ^[0-9A-Za-z.+~-]+$ ]] || die "unexpected version '$version'"
name=iotbox-$version-arm64
# Reproducibility: every file time is clamped to the commit's time
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 1767225600)}
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
vol_id=$(printf '%s' "$version/boot" | sha256sum | cut -c1-8)   # FAT volume id and MBR disk id
step "runtime built: $version"

# the vendor's update-signing certificate: its certificate is the box's RAUC keyring
if [ -n "${IOTBOX_VENDOR_CERT:-}" ]; then
  vendor_cert=$IOTBOX_VENDOR_CERT vendor_key=${IOTBOX_VENDOR_KEY:?IOTBOX_VENDOR_KEY with IOTBOX_VENDOR_CERT}
else
  vendor_cert=$IMAGE_CACHE/vendor-test/cert.pem vendor_key=$IMAGE_CACHE/vendor-test/key.pem
  if [ ! -s "$vendor_cert" ]; then
    mkdir -p "$IMAGE_CACHE/vendor-test"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/O=iotbox test vendor/CN=iotbox test update signing (NOT for production)" \
      -keyout "$vendor_key" -out "$vendor_cert" 2>/dev/null
    log "made a test vendor key: $vendor_cert (bundles signed with it install only on images built here)"
  fi
fi

# 3. the trees: root (read-only /), data (/var), boot (FAT)
mkdir -p "$IMAGE_CACHE"
work=$(mktemp -d "$IMAGE_CACHE/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root data=$work/data boot=$work/boot
mkdir -p "$root"
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"
step "base extracted"
tar -C overlay --owner=0 --group=0 --numeric-owner -cf - . | tar -C "$root" --numeric-owner -xpf -
install -D -m 0755 dist/iotbox-linux-arm64 "$root/usr/lib/iotbox/iotbox"
# /usr/bin/iotbox (overlay): a wrapper with the service's extra CA, for the command line
[ -x "$root/usr/bin/iotbox" ] || die "overlay/usr/bin/iotbox is missing"
echo "$version" > "$root/usr/lib/iotbox/VERSION"
install -D -m 0644 "$vendor_cert" "$root/etc/rauc/vendor-keyring.pem"
printf 'IOTBOX_VERSION=%s\nIOTBOX_BUILD_EPOCH=%s\n' "$version" "$SOURCE_DATE_EPOCH" > "$root/etc/iotbox-release"

# identity: nothing box-specific in the image; it is all created on first boot on the data partition
rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/machine-id" "$root/etc/hostname" "$root/etc/localtime"
ln -s /var/lib/iotbox-os/machine-id "$root/etc/machine-id"
ln -s /var/lib/iotbox-os/hostname "$root/etc/hostname"
ln -s /var/lib/iotbox-os/localtime "$root/etc/localtime"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
rm -f "$root/var/lib/systemd/random-seed" "$root/var/lib/systemd/credential.secret"
mkdir -p "$root/var/lib/dbus" && ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
# no password anywhere: root locked, no other login account
sed -i -E 's/^root:[^:]*:/root:*:/' "$root/etc/shadow"
# units the appliance does not need (apt never runs on the box; no interactive first-boot prompts;
# no debug/tracing/hugepage/fuse/configfs mounts: each costs boot time under emulation and on a Pi)
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
  systemd-firstboot.service systemd-machine-id-commit.service modprobe@.service \
  dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
  sys-fs-fuse-connections.mount sys-kernel-config.mount systemd-pstore.service \
  systemd-update-utmp.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
  dpkg-db-backup.timer systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-repart.service; do
  ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
# generators for what the box does not have (encrypted/verity/integrity volumes, GPT partition
# discovery, hibernation, SysV init scripts, rc.local, offline updates): each runs at every
# boot before any unit starts. Kept: fstab, getty, debug and run (Imager's systemd.run=).
mkdir -p "$root/etc/systemd/system-generators"
for g in systemd-cryptsetup-generator systemd-veritysetup-generator systemd-integritysetup-generator \
  systemd-gpt-auto-generator systemd-hibernate-resume-generator systemd-sysv-generator \
  systemd-rc-local-generator systemd-system-update-generator; do
  ln -sfn /dev/null "$root/etc/systemd/system-generators/$g"
done
# the boot partition's contents
mv "$root/boot/firmware" "$boot"
# what the box never needs (image/remove.txt), then the module index for what is left
# (host depmod: it reads the arm64 modules without running them)
(
  cd "$root"
  shopt -s nullglob
  sed 's/#.*//' "$repo/image/remove.txt" | while read -r pattern; do
    [ -n "$pattern" ] || continue
    for path in $pattern; do rm -rf -- "./$path"; done
  done
)
for kdir in "$root"/usr/lib/modules/*; do depmod -b "$root" "${kdir##*/}"; done
mkdir -p "$root/boot/firmware"
kernel=$(cd "$boot" && ls vmlinuz-* | sort -V | tail -n 1)
initrd=$(cd "$boot" && ls initrd.img-* | sort -V | tail -n 1)
[ -n "$kernel" ] && [ -n "$initrd" ] || die "no kernel/initrd in the base's /boot/firmware"
# A system slot's kernel, initrd and device trees travel inside its root file system
# (/usr/lib/iotbox/boot/, fixed names: config.txt stays the same across kernel versions), so
# that an update brings its own; slot A's copy is on the boot partition in slot-a/ (os_prefix).
# The Pi firmware files (bootcode.bin, start*.elf, fixup*.dat) stay at the top, shared.
slotboot=$root/usr/lib/iotbox/boot
mkdir -p "$slotboot"
mv "$boot/$kernel" "$slotboot/vmlinuz"
mv "$boot/$initrd" "$slotboot/initrd.img"
mv "$boot"/*.dtb "$slotboot/"
if [ -d "$boot/overlays" ]; then mv "$boot/overlays" "$slotboot/"; fi
rm -f "$boot"/vmlinuz-* "$boot"/initrd.img-*
echo "$kernel" > "$slotboot/KERNEL"
cp image/boot/config.txt "$boot/config.txt"
cp image/boot/cmdline.txt "$boot/cmdline.txt"
mkdir "$boot/slot-a"
cp -r "$slotboot/." "$boot/slot-a/"
IOTBOX_BOOT_DIR=$boot IOTBOX_PARTUUID=$vol_id-02 sh overlay/usr/lib/iotbox/slot-cmdline write A
# /var becomes the data partition
mv "$root/var" "$data"
mkdir -p "$root/var"
install -d -m 0700 "$data/lib/iotbox" "$data/lib/NetworkManager/system-connections"
install -d -m 0755 "$data/lib/iotbox-os" "$data/log/journal"
install -d -m 0700 "$data/lib/rauc"
step "trees assembled"

# 4. the package list (read natively from the dpkg database)
mkdir -p out
rm -f out/iotbox-*-arm64.*
dpkg-query --admindir="$data/lib/dpkg" -W -f '${Package}\t${Version}\t${Architecture}\n' | LC_ALL=C sort \
  > "out/$name.packages.txt"

# 5. file systems, built from folders
find "$root" "$data" "$boot" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
uuid_of() { local h; h=$(printf '%s' "$version/$1" | sha256sum); echo "${h:0:8}-${h:8:4}-4${h:13:3}-a${h:17:3}-${h:20:12}"; }
mib_of_dir() { du -s --block-size=1M --apparent-size "$1" | cut -f1; }
root_used=$(mib_of_dir "$root")
headroom=$(( root_used * ROOT_HEADROOM_PERCENT / 100 ))
[ "$headroom" -ge "$ROOT_HEADROOM_MIN_MIB" ] || headroom=$ROOT_HEADROOM_MIN_MIB
root_mib=$(( (root_used + headroom + ALIGN_MIB - 1) / ALIGN_MIB * ALIGN_MIB ))
mkfs.ext4 -q -F -L "$ROOT_LABEL" -U "$(uuid_of root)" -E "hash_seed=$(uuid_of root-hash),root_owner=0:0" \
  -O ^has_journal -m 0 -T default -d "$root" "$work/root.img" "${root_mib}M"
mkfs.ext4 -q -F -L "$DATA_LABEL" -U "$(uuid_of data)" -E "hash_seed=$(uuid_of data-hash),root_owner=0:0" \
  -m 0 -T default -d "$data" "$work/data.img" "${DATA_MIB}M"
# mke2fs -d (e2fsprogs 1.47.0) copies each file's change and access times from the tree (the
# build's clock: touch cannot set a change time) and stamps creation times with the build's
# clock: set all three to SOURCE_DATE_EPOCH in every inode, in one debugfs run per file system.
clamp_inode_times() { # $1 = file system image, $2 = the tree it was made from
  (cd "$2" && find . -printf '%P\n') | LC_ALL=C sort | while IFS= read -r p; do
    case $p in *'"'*) log "times not clamped (a double quote in the name): $p"; continue ;; esac
    for f in ctime atime crtime; do printf 'sif "/%s" %s @%s\n' "$p" "$f" "$SOURCE_DATE_EPOCH"; done
  done > "$work/debugfs.cmds"
  debugfs -w -f "$work/debugfs.cmds" "$1" >/dev/null 2>"$work/debugfs.err" || die "debugfs on $1 failed: $(tail -n 3 "$work/debugfs.err")"
  if grep -v '^debugfs ' "$work/debugfs.err" | grep -q .; then die "debugfs on $1: $(grep -v '^debugfs ' "$work/debugfs.err" | head -n 3)"; fi
}
clamp_inode_times "$work/root.img" "$root"
clamp_inode_times "$work/data.img" "$data"
[ "$root_mib" -le "$ROOT_SLOT_MIB" ] || die "the root file system (${root_mib} MiB) does not fit a slot (${ROOT_SLOT_MIB} MiB): raise ROOT_SLOT_MIB"
mkfs.vfat -F 32 -n "$BOOT_LABEL" -i "$vol_id" --invariant -h $((ALIGN_MIB * 2048)) -C "$work/boot.img" $((BOOT_MIB * 1024)) >/dev/null
(cd "$boot" && LC_ALL=C ls -A | sort | while read -r f; do mcopy -i "$work/boot.img" -s -p -m -Q "$f" ::/; done)
step "file systems made (root ${root_used} MiB used, partition ${root_mib} MiB)"

# 6. the card: MBR, FAT first
a=$((ALIGN_MIB * 2048))
boot_start=$a;                         boot_size=$((BOOT_MIB * 2048))
root_start=$((boot_start + boot_size)); root_size=$((ROOT_SLOT_MIB * 2048))
rootb_start=$((root_start + root_size))
data_start=$((rootb_start + root_size)); data_size=$((DATA_MIB * 2048))
total=$((data_start + data_size))
img=out/$name.img
truncate -s $((total * 512)) "$img.tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$img.tmp" <<EOF
label: dos
label-id: 0x${vol_id}
unit: sectors
start=$boot_start, size=$boot_size, type=c, bootable
start=$root_start, size=$root_size, type=83
start=$rootb_start, size=$root_size, type=83
start=$data_start, size=$data_size, type=83
EOF
dd if="$work/boot.img" of="$img.tmp" bs=1M seek=$((boot_start / 2048)) conv=notrunc,sparse status=none
dd if="$work/root.img" of="$img.tmp" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none
dd if="$work/data.img" of="$img.tmp" bs=1M seek=$((data_start / 2048)) conv=notrunc,sparse status=none
mv "$img.tmp" "$img"
step "image assembled: $img ($((total / 2048)) MiB)"

# 6b. the update bundle for the same version: slot A's root file system, signed (RAUC, "plain"
# format: the signature covers the whole bundle and the box checks it before writing a byte; the
# "verity" format, needed for adaptive updates that fetch only changed blocks, checks each block
# as it is read, i.e. a tampered block is found while the slot is being written)
mkdir "$work/bundle"
ln "$work/root.img" "$work/bundle/rootfs.ext4"
printf '%s\n' "[update]" "compatible=iotbox-raspberrypi-arm64" "version=$version" "description=iotbox $version" \
  "build=$SOURCE_DATE_EPOCH" "" "[bundle]" "format=plain" "" "[image.rootfs]" "filename=rootfs.ext4" > "$work/bundle/manifest.raucm"
# (mksquashfs takes every time in the bundle from SOURCE_DATE_EPOCH)
rauc bundle --cert="$vendor_cert" --key="$vendor_key" --keyring="$vendor_cert" \
  --mksquashfs-args="-comp zstd -Xcompression-level 15" \
  "$work/bundle" "out/$name.raucb" >/dev/null
step "bundle signed: out/$name.raucb ($(( $(stat -c %s "out/$name.raucb") / 1048576 )) MiB)"

# 7. compressed copy, checksums, Raspberry Pi Imager repository file
record() { # one line per build in $IMAGE_CACHE/build-times.jsonl (read by bench/image.ts)
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '{"at":"%s","version":"%s","cold":%s,"base_seconds":%s,"total_seconds":%s.%03d,"xz":%s}\n' \
    "$(date -u +%FT%TZ)" "$version" "$cold" "$(cat "$base.build-seconds" 2>/dev/null || echo null)" \
    $((ms / 1000)) $((ms % 1000)) "$1" >> "$IMAGE_CACHE/build-times.jsonl"
}
if [ "${IOTBOX_SKIP_XZ:-}" = 1 ]; then
  (cd out && sha256sum "$name.img" "$name.raucb" > "$name.sha256")
  record false
  step "done (no .xz: IOTBOX_SKIP_XZ=1)"
  exit 0
fi
xz -T0 "-${IOTBOX_XZ_LEVEL:-1}" -k -f -c "$img" > "$img.xz.tmp" && mv "$img.xz.tmp" "$img.xz"
(cd out && sha256sum "$name.img" "$name.img.xz" "$name.raucb" > "$name.sha256")
step "compressed: $img.xz"
node_modules/.bin/bun scripts/image/os-list.ts "$img" "$img.xz" "$version" "$SOURCE_DATE_EPOCH" \
  > "out/$name.os_list.json"
record true
step "done: out/$name.{img,img.xz,sha256,packages.txt,os_list.json}"
