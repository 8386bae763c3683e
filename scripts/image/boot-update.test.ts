// Updates in the field, booted for real (qemu-system-aarch64 -M virt): the card's two system
// slots, RAUC with the custom bootloader backend (overlay/usr/lib/iotbox/rauc-bootloader), the
// firmware's part played by the harness (firmware.ts: config.txt at every boot; tryboot.txt only
// when the kernel passed the firmware its one-shot flag, which Debian's does not: the one trial
// boot is then config.txt itself, armed by update-reboot and given back by the trial's own init).
// The bundles are the build's own (out/*.raucb), re-made here with another version
// and, for the crash case, a runtime that exits at once, signed with the same (test) vendor key.
// The tests run in order on one card; each starts from where the previous one left the box.
import { expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync, copyFileSync, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { startFleet, freePort, type Fleet } from "../../testkit";
import { boot, cardFrom, latestImage, readBootFile, listBootFilesDeep, writeBootFile, writeDataFiles, GUEST_HOST_ALIAS, type Machine } from "./qemu";
import { imageTestScope } from "./scope";
import { httpsGet, ssh, waitUntil, type Ssh } from "./box";
import { baseBuild, remakeBundle as remakeBundle_, sh, VENDOR } from "./bundles";

let fleet: Fleet | null = null;
let machine: Machine | null = null;
const { tmp, log } = imageTestScope("update", () => ({ machine, fleet }));

const remakeBundle = (name: string, version: string, build: number, debugfsCmds: string[] = []) => remakeBundle_(tmp, name, version, build, debugfsCmds);

let updatesDir = "";
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
async function rebooted(m: Machine, waitMs = 240_000): Promise<boolean> {
  const how = await Promise.race([m.exited, Bun.sleep(waitMs).then(() => "timeout")]);
  if (how === "timeout") { // still up: what the update command said
    const said = await box.run("tail -n 20 /var/tmp/check.log /var/tmp/install.log /var/lib/iotbox/log/update-cli.log 2>&1; iotbox update status", 30_000).catch((e) => ({ out: String(e) }));
    throw new Error(`no reboot within ${waitMs / 1000} s:\n${said.out}\n--- console:\n${m.serial().slice(-1500)}`);
  }
  expect(how, m.serial().slice(-2000)).toBe(0);
  machine = null;
  return m.trybootNext();
}
const bootFile = (n: string) => (listBootFilesDeep(card).includes(n) ? readBootFile(card, n).toString() : null);

test("two system slots: the box runs slot A from slot-a/ (config.txt), slot B is empty, RAUC sees both", async () => {
  updatesDir = join(tmp, "updates");
  fleet = await startFleet({ extraIpSans: [GUEST_HOST_ALIAS], serveArgs: ["--updates-dir", updatesDir] });
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
  // the daemon's own daily look must not race the test: held (the state is on the data partition,
  // kept by every update); an asked-for look or install still runs
  expect(await box.sh("iotbox update hold")).toContain("held");
  const view = JSON.parse(await box.sh("iotbox update status --json"));
  expect(view).toMatchObject({ running: { version: baseVersion(), build: baseBuild() }, channel: "stable", held: true, lastResult: null, slots: { booted: "A" } });
}, 900_000);

/** Publishes a bundle on the fleet's update channel "stable" (the vendor's step, README). */
async function publish(bundle: string) {
  const r = await fleet!.provisionerCli(["publish-update", bundle, "--channel", "stable", "--updates-dir", updatesDir, "--keyring", VENDOR.cert]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
}
/** Starts an `iotbox update …` command on the box that outlives the SSH session (it may reboot the box). */
async function detached(cmd: string, logFile: string) {
  await box.run(`nohup setsid sh -c '${cmd} > ${logFile} 2>&1' < /dev/null > /dev/null 2>&1 &`);
}
const statusJson = async () => (await (await fetch(`http://127.0.0.1:${ports.http}/api/status`, { signal: AbortSignal.timeout(10_000) })).json()) as any;

test("a good bundle from the vendor's channel: downloaded, checked, installed into slot B, one trial boot, healthy, committed; certificate and configuration kept", async () => {
  const next = `${baseVersion()}.next`;
  await publish(remakeBundle("next", next, baseBuild() + 1));
  const configSum = await box.sh("sha256sum /var/lib/iotbox/config.json");
  const t0 = performance.now();
  const m = machine!;
  await detached("iotbox update check --install", "/var/tmp/check.log");
  expect(await rebooted(m, 900_000)).toBe(false); // Debian's kernel cannot set the firmware's flag: config.txt is armed instead
  log(`look + download + install + reboot: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  expect(bootFile("config.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("config.committed.txt")).toContain("os_prefix=slot-a/");
  expect(bootFile("tryboot.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("slot-b/cmdline.txt")).toMatch(/root=PARTUUID=[0-9a-f]{8}-03 rauc\.slot=B$/m);
  log("boot: one-shot config.txt → slot B");
  const b = await up(false);
  expect(b.firmware).toMatchObject({ configFile: "config.txt", osPrefix: "slot-b/" });
  log(`the look said: ${(await box.sh("cat /var/tmp/check.log")).replace(/\n/g, " | ")}`); // (the reboot may cut its last line)
  await waitUntil("slot B committed", 300_000, async () => ((await box.sh("cat /var/lib/iotbox-os/update/result 2>/dev/null || true")).includes("installed") ? true : null), 3000);
  log(`look → HTTPS on the new version, committed: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  expect(await box.sh("cat /usr/lib/iotbox/VERSION")).toBe(next);
  expect(await box.sh("findmnt -no SOURCE /")).toBe("/dev/vda3");
  expect(bootFile("config.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("tryboot.txt")).toBeNull();
  expect(bootFile("config.committed.txt")).toBeNull();
  expect(await storedLeaf()).toBe(fingerprint);
  expect(await box.sh("sha256sum /var/lib/iotbox/config.json")).toBe(configSum);
  expect((await httpsGet(ports.https, boxName, pebbleRoot, "/")).fingerprint256).toBe(fingerprint);
  expect(await box.sh("ls /var/lib/iotbox-os/update/download/")).toBe(""); // the bundle's space given back
  const st = await statusJson();
  expect(st.update).toMatchObject({ running: { version: next }, held: true, lastResult: { outcome: "installed", version: next }, slots: { booted: "B" } });
}, 1_800_000);

test("a bundle whose runtime crashes at start: its trial boot is given up, the box is back on the old version by itself and says so", async () => {
  const broken = `${baseVersion()}.crash`;
  writeFileSync(join(tmp, "crash"), "#!/bin/sh\necho 'iotbox: crashing at start on purpose (update test)' >&2\nexit 1\n");
  // the trial deadline of this bundle's slot-health: 40 s instead of 300 (the test's patience)
  const unit = readFileSync(resolve(import.meta.dir, "../../overlay/etc/systemd/system/iotbox-slot-health.service"), "utf8")
    .replace(/IOTBOX_TRIAL_SECONDS=\d+/, "IOTBOX_TRIAL_SECONDS=40");
  writeFileSync(join(tmp, "slot-health.service"), unit);
  const bundle = remakeBundle("crash", broken, baseBuild() + 2, [
    "rm /usr/lib/iotbox/iotbox", `write ${tmp}/crash /usr/lib/iotbox/iotbox`, "sif /usr/lib/iotbox/iotbox mode 0100755",
    "rm /etc/systemd/system/iotbox-slot-health.service", `write ${tmp}/slot-health.service /etc/systemd/system/iotbox-slot-health.service`,
  ]);
  const good = await box.sh("cat /usr/lib/iotbox/VERSION");
  scp(bundle, "/var/tmp/crash.raucb");
  const m = machine!;
  await detached("iotbox update install /var/tmp/crash.raucb && rm -f /var/tmp/crash.raucb", "/var/tmp/install.log");
  expect(await rebooted(m, 900_000)).toBe(false);
  expect(bootFile("config.txt")).toContain("os_prefix=slot-a/");
  const t0 = performance.now();
  log("boot: one-shot config.txt → slot A with the crashing runtime");
  const trial = boot({ card, forwards, hostServices });
  machine = trial;
  expect(trial.firmware.osPrefix).toBe("slot-a/");
  // its init gives config.txt back to the committed slot B at once
  await trial.waitForSerial(/login:/, 300_000);
  expect(bootFile("config.txt")).toContain("os_prefix=slot-b/");
  expect(bootFile("config.committed.txt")).toBeNull();
  // nobody touches it: slot-health gives up after its deadline and reboots; the firmware reads config.txt
  expect(await rebooted(trial)).toBe(false);
  const back = await up(false);
  log(`rollback complete (HTTPS on the old version): ${((performance.now() - t0) / 1000).toFixed(1)} s after the trial boot started`);
  expect(back.firmware).toMatchObject({ configFile: "config.txt", osPrefix: "slot-b/" });
  expect(await box.sh("cat /usr/lib/iotbox/VERSION")).toBe(good);
  await waitUntil("the rollback recorded", 120_000, async () => ((await box.sh("cat /var/lib/iotbox-os/update/result 2>/dev/null || true")).includes("rolled-back") ? true : null), 3000);
  expect(await box.sh("cat /var/lib/iotbox-os/update/result")).toContain(broken);
  expect(await box.sh("/usr/lib/iotbox/rauc-bootloader get-state A")).toBe("bad");
  expect(bootFile("tryboot.txt")).toBeNull();
  expect(await storedLeaf()).toBe(fingerprint);
  expect((await httpsGet(ports.https, boxName, pebbleRoot, "/")).fingerprint256).toBe(fingerprint);
  // said on the homepage, in /api/status and in `iotbox update status`
  const page = await httpsGet(ports.https, boxName, pebbleRoot, "/");
  expect(page.body).toContain('id="update-rolled-back"');
  expect(page.body).toContain("went back to the previous version by itself");
  expect((await statusJson()).update).toMatchObject({ running: { version: good }, lastResult: { outcome: "rolled-back", version: broken } });
  expect(await box.sh("iotbox update status")).toContain("went back to the previous one by itself");
}, 1_800_000);

test("a tampered, a truncated, an older and the same bundle: each refused with its reason before a byte is written to the other slot", async () => {
  const good = join(tmp, "next.raucb");
  const tampered = join(tmp, "tampered.raucb");
  copyFileSync(good, tampered);
  const fd = openSync(tampered, "r+");
  writeSync(fd, Buffer.from("tampered"), 0, 8, Math.floor(statSync(tampered).size / 2)); // inside the payload
  closeSync(fd);
  const truncated = join(tmp, "truncated.raucb");
  writeFileSync(truncated, readFileSync(good).subarray(0, Math.floor(statSync(good).size * 0.7))); // a download cut short
  // signed by the vendor, but older than what runs (slot B runs .next, build +1), and that same one again
  const older = remakeBundle("older", `${baseVersion()}.older`, baseBuild());
  const cases: [string, string, RegExp][] = [
    [tampered, "tampered", /^ERR_IOT_UPDATE_DAMAGED: /m], [truncated, "truncated", /^ERR_IOT_UPDATE_(DAMAGED|UNSIGNED): /m],
    [older, "older", /^ERR_IOT_UPDATE_OLDER: /m], [good, "same", /^ERR_IOT_UPDATE_SAME: /m],
  ];
  const before = await box.sh("dd if=/dev/vda2 bs=1M count=64 status=none | sha256sum");
  for (const [file, name, why] of cases) {
    scp(file, `/var/tmp/${name}.raucb`);
    // one bundle at a time on /var (four would not fit the test card's data partition); the older one stays for RAUC below
    const inst = await box.run(`iotbox update install /var/tmp/${name}.raucb; echo exit=$?; [ ${name} = older ] || rm -f /var/tmp/${name}.raucb`, 900_000);
    log(`${name}: ${inst.out.trim().split("\n")[0]}`);
    expect(inst.out, name).toContain("exit=1");
    expect(inst.out, name).toMatch(why);
    expect(await box.sh("dd if=/dev/vda2 bs=1M count=64 status=none | sha256sum"), name).toBe(before);
    expect(bootFile("tryboot.txt"), name).toBeNull();
    expect(bootFile("config.txt"), name).toContain("os_prefix=slot-b/");
    expect(await box.sh("/usr/lib/iotbox/rauc-bootloader get-state A"), name).toBe("bad"); // still the failed crash slot, never made primary
  }
  expect((await statusJson()).update.lastError).toMatchObject({ code: "ERR_IOT_UPDATE_SAME" });
  // RAUC itself, asked by hand, refuses the older one too (its pre-install handler)
  const raw = await box.run("rauc install /var/tmp/older.raucb; echo exit=$?", 900_000);
  expect(raw.out).toContain("exit=1");
  expect(raw.out).toContain("Pre-install handler error");
  expect(await box.sh("dd if=/dev/vda2 bs=1M count=64 status=none | sha256sum")).toBe(before);
  await box.run("rm -f /var/tmp/*.raucb");
}, 1_800_000);

test("power cut during the download, during the install and during the first boot of the new slot: the box boots a working system each time", async () => {
  const v3 = `${baseVersion()}.v3`;
  await publish(remakeBundle("v3", v3, baseBuild() + 3));
  const good = await box.sh("cat /usr/lib/iotbox/VERSION");
  const dl = "/var/lib/iotbox-os/update/download";
  /** Power cut now; the box comes back on the committed slot B, its version and certificate. */
  const cutThenStillGood = async (during: string) => {
    log(`power cut during ${during}`);
    await machine!.powerCut();
    machine = null;
    await up(false);
    expect(machine!.firmware.osPrefix, during).toBe("slot-b/");
    expect(await box.sh("cat /usr/lib/iotbox/VERSION"), during).toBe(good);
    expect(await storedLeaf(), during).toBe(fingerprint);
  };
  const partSize = async () => Number((await box.sh(`stat -c %s ${dl}/*.part 2>/dev/null || echo 0`)).split("\n")[0]);
  // 1. during the download
  await detached("iotbox update check --install", "/var/tmp/check.log");
  await waitUntil("the download under way", 300_000, async () => ((await partSize()) > 16 << 20 ? true : null), 500);
  await cutThenStillGood(`the download (${((await partSize()) / 1048576).toFixed(0)} MiB of it on the card)`);
  const kept = await partSize();
  expect(kept).toBeGreaterThan(0); // the part already fetched stays for the next attempt
  // 2. during the install: the download resumes and completes, then cut while RAUC writes slot A
  await detached("iotbox update check --install", "/var/tmp/check.log");
  await waitUntil("RAUC writing slot A", 600_000, async () =>
    (/Copying image/.test(await box.sh("busctl get-property de.pengutronix.rauc / de.pengutronix.rauc.Installer Progress 2>/dev/null || true")) ? true : null), 1000);
  await Bun.sleep(5_000);
  await cutThenStillGood("the install");
  // 3. the whole install (the downloaded bundle is still there), its reboot, and a cut during that first boot
  const m = machine!;
  await detached("iotbox update check --install", "/var/tmp/check.log");
  expect(await rebooted(m, 900_000)).toBe(false);
  const trial = boot({ card, forwards, hostServices });
  machine = trial;
  expect(trial.firmware.osPrefix).toBe("slot-a/");
  // 20 s in: the kernel and init have run, systemd is starting (virt reaches the login prompt at ~35 s)
  await Bun.sleep(20_000);
  expect(await Promise.race([trial.exited.then(() => "exited"), Bun.sleep(10).then(() => "running")])).toBe("running");
  log("power cut during the first boot of slot A");
  await trial.powerCut();
  machine = null;
  const afterTrialCut = await up(false); // the trial's init had given config.txt back
  expect(afterTrialCut.firmware).toMatchObject({ configFile: "config.txt", osPrefix: "slot-b/" });
  expect(await box.sh("cat /usr/lib/iotbox/VERSION")).toBe(good);
  await waitUntil("the failed trial recorded", 120_000, async () => ((await box.sh("cat /var/lib/iotbox-os/update/result 2>/dev/null || true")).includes(`rolled-back ${v3}`) ? true : null), 3000);
  expect(await storedLeaf()).toBe(fingerprint);
  await box.run("systemctl poweroff");
  expect(await Promise.race([machine!.exited, Bun.sleep(120_000).then(() => "timeout")])).toBe(0);
  machine = null;
}, 2_400_000);
