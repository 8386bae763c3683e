// The part of the Raspberry Pi firmware that QEMU does not play (QEMU loads the kernel itself):
// which configuration file it reads, which files that names, and the one-shot tryboot flag.
// Pure: the caller hands in a reader of the FAT partition. What the firmware documents and
// this follows (raspberrypi.com/documentation, config.txt "Boot options" and "tryboot"):
//   - config.txt is read at every boot; if the tryboot flag is set, tryboot.txt is read instead,
//     once: the flag is cleared before the kernel starts, so a crash, hang (watchdog) or power
//     cut during that boot leads back to config.txt;
//   - the flag is set by a reboot whose argument carries "tryboot" (`reboot "0 tryboot"`); the
//     kernel prints the argument on the console ("reboot: Restarting system with command '…'"),
//     which is how the QEMU harness sees it; a power cut clears it (it lives in RAM);
//   - `os_prefix=` is prepended to the names of the kernel, the initramfs, cmdline.txt and the
//     device trees (a folder when it ends with "/");
//   - `kernel=`, `initramfs <file> followkernel`, `cmdline=` (default cmdline.txt), and for a
//     board with upstream_kernel=1 the mainline device tree name (bcm2837-rpi-3-b.dtb on a Pi 3 B);
//   - sections: `[all]` applies everywhere, `[pi3]`/`[pi4]`/… to that board, `[tryboot]` only
//     on a tryboot boot, `[none]` nowhere. Anything else is ignored here (it changes no file name).

export interface FirmwareChoice {
  /** the configuration file that was read: "config.txt", or "tryboot.txt" on a tryboot boot */
  configFile: string;
  osPrefix: string;
  kernel: string;
  initramfs: string;
  cmdlineFile: string;
  /** the device tree for `board`, prefixed */
  dtb: string;
}

export type Board = "pi3" | "pi4";
const DTB: Record<Board, string> = { pi3: "bcm2837-rpi-3-b.dtb", pi4: "bcm2711-rpi-4-b.dtb" };

/** The settings in effect for `board` (later lines override earlier ones, as in the firmware). */
export function parseConfig(text: string, board: Board, tryboot: boolean): Map<string, string> {
  const out = new Map<string, string>();
  let on = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      const s = section[1]!;
      on = s === "all" || s === board || (s === "tryboot" && tryboot);
      continue;
    }
    if (!on) continue;
    const initramfs = /^initramfs\s+(\S+)/.exec(line);
    if (initramfs) { out.set("initramfs", initramfs[1]!); continue; }
    const kv = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (kv) out.set(kv[1]!, kv[2]!);
  }
  return out;
}

/**
 * What the firmware loads. `read(name)` returns a file of the FAT partition or null. With the
 * tryboot flag set but no tryboot.txt, the firmware reads config.txt.
 */
export function chooseBoot(read: (name: string) => string | null, o: { tryboot: boolean; board: Board }): FirmwareChoice {
  const trybootText = o.tryboot ? read("tryboot.txt") : null;
  const configFile = trybootText !== null ? "tryboot.txt" : "config.txt";
  const text = trybootText ?? read("config.txt");
  if (text === null) throw new Error("no config.txt on the boot partition");
  const c = parseConfig(text, o.board, trybootText !== null);
  const osPrefix = c.get("os_prefix") ?? "";
  const kernel = c.get("kernel");
  const initramfs = c.get("initramfs");
  if (!kernel || !initramfs) throw new Error(`${configFile} names no kernel/initramfs:\n${text}`);
  return {
    configFile, osPrefix,
    kernel: osPrefix + kernel, initramfs: osPrefix + initramfs,
    cmdlineFile: osPrefix + (c.get("cmdline") ?? "cmdline.txt"),
    dtb: osPrefix + DTB[o.board],
  };
}

/** The argument of the guest's last reboot, from the kernel's console line, or null. */
export function rebootArgument(serial: string): string | null {
  const all = [...serial.matchAll(/reboot: Restarting system with command '([^']*)'/g)];
  return all.length ? all.at(-1)![1]! : null;
}

/** Whether the firmware's one-shot tryboot flag is set for the next boot after this reboot. */
export const setsTryboot = (argument: string | null) => argument !== null && /(^|\s)tryboot(\s|$)/.test(argument);
