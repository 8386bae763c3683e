// overlay/usr/lib/iotbox/rauc-bootloader (RAUC's custom bootloader backend) run on the host
// against a fake boot partition and slot folders: which of config.txt / tryboot.txt / slot-x/
// it writes for each call RAUC makes during an install, a commit and a failed trial. The same
// script runs on the box (boot-update.test.ts proves it there, with RAUC and the firmware's part
// played by the QEMU harness).
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const SCRIPT = resolve(import.meta.dir, "../../overlay/usr/lib/iotbox/rauc-bootloader");
const tmp = mkdtempSync("/tmp/iotbox-rauc-bootloader-");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function card(name: string) {
  const dir = join(tmp, name), boot = join(dir, "boot");
  mkdirSync(join(boot, "slot-a"), { recursive: true });
  writeFileSync(join(boot, "config.txt"), "arm_64bit=1\nos_prefix=slot-a/\nkernel=vmlinuz\ninitramfs initrd.img followkernel\n");
  for (const s of ["A", "B"]) { // each slot's root file system, with its boot files
    const b = join(dir, `root-${s}`, "usr/lib/iotbox/boot");
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, "vmlinuz"), `kernel of ${s}`);
    writeFileSync(join(b, "initrd.img"), `initrd of ${s}`);
  }
  writeFileSync(join(boot, "cmdline.txt"), "console=ttyS1,115200 ro quiet init=/usr/lib/iotbox/init\n");
  const run = (booted: string, ...args: string[]) => {
    writeFileSync(join(dir, "cmdline"), `root=PARTUUID=x rauc.slot=${booted} quiet\n`);
    const r = spawnSync("sh", [SCRIPT, ...args], { encoding: "utf8", env: { ...process.env, IOTBOX_BOOT_DIR: boot,
      IOTBOX_CMDLINE: join(dir, "cmdline"), IOTBOX_SLOT_DEVICE_A: join(dir, "root-A"), IOTBOX_SLOT_DEVICE_B: join(dir, "root-B"),
      IOTBOX_PARTUUID: "0badcafe-0X", IOTBOX_SLOT_CMDLINE: resolve(import.meta.dir, "../../overlay/usr/lib/iotbox/slot-cmdline") } });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr };
  };
  const file = (f: string) => (existsSync(join(boot, f)) ? readFileSync(join(boot, f), "utf8") : null);
  return { run, file };
}

test("install into B: marked bad while written, then its boot files in slot-b/ and tryboot.txt names it; config.txt untouched", () => {
  const c = card("install");
  const config = c.file("config.txt");
  expect(c.run("A", "get-primary").out).toBe("A");
  expect(c.run("A", "get-current").out).toBe("A");
  expect(c.run("A", "set-state", "B", "bad").code).toBe(0);
  expect(c.run("A", "get-state", "B").out).toBe("bad");
  const r = c.run("A", "set-primary", "B");
  expect(r.code, r.err).toBe(0);
  expect(c.file("slot-b/vmlinuz")).toBe("kernel of B");
  expect(c.file("slot-b/initrd.img")).toBe("initrd of B");
  expect(c.file("slot-b/cmdline.txt")).toBe("console=ttyS1,115200 ro quiet init=/usr/lib/iotbox/init root=PARTUUID=0badcafe-0X rauc.slot=B\n");
  expect(c.file("slot-b/bad")).toBeNull();
  expect(c.file("tryboot.txt")).toBe(config!.replace("os_prefix=slot-a/", "os_prefix=slot-b/"));
  expect(c.file("config.txt")).toBe(config);
  expect(c.run("A", "get-primary").out).toBe("B");
  expect(c.run("A", "get-state", "B").out).toBe("good");
});

test("the healthy trial boot of B commits it: config.txt names B, tryboot.txt is gone", () => {
  const c = card("commit");
  c.run("A", "set-state", "B", "bad");
  c.run("A", "set-primary", "B");
  // still on A: "good" for B is not a commit (only the booted trial slot commits itself)
  expect(c.run("A", "set-state", "B", "good").code).toBe(1);
  const r = c.run("B", "set-state", "B", "good");
  expect(r.code, r.err).toBe(0);
  expect(c.file("config.txt")).toContain("os_prefix=slot-b/");
  expect(c.file("tryboot.txt")).toBeNull();
  expect(c.run("B", "get-primary").out).toBe("B");
  expect(c.run("B", "get-state", "A").out).toBe("bad"); // not committed, not on trial: not bootable as such
});

test("a failed trial: B marked bad, tryboot.txt gone, A stays committed; the committed slot is never marked bad", () => {
  const c = card("rollback");
  c.run("A", "set-state", "B", "bad");
  c.run("A", "set-primary", "B");
  expect(c.run("B", "set-state", "B", "bad").code).toBe(0);
  expect(c.file("tryboot.txt")).toBeNull();
  expect(c.file("config.txt")).toContain("os_prefix=slot-a/");
  expect(c.run("A", "get-primary").out).toBe("A");
  expect(c.run("A", "get-state", "B").out).toBe("bad");
  expect(c.run("A", "set-state", "A", "bad").code).toBe(1);
  expect(c.run("B", "set-state", "A", "bad").code).toBe(1); // a trial not committed yet cannot overwrite the fallback
  expect(c.file("config.txt")).toContain("os_prefix=slot-a/");
});

test("a slot without boot files is not made primary, and nothing of it lands on the boot partition", () => {
  const c = card("empty");
  rmSync(join(tmp, "empty", "root-B", "usr"), { recursive: true });
  expect(c.run("A", "set-primary", "B").code).toBe(1);
  expect(c.file("tryboot.txt")).toBeNull();
  expect(existsSync(join(tmp, "empty", "boot", "slot-b"))).toBe(false);
});

test("the one-shot boot without the firmware's flag: config.txt names B for one boot, and that boot's init gives it back to A", () => {
  const c = card("oneshot");
  const config = c.file("config.txt")!;
  expect(c.run("A", "arm-oneshot").code).toBe(1); // nothing on trial
  c.run("A", "set-state", "B", "bad");
  c.run("A", "set-primary", "B");
  expect(c.run("A", "arm-oneshot").code).toBe(0);
  expect(c.file("config.txt")).toContain("os_prefix=slot-b/"); // what the firmware reads next
  expect(c.file("config.committed.txt")).toBe(config);
  expect(c.run("A", "get-primary").out).toBe("B");
  expect(c.run("A", "arm-oneshot").code).toBe(0); // twice (a retried reboot): the committed copy is kept
  expect(c.file("config.committed.txt")).toBe(config);
  // the trial boot of B: init restores first
  expect(c.run("B", "restore-oneshot").code).toBe(0);
  expect(c.file("config.txt")).toBe(config);
  expect(c.file("config.committed.txt")).toBeNull();
  expect(c.run("B", "restore-oneshot").code).toBe(0); // nothing to do
  expect(c.run("B", "set-state", "B", "good").code).toBe(0);
  expect(c.file("config.txt")).toBe(config.replace("os_prefix=slot-a/", "os_prefix=slot-b/"));
  expect(c.file("tryboot.txt")).toBeNull();
});

test("a damaged config.committed.txt (no slot named) is removed and config.txt kept", () => {
  const c = card("oneshot-damaged");
  c.run("A", "set-state", "B", "bad");
  c.run("A", "set-primary", "B");
  c.run("A", "arm-oneshot");
  writeFileSync(join(tmp, "oneshot-damaged", "boot", "config.committed.txt"), "arm_64bit=1\n\0\0\0");
  expect(c.run("B", "restore-oneshot").code).toBe(1);
  expect(c.file("config.committed.txt")).toBeNull();
  expect(c.file("config.txt")).toContain("os_prefix=slot-b/");
});

// A model of the card across any order of what can happen around an update: the firmware reads
// config.txt at every boot (no tryboot flag: Debian's kernel), a boot may die before init (the
// power cut window), init restores, the health check commits or gives up, a new install starts.
// After every step: the slot the firmware would boot has its boot files and is not marked bad,
// and once init ran in a boot, config.txt names the committed slot or the booted one committed.
test("any sequence of installs, one-shot reboots, early power cuts, commits and give-ups leaves a bootable card (fast-check)", () => {
  const fc = require("fast-check") as typeof import("fast-check");
  let n = 0;
  fc.assert(fc.property(fc.array(fc.constantFrom("install", "reboot-oneshot", "boot-dies-before-init", "boot", "commit", "give-up"), { maxLength: 12 }), (events) => {
    const c = card(`model-${n++}`);
    let booted = "A";
    const firmware = () => /os_prefix=slot-([ab])\//.exec(c.file("config.txt") ?? "")![1]!.toUpperCase();
    const other = () => (booted === "A" ? "B" : "A");
    for (const e of events) {
      if (e === "install") {
        // RAUC: mark the other slot bad, write it (its boot files are in its root: the card()),
        // make it primary; refused when the other is the committed one (a trial not yet committed)
        if (c.run(booted, "set-state", other(), "bad").code === 0) c.run(booted, "set-primary", other());
      } else if (e === "reboot-oneshot") {
        c.run(booted, "arm-oneshot");
      } else if (e === "boot-dies-before-init") {
        booted = firmware();
      } else if (e === "boot") {
        booted = firmware();
        expect(c.run(booted, "restore-oneshot").code).toBe(0);
        expect(c.file("config.committed.txt")).toBeNull();
      } else if (e === "commit") {
        c.run(booted, "set-state", booted, "good");
      } else {
        c.run(booted, "set-state", booted, "bad");
      }
      const next = firmware();
      expect(existsSync(join(tmp, `model-${n - 1}`, "boot", `slot-${next.toLowerCase()}`)) || next === "A").toBe(true);
      expect(c.file(`slot-${next.toLowerCase()}/bad`)).toBeNull();
    }
  }), { numRuns: 80 });
}, 120_000);
