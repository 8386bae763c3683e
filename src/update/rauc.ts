/**
 * The one adapter to RAUC (the field-proven updater in the image): `rauc info` to check a
 * bundle before a byte is written, `rauc install` to write the other slot, `rauc status`.
 * Argument arrays only; rauc's own output is logged, never shown to the user.
 */
import { openSync, readSync, closeSync, fstatSync } from "node:fs";
import type { Logger } from "../log/index";
import { decodeInfo, type BundleHeader, type InfoResult } from "./check";

export interface Rauc {
  info(file: string): Promise<InfoResult>;
  install(file: string): Promise<{ ok: boolean; exitCode: number; stderr: string }>;
  status(): Promise<unknown | null>;
}

type Run = (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

export const spawnRun: Run = async (argv, timeoutMs) => {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, LC_ALL: "C" } });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { exitCode, stdout, stderr };
  } finally { clearTimeout(timer); }
};

/** The first 96 bytes of the file: the squashfs magic and its `bytes_used` (little endian, offset 40). */
export function readHeader(file: string): BundleHeader | null {
  let fd: number;
  try { fd = openSync(file, "r"); } catch { return null; }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(96);
    const n = readSync(fd, buf, 0, 96, 0);
    const magic = buf.subarray(0, Math.min(4, n)).toString("latin1");
    const used = n >= 48 && magic === "hsqs" ? Number(buf.readBigUInt64LE(40)) : null;
    return { size, magic, squashfsBytes: used !== null && Number.isSafeInteger(used) ? used : null };
  } finally { closeSync(fd); }
}

/** `rauc status --output-format=json`: the booted slot's boot name and the primary slot, read defensively. */
export function decodeStatus(j: unknown): { booted: string | null; primary: string | null } | null {
  if (!j || typeof j !== "object" || Array.isArray(j)) return null;
  const o = j as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === "string" && v.length <= 64 ? v : null);
  return { booted: s(o.booted), primary: s(o.boot_primary) };
}

export function createRauc(o: { binary: string; keyring: string; logger: Logger; run?: Run }): Rauc {
  const run = o.run ?? spawnRun;
  const log = o.logger.child({ area: "update" });
  return {
    async info(file) {
      let r;
      try { r = await run([o.binary, "info", "--output-format=json", `--keyring=${o.keyring}`, file], 60_000); } catch (e) {
        log.error("rauc info could not run", { error: (e as Error).message });
        return { ok: false, exitCode: -1, stdout: "", stderr: "failed to load CA file: rauc could not run", header: null };
      }
      const info = r.exitCode === 0 ? decodeInfo(r.stdout) : null;
      if (info) return { ok: true, info };
      log.warn("rauc info refused the bundle", { file, exit: r.exitCode, stderr: r.stderr.trim().slice(-2000) });
      return { ok: false, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, header: readHeader(file) };
    },
    async install(file) {
      const r = await run([o.binary, "install", file], 60 * 60_000).catch((e) => ({ exitCode: -1, stdout: "", stderr: String((e as Error).message) }));
      if (r.exitCode !== 0) log.error("rauc install failed", { file, exit: r.exitCode, stderr: r.stderr.trim().slice(-2000) });
      else log.info("rauc install done", { file });
      return { ok: r.exitCode === 0, exitCode: r.exitCode, stderr: r.stderr };
    },
    async status() {
      const r = await run([o.binary, "status", "--output-format=json"], 30_000).catch(() => null);
      if (!r || r.exitCode !== 0) return null;
      try { return JSON.parse(r.stdout); } catch { return null; }
    },
  };
}
