// The updater end to end on a fixture tree: the provisioner's channel over real HTTP on
// 127.0.0.1, the real `rauc info`, an injected `rauc install` (it needs the box) and reboot.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log/index";
import { updateHostPaths } from "../../src/host/paths";
import { createUpdater } from "../../src/update/index";
import { createRauc } from "../../src/update/rauc";
import { createApp } from "../../provisioner/src/http/app";
import { createUpdatesApp } from "../../provisioner/src/updates/app";
import { publishUpdate } from "../../provisioner/src/updates/publish";
import { makeBundle, makeKey, type Key } from "./bundles";

const logger = createLogger({ level: "error", write: () => {} });
let dir: string, key: Key, other: Key, server: ReturnType<typeof Bun.serve>, base: string, pub: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iotbox-updater-"));
  key = makeKey(dir, "vendor");
  other = makeKey(dir, "other");
  pub = join(dir, "pub");
  const app = createApp({ service: { handle: async () => { throw new Error("unused"); } }, logger, health: async () => ({}), updates: createUpdatesApp({ dir: pub }) });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

function box(o: { minute?: number; payment?: () => boolean; rebootOk?: boolean; random?: number; rebootPollMs?: number } = {}) {
  const root = mkdtempSync(join(dir, "root-"));
  mkdirSync(join(root, "etc/rauc"), { recursive: true });
  writeFileSync(join(root, "etc/rauc/vendor-keyring.pem"), readFileSync(key.cert));
  writeFileSync(join(root, "etc/iotbox-release"), "IOTBOX_VERSION=0.2.0+g666093c81f\nIOTBOX_BUILD_EPOCH=1764000000\n");
  const paths = { ...updateHostPaths({ IOTBOX_HOST_ROOT: root }), rauc: "rauc" };
  const real = createRauc({ binary: "rauc", keyring: paths.keyring, logger });
  const installs: string[] = [];
  let reboots = 0;
  const rauc = { ...real, install: async (f: string) => { installs.push(f); return { ok: true, exitCode: 0, stderr: "" }; } };
  const u = createUpdater({ paths, statePath: join(root, "data/update.json"), rauc, logger, fallbackVersion: "dev",
    settings: () => ({ channel: "stable", base, quietHours: "02:00-05:00" }), paymentInFlight: o.payment ?? (() => false),
    reboot: async () => { reboots++; return o.rebootOk ?? true; }, minuteOfDay: () => o.minute ?? 600, now: () => new Date("2026-12-02T10:00:00Z"), random: () => o.random ?? 0.5, rebootPollMs: o.rebootPollMs });
  return { u, root, paths, installs, reboots: () => reboots };
}

describe("the updater", () => {
  test("nothing published: the check fails with a clear code, recorded as the last error", async () => {
    const b = box();
    const r = await b.u.check({ install: false });
    expect(r).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_MANIFEST" });
    expect(b.u.view()).toMatchObject({ channel: "stable", held: false, lastCheck: { outcome: "failed", channel: "stable" }, lastError: { code: "ERR_IOT_UPDATE_MANIFEST" } });
  });

  test("a newer bundle: found, downloaded, checked, installed; an admin's 'update now' reboots at once (no payment)", async () => {
    await publishUpdate({ file: makeBundle(dir, { key, version: "0.3.0+gabc", build: 1_765_000_000 }), channel: "stable", dir: pub, keyring: key.cert, logger });
    const b = box();
    const look = await b.u.check({ install: false });
    expect(look).toMatchObject({ ok: true, available: true, version: "0.3.0+gabc" });
    expect(b.installs).toEqual([]);
    const r = await b.u.check({ install: true });
    expect(r).toMatchObject({ ok: true, install: { ok: true, version: "0.3.0+gabc", rebooting: true } });
    expect(b.installs.length).toBe(1);
    expect(b.reboots()).toBe(1);
    expect(b.u.view().pendingReboot).toMatchObject({ version: "0.3.0+gabc" });
    expect(b.installs[0]!.startsWith(join(b.paths.osUpdateDir, "download"))).toBe(true);
    expect(readdirSync(join(b.paths.osUpdateDir, "download"))).toEqual([]);   // written to the slot: the download is removed
  });

  test("a payment in flight: installed, but the reboot waits; the quiet-time poll reboots once the payment ended", async () => {
    let paying = true;
    const b = box({ payment: () => paying, minute: 3 * 60 });
    const r = await b.u.check({ install: true });
    expect(r).toMatchObject({ ok: true, install: { ok: true, rebooting: false } });
    expect(b.reboots()).toBe(0);
    expect(b.u.view().paymentInFlight).toBe(true);
    paying = false;
    // the next check finds it already written: no second install, and now it reboots
    const again = await b.u.check({ install: true });
    expect(again).toMatchObject({ ok: true, install: { ok: true, rebooting: true } });
    expect(b.installs.length).toBe(1);
    expect(b.reboots()).toBe(1);
  });

  test("held: the daily look does nothing (no request, no download, no install); resume lifts it", async () => {
    const b = box();
    b.u.hold();
    expect(b.u.view().held).toBe(true);
    expect(b.u.view().nextCheckAt).toBeNull();
    expect(await b.u.scheduledLook()).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_HELD" });
    expect(b.u.view().lastCheck).toBeNull();
    expect(b.installs).toEqual([]);
    b.u.resume();
    expect(b.u.view().held).toBe(false);
    expect(await b.u.scheduledLook()).toMatchObject({ ok: true, install: { ok: true } });
    expect(b.installs.length).toBe(1);
    expect(b.reboots()).toBe(0);   // 10:00 is not quiet time: the reboot waits for 02:00–05:00
  });

  test("install FILE refuses a foreign or older bundle with the sentence, and writes nothing", async () => {
    const b = box();
    const foreign = makeBundle(dir, { key: other, version: "0.9.0", build: 1_769_000_000, name: "foreign.raucb" });
    expect(await b.u.installFile(foreign, { reboot: true })).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_FOREIGN_SIGNATURE", message: expect.stringContaining("signed by someone other") });
    const older = makeBundle(dir, { key, version: "0.1.0", build: 1_769_000_000, name: "older.raucb" });
    expect(await b.u.installFile(older, { reboot: true })).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_OLDER" });
    expect(b.installs).toEqual([]);
    expect(b.u.view().lastError).toMatchObject({ code: "ERR_IOT_UPDATE_OLDER" });
    const good = makeBundle(dir, { key, version: "0.2.1", build: 1_769_000_000, name: "good.raucb" });
    expect(await b.u.installFile(good, { reboot: false })).toEqual({ ok: true, version: "0.2.1", rebooting: false });
    expect(b.installs).toEqual([good]);
    expect(b.u.view().lastError).toBeNull();
  });

  test("two installs at once: the second is told another is running", async () => {
    const b = box();
    const good = makeBundle(dir, { key, version: "0.2.2", build: 1_769_000_000, name: "good2.raucb" });
    const [a, c] = await Promise.all([b.u.installFile(good, { reboot: false }), b.u.installFile(good, { reboot: false })]);
    expect([a.ok, c.ok].sort()).toEqual([false, true]);
    expect([a, c].find((x) => !x.ok)).toMatchObject({ code: "ERR_IOT_UPDATE_BUSY" });
    expect(existsSync(join(b.paths.osUpdateDir, "install.lock"))).toBe(false);
  });

  test("a manifest that lies about the sha256: nothing installed, the download deleted", async () => {
    const m = JSON.parse(readFileSync(join(pub, "stable.json"), "utf8"));
    writeFileSync(join(pub, "stable.json"), JSON.stringify({ ...m, sha256: "0".repeat(64) }));
    const b = box();
    const r = await b.u.check({ install: true });
    expect(r).toMatchObject({ ok: true, install: { ok: false, code: "ERR_IOT_UPDATE_DOWNLOAD_MISMATCH" } });
    expect(b.installs).toEqual([]);
    expect(readdirSync(join(b.paths.osUpdateDir, "download"))).toEqual([]);
    writeFileSync(join(pub, "stable.json"), JSON.stringify(m));
  });

  test("start: the first look 3–10 min later (injected clock and draw); an installed update waits for the quiet window, then the poll reboots", async () => {
    const b = box({ random: 0, rebootPollMs: 20 });
    const good = makeBundle(dir, { key, version: "0.2.3", build: 1_769_000_000, name: "good3.raucb" });
    expect(await b.u.installFile(good, { reboot: false })).toMatchObject({ ok: true });
    b.u.start();
    try {
      expect(b.u.view().nextCheckAt).toBe("2026-12-02T10:03:00.000Z");
      await Bun.sleep(100);
      expect(b.reboots()).toBe(0);       // 10:00 local: not quiet time
    } finally { b.u.stop(); }
    const q = box({ random: 0, rebootPollMs: 20, minute: 3 * 60 });
    expect(await q.u.installFile(good, { reboot: false })).toMatchObject({ ok: true });
    q.u.start();
    try { await Bun.sleep(150); expect(q.reboots()).toBe(1); } finally { q.u.stop(); }
  });

  test("asked for by an admin during a payment, outside quiet hours: the poll reboots as soon as the payment has ended", async () => {
    let paying = true;
    const b = box({ payment: () => paying, minute: 10 * 60, rebootPollMs: 20 });
    const good = makeBundle(dir, { key, version: "0.2.5", build: 1_769_000_000, name: "good5.raucb" });
    expect(await b.u.installFile(good, { reboot: true })).toEqual({ ok: true, version: "0.2.5", rebooting: false });
    b.u.start();
    try {
      await Bun.sleep(100);
      expect(b.reboots()).toBe(0);
      paying = false;
      await Bun.sleep(100);
      expect(b.reboots()).toBe(1);
    } finally { b.u.stop(); }
  });

  test("after the reboot: the pending install is settled by the health check's verdict", async () => {
    const b = box();
    const good = makeBundle(dir, { key, version: "0.2.4", build: 1_769_000_000, name: "good4.raucb" });
    expect(await b.u.installFile(good, { reboot: false })).toMatchObject({ ok: true });
    expect(b.u.view().pendingReboot).not.toBeNull();
    // the health check's clock was behind (no RTC before NTP): its version still settles it
    writeFileSync(join(b.paths.osUpdateDir, "result"), "1970-01-01T00:01:00Z rolled-back 0.2.4: slot B did not come up healthy; back on slot A\n");
    b.u.start(); b.u.stop();
    expect(b.u.view().pendingReboot).toBeNull();
  });

  test("the health check's verdict is shown: rolled back; that version is not tried again on its own, only when an admin asks", async () => {
    const b = box();
    mkdirSync(b.paths.osUpdateDir, { recursive: true });
    writeFileSync(join(b.paths.osUpdateDir, "result"), "2026-12-02T03:01:00Z rolled-back 0.3.0+gabc: slot B did not come up healthy; back on slot A\n");
    expect(b.u.view().lastResult).toMatchObject({ outcome: "rolled-back", version: "0.3.0+gabc" });
    expect(b.u.view().running).toEqual({ version: "0.2.0+g666093c81f", build: 1_764_000_000 });
    expect(await b.u.scheduledLook()).toMatchObject({ ok: true, available: true, install: { ok: false, code: "ERR_IOT_UPDATE_ROLLED_BACK" } });
    expect(b.installs).toEqual([]);
    expect(await b.u.check({ install: true })).toMatchObject({ ok: true, install: { ok: true, version: "0.3.0+gabc" } });
    expect(b.installs.length).toBe(1);
  });
});
