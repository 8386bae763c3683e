// Free loopback ports chosen at run time, and waiting for a child process's listener.
import { createServer } from "node:net";

/** A TCP port that was free a moment ago on `host` (the kernel picks it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("freePort: no port"))));
    });
  });
}

/** Poll `probe` until it returns true or `timeoutMs` passes; `describe` names what we waited for. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, describe: string,
  alive?: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const dead = alive?.();
    if (dead) throw new Error(`${describe}: process exited early: ${dead}`);
    try { if (await probe()) return; } catch (e) { last = e; }
    await Bun.sleep(50);
  }
  throw new Error(`${describe}: not ready after ${timeoutMs} ms${last ? ` (${String(last)})` : ""}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function terminate(proc: { kill(sig?: string | number): void; exited: Promise<unknown> }, graceMs = 3000): Promise<void> {
  proc.kill("SIGTERM");
  const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(t);
}
