// `iotbox update …` as a process, on a fixture tree: the real `rauc info` (through a wrapper that
// records `rauc install` instead of writing a slot, which needs the box) and a recording update-reboot.
import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, makeKey, type Key } from "./bundles";

let dir: string, root: string, data: string, key: Key, other: Key;
const MAIN = join(import.meta.dir, "../../src/main.ts");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iotbox-update-cli-"));
  root = join(dir, "root"); data = join(dir, "data");
  key = makeKey(dir, "vendor"); other = makeKey(dir, "other");
  for (const d of ["etc/rauc", "usr/bin", "usr/lib/iotbox", "var/lib/iotbox-os/update"]) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "etc/rauc/vendor-keyring.pem"), readFileSync(key.cert));
  writeFileSync(join(root, "etc/iotbox-release"), "IOTBOX_VERSION=0.2.0+g666093c81f\nIOTBOX_BUILD_EPOCH=1764000000\n");
  writeFileSync(join(root, "usr/bin/rauc"), `#!/bin/sh\nif [ "$1" = install ]; then echo "$2" >> "${root}/installs"; exit 0; fi\nexec rauc "$@"\n`);
  writeFileSync(join(root, "usr/lib/iotbox/update-reboot"), `#!/bin/sh\necho reboot >> "${root}/reboots"\n`);
  chmodSync(join(root, "usr/bin/rauc"), 0o755); chmodSync(join(root, "usr/lib/iotbox/update-reboot"), 0o755);
});

async function iotbox(...args: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, ...args, "--data-dir", data, "--boot-dir", join(dir, "boot"), "--http-port", "1"], {
    env: { ...process.env, IOTBOX_HOST_ROOT: root, IOTBOX_LOG_LEVEL: "error" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}
const read = (f: string) => (existsSync(join(root, f)) ? readFileSync(join(root, f), "utf8") : "");

describe("iotbox update", () => {
  test("install FILE: a foreign bundle is refused with the sentence (exit 1), nothing installed; shown by status", async () => {
    const f = makeBundle(dir, { key: other, version: "0.9.0", build: 1_769_000_000, name: "foreign.raucb" });
    const r = await iotbox("update", "install", f);
    expect(r.code).toBe(1);
    expect(r.err).toContain("ERR_IOT_UPDATE_FOREIGN_SIGNATURE: This update is signed by someone other than the vendor");
    expect(r.err).not.toContain("Verify error");
    expect(read("installs")).toBe("");
    expect(readFileSync(join(data, "log/update-cli.log"), "utf8")).toContain("self-signed certificate");   // rauc's words: logged
    const s = await iotbox("update", "status");
    expect(s.out).toContain("running: 0.2.0+g666093c81f (build 1764000000)");
    expect(s.out).toContain("channel: stable");
    expect(s.out).toContain("last refusal: ERR_IOT_UPDATE_FOREIGN_SIGNATURE");
  });

  test("install FILE --no-reboot installs without rebooting; install FILE installs and runs update-reboot", async () => {
    const a = makeBundle(dir, { key, version: "0.2.1", build: 1_769_000_000, name: "a.raucb" });
    const r = await iotbox("update", "install", a, "--no-reboot");
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain("installed 0.2.1");
    expect(read("installs").trim()).toBe(a);
    expect(read("reboots")).toBe("");
    const b = makeBundle(dir, { key, version: "0.2.2", build: 1_769_000_000, name: "b.raucb" });
    expect((await iotbox("update", "install", b)).out).toContain("rebooting into it");
    expect(read("reboots").trim()).toBe("reboot");
  });

  test("install FILE while the running box starts a payment during the install: no reboot then; it waits for the payment", async () => {
    // the running box (its /api/status on loopback): no payment when the command starts, one from 1 s on
    const t0 = Date.now();
    const daemon = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ update: { paymentInFlight: Date.now() - t0 > 1000 } }) });
    // RAUC takes 4 s to write the slot here
    writeFileSync(join(root, "usr/bin/rauc"), `#!/bin/sh\nif [ "$1" = install ]; then sleep 4; echo "$2" >> "${root}/installs"; exit 0; fi\nexec rauc "$@"\n`);
    try {
      const before = read("reboots");
      const c = makeBundle(dir, { key, version: "0.2.3", build: 1_769_000_000, name: "c.raucb" });
      const own = join(dir, "data-payment"); // its own state: the pending install stays out of the other tests
      const p = Bun.spawn([process.execPath, MAIN, "update", "install", c, "--data-dir", own, "--boot-dir", join(dir, "boot"), "--http-port", String(daemon.port)], {
        env: { ...process.env, IOTBOX_HOST_ROOT: root, IOTBOX_LOG_LEVEL: "error" }, stdout: "pipe", stderr: "pipe" });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect(code).toBe(0);
      expect(out).toContain("installed 0.2.3");
      expect(out).not.toContain("rebooting into it");
      expect(read("reboots")).toBe(before);
      expect(JSON.parse(readFileSync(join(own, "update.json"), "utf8")).pendingReboot).toMatchObject({ version: "0.2.3" });
    } finally {
      daemon.stop(true);
      writeFileSync(join(root, "usr/bin/rauc"), `#!/bin/sh\nif [ "$1" = install ]; then echo "$2" >> "${root}/installs"; exit 0; fi\nexec rauc "$@"\n`);
    }
  }, 60_000);

  test("hold / resume; status --json; iotbox status --json has the update section", async () => {
    expect((await iotbox("update", "hold")).code).toBe(0);
    const j = JSON.parse((await iotbox("update", "status", "--json")).out);
    expect(j).toMatchObject({ held: true, channel: "stable", running: { version: "0.2.0+g666093c81f" }, pendingReboot: { version: "0.2.2" } });
    expect((await iotbox("update", "resume")).code).toBe(0);
    const st = JSON.parse((await iotbox("status", "--json")).out);
    expect(st.update).toMatchObject({ held: false, channel: "stable" });
    expect((await iotbox("update", "frobnicate")).code).toBe(2);
    expect((await iotbox("update", "install")).code).toBe(2);
  });
});
