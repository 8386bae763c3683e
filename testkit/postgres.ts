// A throw-away PostgreSQL (Debian's `postgresql` package) in a temp dir on a free loopback port,
// run as the `postgres` user when we are root (initdb refuses root). Trust auth on loopback only.
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports";

export interface Postgres { url: string; stop(): Promise<void>; output(): string }

function pgBin(name: string): string {
  const versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error("startPostgres: no /usr/lib/postgresql/<version> (install the postgresql package)");
  return `/usr/lib/postgresql/${versions[0]}/bin/${name}`;
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-pg-"));
  const asRoot = process.getuid?.() === 0;
  let uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0;
  if (asRoot) {
    const id = Bun.spawnSync(["id", "-u", "postgres"]), gidOut = Bun.spawnSync(["id", "-g", "postgres"]);
    if (id.exitCode !== 0) throw new Error("startPostgres: no postgres user (install the postgresql package)");
    uid = Number(id.stdout.toString().trim()); gid = Number(gidOut.stdout.toString().trim());
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string[]) => (asRoot ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ...cmd] : cmd);
  const data = join(dir, "data");
  const init = Bun.spawnSync(as([pgBin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]),
    { env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" }, stdout: "pipe", stderr: "pipe" });
  if (init.exitCode !== 0) { rmSync(dir, { recursive: true, force: true }); throw new Error(`initdb failed: ${init.stderr.toString()}`); }
  const port = await freePort();
  let out = "";
  const proc = Bun.spawn(as([pgBin("postgres"), "-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]), {
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" }, stdout: "pipe", stderr: "pipe", cwd: dir });
  const dec = new TextDecoder();
  void (async () => { for await (const c of proc.stderr) out += dec.decode(c); })();
  void (async () => { for await (const c of proc.stdout) out += dec.decode(c); })();
  const stop = async () => {
    proc.kill("SIGINT"); // fast shutdown
    const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await proc.exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => /ready to accept connections/.test(out), 20_000, "postgres",
      () => (proc.exitCode !== null ? `exit ${proc.exitCode}: ${out.slice(-1500)}` : null));
  } catch (e) { await stop(); throw e; }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop, output: () => out };
}
