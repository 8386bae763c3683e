/**
 * The identifier the database knows the box by: the Pi's serial number, as the reference reads it
 * (device tree `serial-number`; older kernels give it in /proc/cpuinfo's `Serial` line); the box
 * id where there is none (a PC, a VM, a test). `procDir` is /proc (tests point it at a fixture).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function readIdentifier(procDir: string, boxId: string): string {
  const clean = (s: string) => s.replace(/\0/g, "").trim();
  try {
    const s = clean(readFileSync(join(procDir, "device-tree", "serial-number"), "latin1"));
    if (/^[0-9a-fA-F]{8,32}$/.test(s)) return s;
  } catch {}
  try {
    const m = /^Serial\s*:\s*([0-9a-fA-F]{8,32})\s*$/m.exec(readFileSync(join(procDir, "cpuinfo"), "latin1"));
    if (m && !/^0+$/.test(m[1]!)) return m[1]!;
  } catch {}
  return boxId;
}
