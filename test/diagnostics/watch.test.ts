/**
 * The network watcher: netlink lines from the monitor process and resolver-file replacements
 * (rename, as NetworkManager does) both trigger; stop() ends the child and the file watch.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ipMonitorWatcher } from "../../src/diagnostics/watch";
import { silentLogger } from "../../src/log/index";

const dir = mkdtempSync(join(tmpdir(), "iotdiag-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("netlink lines and resolver replacements trigger; stop() ends both", async () => {
  const monitor = join(dir, "monitor.sh");
  const pidFile = join(dir, "pid");
  writeFileSync(monitor, `#!/bin/sh\necho $$ > ${pidFile}\necho "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN"\nexec sleep 30\n`, { mode: 0o755 });
  const resolv = join(dir, "resolv.conf");
  writeFileSync(resolv, "nameserver 10.0.0.1\n");
  const why: string[] = [];
  const stop = ipMonitorWatcher(silentLogger(), [resolv], [monitor])((w) => why.push(w));
  await wait(300);
  expect(why.some((w) => w.startsWith("netlink: 2: eth0"))).toBe(true);
  writeFileSync(join(dir, "resolv.conf.tmp"), "nameserver 10.0.0.2\n");
  renameSync(join(dir, "resolv.conf.tmp"), resolv);
  await wait(300);
  expect(why).toContain(`resolver file ${resolv}`);
  const pid = Number(await Bun.file(pidFile).text());
  stop();
  await wait(300);
  expect(() => process.kill(pid, 0)).toThrow();
  const n = why.length;
  writeFileSync(resolv, "nameserver 10.0.0.3\n");
  await wait(200);
  expect(why.length).toBe(n);
});
