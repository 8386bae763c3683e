// Updates in the field, booted for real (qemu-system-aarch64 -M virt): the card's two system
// slots, RAUC with the custom bootloader backend (overlay/usr/lib/iotbox/rauc-bootloader), the
// firmware's part played by the harness (firmware.ts: config.txt, or tryboot.txt once after a
// reboot whose argument is "0 tryboot", read from the kernel's console line; a power cut clears
// the flag). The bundles are the build's own (out/*.raucb), re-made here with another version
// and, for the crash case, a runtime that exits at once, signed with the same (test) vendor key.
// The tests run in order on one card; each starts from where the previous one left the box.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { startFleet, freePort, type Fleet } from "../../testkit";
import { boot, cardFrom, latestImage, readBootFile, listBootFilesDeep, writeBootFile, writeDataFiles, GUEST_HOST_ALIAS, type Machine } from "./qemu";
import { httpsGet, ssh, waitUntil, type Ssh } from "./box";

const CACHE = process.env.IOTBOX_IMAGE_CACHE ?? "/var/cache/iotbox-image";
const VENDOR = { cert: process.env.IOTBOX_VENDOR_CERT ?? join(CACHE, "vendor-test/cert.pem"), key: process.env.IOTBOX_VENDOR_KEY ?? join(CACHE, "vendor-test/key.pem") };
const tmp = mkdtempSync("/tmp/iotbox-image-update-");
let fleet: Fleet | null = null;
let machine: Machine | null = null;
afterAll(async () => {
  if (machine) await machine.powerCut();
  await fleet?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
const log = (msg: string) => console.log(`[image update ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function sh(cmd: string[], input?: string): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} → ${r.status}: ${r.stderr}${r.stdout}`.slice(-3000));
  return r.stdout;
}

/**
 * A bundle made from the build's: its root file system with another version stamped in, and
 * `edit` applied (debugfs commands on the ext4 image), signed with the vendor key.
 */
function remakeBundle(name: string, version: string, debugfsCmds: string[] = []): string {
  const image = latestImage();
  const src = image.replace(/\.img$/, ".raucb");
  const dir = join(tmp, `bundle-${name}`);
  sh(["rauc", "extract", "--keyring", VENDOR.cert, src, dir]);
  const files = join(tmp, `files-${name}`);
  sh(["mkdir", "-p", files]);
  writeFileSync(join(files, "VERSION"), `${version}\n`);
  const release = sh(["debugfs", "-R", "cat /etc/iotbox-release", join(dir, "rootfs.ext4")]).replace(/^IOTBOX_VERSION=.*$/m, `IOTBOX_VERSION=${version}`);
  writeFileSync(join(files, "iotbox-release"), release);
  const cmds = ["rm /usr/lib/iotbox/VERSION", `write ${files}/VERSION /usr/lib/iotbox/VERSION`,
    "rm /etc/iotbox-release", `write ${files}/iotbox-release /etc/iotbox-release`, ...debugfsCmds.map((c) => c.replaceAll("@FILES@", files))];
  sh(["debugfs", "-w", "-f", "-", join(dir, "rootfs.ext4")], cmds.join("\n"));
  expect(sh(["debugfs", "-R", "cat /usr/lib/iotbox/VERSION", join(dir, "rootfs.ext4")]).trim()).toBe(version);
  const manifest = readFileSync(join(dir, "manifest.raucm"), "utf8").replace(/^version=.*$/m, `version=${version}`);
  writeFileSync(join(dir, "manifest.raucm"), manifest.replace(/^\[image\.rootfs\][\s\S]*$/m, "[image.rootfs]\nfilename=rootfs.ext4\n"));
  const out = join(tmp, `${name}.raucb`);
  // zstd level 3 here (the build uses 15): the test's bundles are made while QEMU runs
  sh(["rauc", "bundle", `--cert=${VENDOR.cert}`, `--key=${VENDOR.key}`, `--keyring=${VENDOR.cert}`,
    "--mksquashfs-args=-comp zstd -Xcompression-level 3", dir, out]);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

let card = "", box: Ssh, ports = { https: 0, http: 0, ssh: 0 }, key = "", boxName = "", pebbleRoot = "", fingerprint = "";
let forwards: { host: number; guest: number }[] = [], hostServices: { port: number }[] = [];
const baseVersion = () => readFileSync(join(resolve(import.meta.dir, "../../dist"), "VERSION"), "utf8").trim();

async function up(tryboot: boolean): Promise<Machine> {
  const m = boot({ card, forwards, hostServices, tryboot });
  machine = m;
  await m.waitForSerial(/login:/, 300_000);
  await waitUntil("HTTPS with the fleet's certificate", 300_000, async () => {
    const r = await httpsGet(ports.https, boxName, pebbleRoot, "/");
    return r.status === 200 ? r : null;
  });
  return m;
}
async function storedLeaf(): Promise<string> {
  const pem = await box.sh("cat /var/lib/iotbox/cert/current.pem");
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  return first ? new X509Certificate(first[0]).fingerprint256 : "none";
}
function scp(file: string, to: string) {
  sh(["scp", "-q", "-i", key, "-P", String(ports.ssh), "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${join(tmp, "known_hosts")}`,
    "-o", "StrictHostKeyChecking=accept-new", file, `root@127.0.0.1:${to}`]);
}
async function rebooted(m: Machine): Promise<boolean> {
  expect(await Promise.race([m.exited, Bun.sleep(240_000).then(() => "timeout")]), m.serial().slice(-2000)).toBe(0);
  machine = null;
  return m.trybootNext();
}
const bootFile = (n: string) => (listBootFilesDeep(card).includes(n) ? readBootFile(card, n).toString() : null);

test("two system slots: the box runs slot A from slot-a/ (config.txt), slot B is empty, RAUC sees both", async () => {
  fleet = await startFleet({ extraIpSans: [GUEST_HOST_ALIAS] });
  ports = { https: await freePort(), http: await freePort(), ssh: await freePort() };
  forwards = [{ host: ports.https, guest: 443 }, { host: ports.http, guest: 80 }, { host: ports.ssh, guest: 22 }];
  hostServices = [{ port: Number(new URL(fleet.provisioningUrl).port) }];
  pebbleRoot = await fleet.pebbleRootPem();
  key = join(tmp, "id_ed25519");
  sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "update-test", "-f", key]);
  box = ssh(ports.ssh, key, tmp);
  card = cardFrom(latestImage(), tmp, 768); // room on /var for a bundle
  writeBootFile(card, "iotbox.conf", ["server_url = https://odoo.test", `provisioning_url = ${fleet.provisioningUrl.replace("127.0.0.1", GUEST_HOST_ALIAS)}`,
    `db_uuid = ${fleet.eligible.db_uuid}`, `enterprise_code = ${fleet.eligible.enterprise_code}`, ""].join("\n"));
  writeBootFile(card, "iotbox-ca.pem", readFileSync(fleet.caBundleFile));
  // the SSH key as Imager's customisation would leave it (without its extra boots)
  writeDataFiles(card, [{ path: "/lib/iotbox-os/ssh/authorized_keys", content: readFileSync(`${key}.pub`, "utf8"), mode: 0o600, dirMode: 0o700 }]);

  log("boot: slot A");
  machine = boot({ card, forwards, hostServices });
  await machine.waitForSerial(/login:/, 300_000);
  const status = await waitUntil("a certificate", 300_000, async () => {
    const r = await fetch(`http://127.0.0.1:${ports.http}/api/status`, { signal: AbortSignal.timeout(10_000) });
    const s = await r.json() as any;
    return s.cert?.code === null && s.cert?.url ? s : null;
  });
  boxName = new URL(status.cert.url).hostname;
  fingerprint = (await httpsGet(ports.https, boxName, pebbleRoot, "/")).fingerprint256;
  expect(machine.firmware).toMatchObject({ configFile: "config.txt", osPrefix: "slot-a/" });
  expect(await box.sh("cat /proc/cmdline")).toMatch(/root=PARTUUID=[0-9a-f]{8}-02 rauc\.slot=A/);
  expect(await box.sh("findmnt -no SOURCE /")).toBe("/dev/vda2");
  expect(await box.sh("findmnt -no SOURCE /var")).toBe("/dev/vda4");
  const rs = await box.sh("rauc status --output-format=shell");
  expect(rs).toContain("RAUC_SYSTEM_BOOTED_BOOTNAME='A'");
  expect(rs).toMatch(/RAUC_SLOT_DEVICE_\d='\/dev\/vda3'/);
  expect(await box.sh("/usr/lib/iotbox/rauc-bootloader get-primary")).toBe("A");
  expect(await box.sh("/usr/lib/iotbox/rauc-bootloader get-state B")).toBe("bad");
  expect(await storedLeaf()).toBe(fingerprint);
}, 900_000);

test("a good bundle: installed into slot B, one tryboot boot, healthy, committed; the certificate and configuration kept", async () => {
  const next = `${baseVersion()}.next`;
  const bundle = remakeBundle("next", next);
  const configSum = await box.sh("sha256sum /var/lib/iotbox/config.json");
  scp(bundle, "/var/tmp/next.raucb");
  const t0 = performance.now();
  const inst = await box.run("rauc install /var/tmp/next.raucb", 900_000);
  log(`rauc install: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  expect(inst.code, inst.out).toBe(0);
  expect(bootFile("tryboot.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("config.txt")).toContain("os_prefix=slot-a/");
  expect(bootFile("slot-b/cmdline.txt")).toMatch(/root=PARTUUID=[0-9a-f]{8}-03 rauc\.slot=B$/m);
  await box.run("rm -f /var/tmp/next.raucb");
  const m = machine!;
  await box.run("/usr/lib/iotbox/update-reboot");
  expect(await rebooted(m)).toBe(true); // the kernel printed "0 tryboot": the firmware's flag is set
  log("boot: tryboot → slot B");
  const b = await up(true);
  expect(b.firmware).toMatchObject({ configFile: "tryboot.txt", osPrefix: "slot-b/" });
  await waitUntil("slot B committed", 300_000, async () => ((await box.sh("cat /var/lib/iotbox-os/update/result 2>/dev/null || true")).includes("installed") ? true : null), 3000);
  log(`install → HTTPS on the new version, committed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  expect(await box.sh("cat /usr/lib/iotbox/VERSION")).toBe(next);
  expect(await box.sh("findmnt -no SOURCE /")).toBe("/dev/vda3");
  expect(bootFile("config.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("tryboot.txt")).toBeNull();
  expect(await storedLeaf()).toBe(fingerprint);
  expect(await box.sh("sha256sum /var/lib/iotbox/config.json")).toBe(configSum);
  expect((await httpsGet(ports.https, boxName, pebbleRoot, "/")).fingerprint256).toBe(fingerprint);
  // a normal reboot now stays on B (config.txt), no tryboot
  await box.run("systemctl reboot");
  expect(await rebooted(b)).toBe(false);
  const again = await up(false);
  expect(again.firmware).toMatchObject({ configFile: "config.txt", osPrefix: "slot-b/" });
  expect(await box.sh("cat /usr/lib/iotbox/VERSION")).toBe(next);
}, 1_800_000);
