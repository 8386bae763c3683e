#!/bin/sh
# Raspberry Pi Imager OS customisation, "systemd" flavour (init_format "systemd" in our Imager
# repository file). Imager writes its firstrun.sh on the FAT partition and appends
#   systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target
# to cmdline.txt, assuming the FAT partition is mounted on /boot. Ours is on /boot/firmware and the
# root file system is read-only, so this file (in the root file system) stands in: it runs Imager's
# script from /boot/firmware. The script calls /usr/lib/raspberrypi-sys-mods/imager_custom, which
# is our implementation writing to the data partition. Then, as Imager's script would, it deletes
# the script and the systemd.run arguments from cmdline.txt, and systemd reboots into the box.
set -u
boot=/boot/firmware
if [ -f "$boot/firstrun.sh" ]; then
  echo "firstrun: running Raspberry Pi Imager's customisation"
  # Its user/password lines fail on the read-only root: the box has no login password.
  bash "$boot/firstrun.sh" || echo "firstrun: Imager's script exited with $?"
  rm -f "$boot/firstrun.sh"
  echo "$(date -u +%FT%TZ) applied Raspberry Pi Imager's customisation (firstrun.sh)" >> /var/lib/iotbox-os/firstboot.log
fi
if grep -q ' systemd.run' "$boot/cmdline.txt"; then
  sed 's| systemd.run.*||' "$boot/cmdline.txt" > "$boot/cmdline.txt.new" && sync && mv "$boot/cmdline.txt.new" "$boot/cmdline.txt"
fi
# the booted slot's own command line (the one the firmware reads, slot-x/cmdline.txt) follows
# the shared one: without systemd.run=, with Imager's Wi-Fi country
booted=$(sed -n 's/.*\brauc\.slot=\([AB]\)\b.*/\1/p' /proc/cmdline)
[ -z "$booted" ] || /usr/lib/iotbox/slot-cmdline write "$booted" || :
sync
exit 0
