// The QEMU harness's stand-in for the Pi firmware (firmware.ts), checked against the firmware's
// documented behaviour with plain values: no QEMU here.
import { expect, test } from "bun:test";
import { chooseBoot, parseConfig, rebootArgument, setsTryboot } from "./firmware";

const files = (m: Record<string, string>) => (name: string) => m[name] ?? null;
const slot = (p: string) => `arm_64bit=1\nupstream_kernel=1\nos_prefix=${p}\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n`;

test("one slot, no os_prefix: config.txt's kernel, initramfs, cmdline.txt and the Pi 3 B's mainline DTB", () => {
  const c = chooseBoot(files({ "config.txt": "kernel=vmlinuz-6.1\ninitramfs initrd.img-6.1 followkernel\n" }), { tryboot: false, board: "pi3" });
  expect(c).toEqual({ configFile: "config.txt", osPrefix: "", kernel: "vmlinuz-6.1", initramfs: "initrd.img-6.1",
    cmdlineFile: "cmdline.txt", dtb: "bcm2837-rpi-3-b.dtb" });
});

test("os_prefix is prepended to kernel, initramfs, cmdline.txt and the DTB", () => {
  const c = chooseBoot(files({ "config.txt": slot("slot-a/") }), { tryboot: false, board: "pi4" });
  expect([c.kernel, c.initramfs, c.cmdlineFile, c.dtb]).toEqual(["slot-a/vmlinuz", "slot-a/initrd.img", "slot-a/cmdline.txt", "slot-a/bcm2711-rpi-4-b.dtb"]);
});

test("the tryboot flag reads tryboot.txt; without the flag, or without the file, config.txt", () => {
  const card = files({ "config.txt": slot("slot-a/"), "tryboot.txt": slot("slot-b/") });
  expect(chooseBoot(card, { tryboot: true, board: "pi3" })).toMatchObject({ configFile: "tryboot.txt", osPrefix: "slot-b/" });
  expect(chooseBoot(card, { tryboot: false, board: "pi3" })).toMatchObject({ configFile: "config.txt", osPrefix: "slot-a/" });
  expect(chooseBoot(files({ "config.txt": slot("slot-a/") }), { tryboot: true, board: "pi3" }).configFile).toBe("config.txt");
});

test("sections: [all], the board's own, [tryboot] only on a tryboot boot, [none] never; later lines win", () => {
  const text = "os_prefix=x/\n[pi4]\nos_prefix=four/\n[pi3]\nkernel=k3\n[tryboot]\nkernel=kt\n[none]\nkernel=never\n[all]\ncmdline=c.txt\n";
  expect(Object.fromEntries(parseConfig(text, "pi3", false))).toEqual({ os_prefix: "x/", kernel: "k3", cmdline: "c.txt" });
  expect(parseConfig(text, "pi3", true).get("kernel")).toBe("kt");
  expect(parseConfig(text, "pi4", false).get("os_prefix")).toBe("four/");
});

test("the reboot argument comes from the kernel's console line; only 'tryboot' sets the flag", () => {
  const serial = "…\n[  301.2] reboot: Restarting system with command '0 tryboot'\n";
  expect(rebootArgument(serial)).toBe("0 tryboot");
  expect(setsTryboot(rebootArgument(serial))).toBe(true);
  expect(setsTryboot(rebootArgument("[ 12.0] reboot: Restarting system\n"))).toBe(false);
  expect(setsTryboot(null)).toBe(false);
  expect(setsTryboot("trybootx")).toBe(false);
});
