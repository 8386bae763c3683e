// Boots a card image in qemu-system-aarch64 the way a Raspberry Pi's firmware would: the kernel,
// initrd and command line are read out of the image's own FAT partition (config.txt names them,
// cmdline.txt holds the arguments) before EVERY boot, so what the box wrote there (e.g. the
// Imager clean-up of cmdline.txt) counts. QEMU runs with -no-reboot: a guest reboot ends the
// process and the caller boots again, like the Pi's firmware re-reading the card.
// No loop mounts: mtools reads and writes the FAT partition at its offset inside the file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chooseBoot, rebootArgument, setsTryboot, type FirmwareChoice } from "./firmware";

/** The image the build left in out/ (build.sh keeps one), or $IOTBOX_IMAGE. */
export function latestImage(): string {
  if (process.env.IOTBOX_IMAGE) return process.env.IOTBOX_IMAGE;
  const out = resolve(import.meta.dir, "../../out");
  const imgs = readdirSync(out).filter((f) => /^iotbox-.*-arm64\.img$/.test(f));
  if (imgs.length !== 1) throw new Error(`expected one out/iotbox-*-arm64.img, found ${imgs.join(", ") || "none"}`);
  return join(out, imgs[0]!);
}

export interface Partition { index: number; startBytes: number; sizeBytes: number; type: string }

/** Runs a host tool with an argument array; its stdout, or an error with the end of its stderr. */
export function run(cmd: string[], input?: string | Buffer): Buffer {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { input, maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
  return r.stdout;
}

export function partitions(image: string): Partition[] {
  const j = JSON.parse(run(["sfdisk", "--json", image]).toString()) as {
    partitiontable: { sectorsize?: number; partitions: { start: number; size: number; type: string }[] };
  };
  const ss = j.partitiontable.sectorsize ?? 512;
  return j.partitiontable.partitions.map((p, i) => ({ index: i + 1, startBytes: p.start * ss, sizeBytes: p.size * ss, type: p.type }));
}

const fat = (image: string) => `${image}@@${partitions(image)[0]!.startBytes}`;

export function readBootFile(image: string, name: string): Buffer {
  return run(["mcopy", "-n", "-i", fat(image), `::${name}`, "-"]);
}

export function writeBootFile(image: string, name: string, data: string | Buffer): void {
  const dir = mkdtempSync("/tmp/iotbox-mcopy-");
  try {
    const f = join(dir, "f");
    writeFileSync(f, data);
    run(["mcopy", "-o", "-i", fat(image), f, `::${name}`]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** Every file on the FAT partition with its path ("slot-a/vmlinuz"), folders walked. */
export function listBootFilesDeep(image: string): string[] {
  return run(["mdir", "-/", "-b", "-i", fat(image), "::/"]).toString().split("\n").map((l) => l.replace(/^::\//, "").trim())
    .filter((l) => l && !l.endsWith("/"));
}

export function listBootFiles(image: string): string[] {
  return run(["mdir", "-b", "-i", fat(image), "::/"]).toString().split("\n").map((l) => l.replace(/^::\//, "").trim()).filter(Boolean);
}

/** Copies a partition out of the image into its own file (e.g. for e2fsck on the host). */
export function extractPartition(image: string, index: number, to: string): void {
  const p = partitions(image)[index - 1]!;
  run(["dd", `if=${image}`, `of=${to}`, "bs=1M", `skip=${p.startBytes}`, `count=${p.sizeBytes}`,
    "iflag=skip_bytes,count_bytes", "conv=sparse", "status=none"]);
}

/**
 * Sets the clock file of systemd-timesyncd on the card's data partition (the last one) to `when`:
 * timesyncd moves the clock forward to that file's mtime when it starts. For a machine with no
 * real-time clock (raspi3b, like a real Pi 3) in a network with no NTP (restrict=on): as if the
 * box had been running until `when`. Without it the box's clock is months behind and every
 * certificate looks not yet valid. (virt has an RTC that QEMU sets to the host's time.)
 */
export function setClockFile(card: string, when: Date): void {
  writeDataFiles(card, [{ path: "/lib/systemd/timesync/clock", content: "", mode: 0o644, mtime: when }]);
}

/**
 * Puts files on the card's data partition (the last one; paths relative to /var), as a box that
 * had them would: debugfs on a copy of the partition, written back. Parent folders are made
 * (0755 unless `dirMode`). For tests: e.g. an SSH key without a first Imager boot.
 */
export function writeDataFiles(card: string, files: { path: string; content: string; mode: number; mtime?: Date; dirMode?: number }[]): void {
  const data = partitions(card).at(-1)!;
  const dir = mkdtempSync("/tmp/iotbox-datafs-");
  try {
    const part = join(dir, "data.ext4");
    extractPartition(card, data.index, part);
    const cmds: string[] = [];
    files.forEach((f, i) => {
      const src = join(dir, `f${i}`);
      writeFileSync(src, f.content);
      const parts = f.path.split("/").filter(Boolean);
      for (let j = 1; j < parts.length; j++) {
        const d = "/" + parts.slice(0, j).join("/");
        cmds.push(`mkdir ${d}`); // fails when it exists: fine
        if (f.dirMode !== undefined && j === parts.length - 1) cmds.push(`sif ${d} mode 0${(0o40000 | f.dirMode).toString(8)}`);
      }
      cmds.push(`rm ${f.path}`, `write ${src} ${f.path}`, `sif ${f.path} mode 0${(0o100000 | f.mode).toString(8)}`);
      if (f.mtime) cmds.push(`sif ${f.path} mtime @${Math.floor(f.mtime.getTime() / 1000)}`);
    });
    spawnSync("debugfs", ["-w", "-f", "-", part], { input: cmds.join("\n") });
    for (const f of files) {
      const stat = run(["debugfs", "-R", `stat ${f.path}`, part]).toString();
      if (!/Size: \d+/.test(stat)) throw new Error(`${f.path} not written on the data partition: ${stat}`);
    }
    run(["dd", `if=${part}`, `of=${card}`, "bs=1M", `seek=${data.startBytes}`, "oflag=seek_bytes", "conv=notrunc,sparse", "status=none"]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** A private copy of the image (sparse), grown by `growMiB` like a bigger SD card. */
export function cardFrom(image: string, dir: string, growMiB = 0): string {
  const card = join(dir, "card.img");
  run(["cp", "--sparse=always", image, card]);
  if (growMiB) truncateSync(card, statSync(card).size + growMiB * 1024 * 1024);
  return card;
}

export interface Forward { host: number; guest: number }
/**
 * The address at which the guest reaches the host services given as `hostServices`. Not 10.0.2.2
 * (QEMU's own host alias): with restrict=on that one is closed, and a guestfwd rule may not use it.
 */
export const GUEST_HOST_ALIAS = "10.0.2.100";
/** A service on the host's loopback that the guest reaches as GUEST_HOST_ALIAS:port (same port). */
export interface GuestForward { port: number }
export interface Machine {
  serial(): string;
  waitForSerial(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /** Hard power-off: SIGKILL to QEMU (what the guest's disk has not flushed is lost). */
  powerCut(): Promise<void>;
  /** After the guest rebooted: whether the firmware's tryboot flag is set for the next boot (never with Debian's kernel). */
  trybootNext(): boolean;
  /** What the firmware read at this power-on (config file, os_prefix, kernel, …). */
  firmware: FirmwareChoice;
  startedAt: number;
}

/**
 * The emulated board. `virt`: QEMU's generic machine (virtio disk and network, PL011 console
 * ttyAMA0, 2 cores). `raspi3b`: QEMU's Raspberry Pi 3 B (the Pi's own SD host, DWC2 USB with a
 * USB network device, the mini UART ttyS1 that cmdline.txt names as the console; 4 cores and
 * 1 GiB fixed) booted with the card's own bcm2837-rpi-3-b.dtb, as the Pi's firmware would with
 * `upstream_kernel=1`. The raspi3b card must be a power of two in size (QEMU's SD model).
 */
export type MachineKind = "virt" | "raspi3b";

export interface BootOptions {
  card: string;
  machine?: MachineKind;
  forwards: Forward[];
  /** Host loopback ports the guest may reach as GUEST_HOST_ALIAS:<port>; nothing else leaves the VM. */
  hostServices?: GuestForward[];
  memoryMiB?: number;
  smp?: number;
  /** The firmware's one-shot tryboot flag (set by the previous boot's `reboot "0 tryboot"`). */
  tryboot?: boolean;
  /** Extra kernel arguments after cmdline.txt's (default: the machine's own, see MACHINE_ARGS). */
  extraArgs?: string;
}

/**
 * Kernel arguments each machine adds to cmdline.txt's. virt: its console is the PL011 (ttyAMA0).
 * raspi3b: cmdline.txt's console (ttyS1) is already right; kept out, for emulator limits (on a
 * real Pi both work): the bcm2835 watchdog driver, because QEMU 7.2's model of the Pi's
 * power-management block resets the machine as soon as the watchdog is armed instead of counting
 * down; vchiq (the VideoCore services: camera, audio; the box uses none), because QEMU does not
 * emulate the VideoCore side of its mailbox ("failed to set channelbase") and its threads then
 * oops on unmapped memory.
 */
export const MACHINE_ARGS: Record<MachineKind, string> = {
  virt: "console=ttyAMA0",
  raspi3b: "modprobe.blacklist=bcm2835_wdt,vchiq",
};

/** Grows a card file (sparse) to the next power of two, as QEMU's SD card model requires. */
export function growToPowerOfTwo(card: string): number {
  const size = statSync(card).size;
  let p = 1;
  while (p < size) p *= 2;
  if (p !== size) truncateSync(card, p);
  return p;
}

function machineArgs(kind: MachineKind, o: BootOptions, dir: string, dtbName: string, net: string): string[] {
  if (kind === "raspi3b") {
    const size = statSync(o.card).size;
    if ((size & (size - 1)) !== 0) throw new Error(`raspi3b: the card must be a power of two in size (growToPowerOfTwo), not ${size} bytes`);
    const dtb = join(dir, "dtb");
    writeFileSync(dtb, readBootFile(o.card, dtbName));
    return [
      "-M", "raspi3b", "-m", "1024", "-dtb", dtb,
      // the PL011 is the first serial port, the mini UART (GPIO 14/15, ttyS1) the second
      "-serial", "null", "-serial", "stdio",
      "-drive", `file=${o.card},if=sd,format=raw`,
      "-netdev", net, "-device", "usb-net,netdev=n0",
    ];
  }
  return [
    "-M", "virt", "-cpu", "cortex-a72", "-smp", String(o.smp ?? 2), "-m", String(o.memoryMiB ?? 1024),
    "-serial", "stdio",
    "-drive", `file=${o.card},if=none,format=raw,id=card`, "-device", "virtio-blk-pci,drive=card",
    "-netdev", net, "-device", "virtio-net-pci,netdev=n0",
    "-device", "virtio-rng-pci",
  ];
}

/**
 * Reads what the Pi's firmware would (config.txt, or tryboot.txt once when the tryboot flag is
 * set; os_prefix; kernel, initramfs, cmdline.txt, device tree: firmware.ts) out of the card's FAT
 * partition and starts QEMU.
 */
export function boot(o: BootOptions): Machine {
  const dir = mkdtempSync("/tmp/iotbox-qemu-");
  const files = new Set(listBootFilesDeep(o.card));
  const read = (name: string) => (files.has(name) ? readBootFile(o.card, name).toString() : null);
  const choice = chooseBoot(read, { tryboot: o.tryboot ?? false, board: "pi3" });
  const kernel = join(dir, "vmlinuz"), initrd = join(dir, "initrd");
  const kernelImage = readBootFile(o.card, choice.kernel);
  writeFileSync(kernel, kernelImage);
  // The firmware's tryboot flag is set only by a kernel that hands the reboot argument to it
  // (Raspberry Pi's downstream firmware driver: strstr(cmd, "tryboot")); Debian's kernel has no
  // such code and not the word in its image, so its "0 tryboot" reaches no firmware.
  const kernelSetsTryboot = kernelImage.includes("tryboot");
  writeFileSync(initrd, readBootFile(o.card, choice.initramfs));
  const cmdline = readBootFile(o.card, choice.cmdlineFile).toString().split("\n")[0]!.trim();
  const kind = o.machine ?? "virt";
  const append = `${cmdline} ${o.extraArgs ?? MACHINE_ARGS[kind]}`;
  // restrict=on: the guest reaches nothing outside (no DNS, NTP or Internet through the host),
  // only the forwarded ports; each guest connection to GUEST_HOST_ALIAS:<port> runs socat to
  // 127.0.0.1:<port>.
  const fwd = [
    "restrict=on",
    ...o.forwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.host}-:${f.guest}`),
    ...(o.hostServices ?? []).map((s) => `guestfwd=tcp:${GUEST_HOST_ALIAS}:${s.port}-cmd:socat - TCP:127.0.0.1:${s.port}`),
  ].join(",");
  const args = [
    ...machineArgs(kind, o, dir, choice.dtb, `user,id=n0,${fwd}`),
    "-accel", "tcg,thread=multi", "-no-reboot", "-display", "none", "-monitor", "none",
    "-kernel", kernel, "-initrd", initrd, "-append", append,
  ];
  const startedAt = performance.now();
  const proc = Bun.spawn(["qemu-system-aarch64", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const waiters: Array<() => void> = [];
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) { out += dec.decode(c, { stream: true }); for (const w of waiters.splice(0)) w(); }
  };
  void pump(proc.stdout); void pump(proc.stderr);
  const exited = proc.exited.then((c) => { rmSync(dir, { recursive: true, force: true }); for (const w of waiters.splice(0)) w(); return c; });
  let done = false, killed = false;
  void exited.then(() => { done = true; });
  return {
    startedAt,
    serial: () => out,
    exited,
    async waitForSerial(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (done) throw new Error(`QEMU exited before ${re}; serial tail:\n${out.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`no ${re} on the serial console after ${timeoutMs} ms; tail:\n${out.slice(-3000)}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 500); });
      }
    },
    async powerCut() { proc.kill("SIGKILL"); killed = true; await exited; },
    trybootNext: () => !killed && kernelSetsTryboot && setsTryboot(rebootArgument(out)),
    firmware: choice,
  };
}
