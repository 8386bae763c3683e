// Boots a card image in qemu-system-aarch64 the way a Raspberry Pi's firmware would: the kernel,
// initrd and command line are read out of the image's own FAT partition (config.txt names them,
// cmdline.txt holds the arguments) before EVERY boot, so what the box wrote there (e.g. the
// Imager clean-up of cmdline.txt) counts. QEMU runs with -no-reboot: a guest reboot ends the
// process and the caller boots again, like the Pi's firmware re-reading the card.
// No loop mounts: mtools reads and writes the FAT partition at its offset inside the file.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The image the build left in out/ (build.sh keeps one), or $IOTBOX_IMAGE. */
export function latestImage(): string {
  if (process.env.IOTBOX_IMAGE) return process.env.IOTBOX_IMAGE;
  const out = resolve(import.meta.dir, "../../out");
  const imgs = readdirSync(out).filter((f) => /^iotbox-.*-arm64\.img$/.test(f));
  if (imgs.length !== 1) throw new Error(`expected one out/iotbox-*-arm64.img, found ${imgs.join(", ") || "none"}`);
  return join(out, imgs[0]!);
}

export interface Partition { index: number; startBytes: number; sizeBytes: number; type: string }

function run(cmd: string[], input?: string | Buffer): Buffer {
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

export function listBootFiles(image: string): string[] {
  return run(["mdir", "-b", "-i", fat(image), "::/"]).toString().split("\n").map((l) => l.replace(/^::\//, "").trim()).filter(Boolean);
}

/** Copies a partition out of the image into its own file (e.g. for e2fsck on the host). */
export function extractPartition(image: string, index: number, to: string): void {
  const p = partitions(image)[index - 1]!;
  run(["dd", `if=${image}`, `of=${to}`, "bs=1M", `skip=${p.startBytes}`, `count=${p.sizeBytes}`,
    "iflag=skip_bytes,count_bytes", "conv=sparse", "status=none"]);
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
  startedAt: number;
}

export interface BootOptions {
  card: string;
  forwards: Forward[];
  /** Host loopback ports the guest may reach as GUEST_HOST_ALIAS:<port>; nothing else leaves the VM. */
  hostServices?: GuestForward[];
  memoryMiB?: number;
  smp?: number;
  /** Extra kernel arguments after cmdline.txt's (the console of the virt machine is ttyAMA0). */
  extraArgs?: string;
}

/** Reads config.txt/cmdline.txt/kernel/initrd out of the card's FAT partition and starts QEMU. */
export function boot(o: BootOptions): Machine {
  const dir = mkdtempSync("/tmp/iotbox-qemu-");
  const config = readBootFile(o.card, "config.txt").toString();
  const kernelName = /^kernel=(\S+)/m.exec(config)?.[1];
  const initrdName = /^initramfs\s+(\S+)/m.exec(config)?.[1];
  if (!kernelName || !initrdName) throw new Error(`config.txt names no kernel/initramfs:\n${config}`);
  const kernel = join(dir, "vmlinuz"), initrd = join(dir, "initrd");
  writeFileSync(kernel, readBootFile(o.card, kernelName));
  writeFileSync(initrd, readBootFile(o.card, initrdName));
  const cmdline = readBootFile(o.card, "cmdline.txt").toString().split("\n")[0]!.trim();
  const append = `${cmdline} ${o.extraArgs ?? "console=ttyAMA0"}`;
  // restrict=on: the guest reaches nothing outside (no DNS, NTP or Internet through the host),
  // only the forwarded ports; each guest connection to GUEST_HOST_ALIAS:<port> runs socat to
  // 127.0.0.1:<port>.
  const fwd = [
    "restrict=on",
    ...o.forwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.host}-:${f.guest}`),
    ...(o.hostServices ?? []).map((s) => `guestfwd=tcp:${GUEST_HOST_ALIAS}:${s.port}-cmd:socat - TCP:127.0.0.1:${s.port}`),
  ].join(",");
  const args = [
    "-M", "virt", "-cpu", "cortex-a72", "-smp", String(o.smp ?? 2), "-m", String(o.memoryMiB ?? 1024),
    "-accel", "tcg,thread=multi", "-no-reboot", "-display", "none", "-monitor", "none", "-serial", "stdio",
    "-kernel", kernel, "-initrd", initrd, "-append", append,
    "-drive", `file=${o.card},if=none,format=raw,id=card`, "-device", "virtio-blk-pci,drive=card",
    "-netdev", `user,id=n0,${fwd}`, "-device", "virtio-net-pci,netdev=n0",
    "-device", "virtio-rng-pci",
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
  let done = false;
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
    async powerCut() { proc.kill("SIGKILL"); await exited; },
  };
}
