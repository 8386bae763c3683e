/**
 * Command-line options, each also an IOTBOX_… environment variable (the flag wins). Pure.
 */
export interface ServeOptions {
  dataDir: string; bootDir: string; httpPort: number; httpsPort: number; sysfs: string;
  lanIp?: string; listen: string;
}
const SPEC: Array<{ flag: string; env: string; key: keyof ServeOptions; def?: string; num?: boolean }> = [
  { flag: "--data-dir", env: "IOTBOX_DATA_DIR", key: "dataDir", def: "/var/lib/iotbox" },
  { flag: "--boot-dir", env: "IOTBOX_BOOT_DIR", key: "bootDir", def: "/boot/firmware" },
  { flag: "--http-port", env: "IOTBOX_HTTP_PORT", key: "httpPort", def: "80", num: true },
  { flag: "--https-port", env: "IOTBOX_HTTPS_PORT", key: "httpsPort", def: "443", num: true },
  { flag: "--sysfs", env: "IOTBOX_SYSFS", key: "sysfs", def: "/sys" },
  { flag: "--lan-ip", env: "IOTBOX_LAN_IP", key: "lanIp" },
  { flag: "--listen", env: "IOTBOX_LISTEN", key: "listen", def: "0.0.0.0" },
];

export function parseOptions(argv: string[], env: Record<string, string | undefined>): { opts: ServeOptions; flags: Set<string>; rest: string[] } {
  const raw: Record<string, string> = {};
  const flags = new Set<string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const spec = SPEC.find((s) => s.flag === name);
    if (spec) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      raw[spec.key] = v;
    } else if (a.startsWith("--")) flags.add(a);
    else rest.push(a);
  }
  const opts: Record<string, unknown> = {};
  for (const s of SPEC) {
    const v = raw[s.key] ?? env[s.env] ?? s.def;
    if (v === undefined) continue;
    if (s.num) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${s.flag} must be a port number (0-65535), not "${v}"`);
      opts[s.key] = n;
    } else opts[s.key] = v;
  }
  return { opts: opts as unknown as ServeOptions, flags, rest };
}

/** The arguments left for a command once the common options (and their values) are taken out, in order. */
export function commandArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith("--") && a.includes("=") ? a.slice(0, a.indexOf("=")) : a;
    if (SPEC.some((s) => s.flag === name)) { if (name === a) i++; continue; }
    out.push(a);
  }
  return out;
}
