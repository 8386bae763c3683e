// Benchmark of the SD-card image: build times (cold, warm), sizes, and boot times under QEMU
// (qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1024, TCG emulation on this x86-64 host).
//   bun bench/image.ts [--no-build] [--runs N] [--raspi3b-runs N] [--update-runs N]      (as root)
// Cold build: read from $IMAGE_CACHE/build-times.jsonl, the record of the last build that had to
// make the base root filesystem (or base seconds + a warm assembly when the base was built alone).
// Warm build: measured now (scripts/image/build.sh with the cached base), unless --no-build.
// Boot: a fresh copy of the image per run with an iotbox.conf pointing at a test fleet; times from
// QEMU start to the login prompt, to the HTTPS homepage (the box's temporary self-signed
// certificate: measured, not trusted) and to the homepage under the Pebble-issued certificate
// (verified against Pebble's root with SNI = the box's name). Probes every 250 ms; the homepage
// probe gives up after 1 s (before the guest has its address, QEMU's forward accepts and then
// nothing answers). The same start → HTTPS homepage on QEMU's Raspberry Pi 3 B model (-M raspi3b,
// the card grown to a power of two; --raspi3b-runs, default 1: one such boot takes ~3 min here).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import { join, resolve } from "node:path";
import { startFleet, freePort } from "../testkit";
import { boot, cardFrom, growToPowerOfTwo, latestImage, partitions, writeBootFile, type MachineKind } from "../scripts/image/qemu";
import { GUEST_HOST_ALIAS } from "../scripts/image/qemu";
import { httpJson, httpsGet, ssh, waitUntil } from "../scripts/image/box";
import { setClockFile, writeDataFiles } from "../scripts/image/qemu";
import { baseBuild, remakeBundle, sh, VENDOR } from "../scripts/image/bundles";

const REPO = resolve(import.meta.dir, "..");
const CACHE = process.env.IOTBOX_IMAGE_CACHE ?? "/var/cache/iotbox-image";
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 0) || 3;
const raspiRuns = args.includes("--raspi3b-runs") ? Number(args[args.indexOf("--raspi3b-runs") + 1]) : 1;
const updateRuns = args.includes("--update-runs") ? Number(args[args.indexOf("--update-runs") + 1]) : 1;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN; };
const fmt = (s: number) => (Number.isFinite(s) ? `${s.toFixed(1)} s` : "n/a");
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;

interface BuildRecord { at: string; version: string; cold: boolean; base_seconds: number | null; total_seconds: number; xz: boolean }
const records = (): BuildRecord[] => existsSync(join(CACHE, "build-times.jsonl"))
  ? readFileSync(join(CACHE, "build-times.jsonl"), "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];

// Build times
let warm = NaN;
if (!args.includes("--no-build")) {
  const t = performance.now();
  const r = spawnSync("bash", ["scripts/image/build.sh"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error("image build failed");
  warm = (performance.now() - t) / 1000;
} else {
  const last = records().filter((r) => !r.cold && r.xz).at(-1);
  warm = last?.total_seconds ?? NaN;
}
const coldRec = records().filter((r) => r.cold && r.xz).at(-1);
const baseSeconds = readdirSync(CACHE).filter((f) => f.endsWith(".tar.build-seconds"))
  .map((f) => ({ f, m: statSync(join(CACHE, f)).mtimeMs })).sort((a, b) => b.m - a.m)
  .map(({ f }) => Number(readFileSync(join(CACHE, f), "utf8")))[0] ?? NaN;
const cold = coldRec ? coldRec.total_seconds : baseSeconds + warm;
const coldHow = coldRec ? `recorded cold build ${coldRec.at}` : "recorded base build + warm assembly";

// Sizes
const img = latestImage();
const rawSize = statSync(img).size;
const allocated = Number(spawnSync("du", ["--block-size=1", img], { encoding: "utf8" }).stdout.split("\t")[0]);
const xzSize = existsSync(`${img}.xz`) ? statSync(`${img}.xz`).size : NaN;
const bundle = img.replace(/\.img$/, ".raucb");
const bundleSize = existsSync(bundle) ? statSync(bundle).size : NaN;
const parts = partitions(img);

// Boot times
const tmp = mkdtempSync("/tmp/iotbox-bench-image-");
const updatesDir = join(tmp, "updates");
const fleet = await startFleet({ extraIpSans: [GUEST_HOST_ALIAS], serveArgs: ["--updates-dir", updatesDir] });
const root = await fleet.pebbleRootPem();
interface BootTimes { login: number[]; selfSigned: number[]; issued: number[] }
const virt: BootTimes = { login: [], selfSigned: [], issued: [] };
const raspi: BootTimes = { login: [], selfSigned: [], issued: [] };
const { login, selfSigned, issued } = virt;
/** The HTTPS homepage answers at all (TLS handshake with the temporary certificate + HTTP 200). */
const homepageAnswers = (port: number) => new Promise<boolean>((res) => {
  const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "iotbox" }, () => {
    s.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); // an address the box answers to (Host allow-list)
  });
  let buf = "";
  // 1 s: until the guest has its address, QEMU's port forward accepts the connection and then
  // nothing answers; a longer timeout would measure the probe, not the box
  s.setTimeout(1000, () => { s.destroy(); res(false); });
  s.on("data", (d) => (buf += d));
  s.on("end", () => res(/^HTTP\/1\.1 200/.test(buf)));
  s.on("error", () => res(false));
});
async function measure(machine: MachineKind, times: BootTimes): Promise<void> {
  const dir = mkdtempSync(join(tmp, "run-"));
  const card = cardFrom(img, dir, 0);
  if (machine === "raspi3b") {
    growToPowerOfTwo(card);
    setClockFile(card, new Date()); // no RTC on a Pi 3 and no NTP here: else no certificate is valid yet
  }
  writeBootFile(card, "iotbox.conf", `server_url = https://odoo.test\nprovisioning_url = ${fleet.provisioningUrl.replace("127.0.0.1", GUEST_HOST_ALIAS)}\n` +
    `db_uuid = ${fleet.eligible.db_uuid}\nenterprise_code = ${fleet.eligible.enterprise_code}\n`);
  writeBootFile(card, "iotbox-ca.pem", readFileSync(fleet.caBundleFile));
  const ports = { https: await freePort(), http: await freePort() };
  const m = boot({ card, machine, forwards: [{ host: ports.https, guest: 443 }, { host: ports.http, guest: 80 }],
    hostServices: [{ port: Number(new URL(fleet.provisioningUrl).port) }] });
  const limit = machine === "raspi3b" ? 600_000 : 300_000; // 4 emulated A53s are slower than 2 A72s
  try {
    const since = () => (performance.now() - m.startedAt) / 1000;
    const loginP = m.waitForSerial(/login:/, limit).then(() => since());
    await waitUntil("HTTPS homepage", limit, async () => ((await homepageAnswers(ports.https)) ? true : null), 250);
    times.selfSigned.push(since());
    const st = await waitUntil("certificate", limit, async () => {
      const s = await httpJson(ports.http, "/api/status");
      return s.cert?.code === null && s.cert?.url ? s : null;
    }, 250);
    const name = new URL(st.cert.url).hostname;
    await waitUntil("HTTPS with the issued certificate", 120_000, async () =>
      ((await httpsGet(ports.https, name, root, "/")).status === 200 ? true : null), 250);
    times.issued.push(since());
    times.login.push(await loginP);
  } finally {
    await m.powerCut();
    rmSync(dir, { recursive: true, force: true });
  }
}
/**
 * One update in the field on a fresh card (virt), as boot-update.test.ts does it: a bundle that
 * changes only the runtime (its version stamped in) published on the fleet's channel; the box
 * asked to look (`iotbox update check --install`): download, check, install, reboot once into the
 * new slot, health check, commit. Then a bundle whose runtime exits at start (its trial deadline
 * cut to 40 s): from the trial boot's start to HTTPS served again by the old version.
 */
const update = { downloaded: [] as number[], installToHttps: [] as number[], rollback: [] as number[] };
let updateRun = 0;
async function measureUpdate(): Promise<void> {
  const dir = mkdtempSync(join(tmp, "update-"));
  const card = cardFrom(img, dir, 768);
  const ports = { https: await freePort(), http: await freePort(), ssh: await freePort() };
  const forwards = [{ host: ports.https, guest: 443 }, { host: ports.http, guest: 80 }, { host: ports.ssh, guest: 22 }];
  const hostServices = [{ port: Number(new URL(fleet.provisioningUrl).port) }];
  writeBootFile(card, "iotbox.conf", `server_url = https://odoo.test\nprovisioning_url = ${fleet.provisioningUrl.replace("127.0.0.1", GUEST_HOST_ALIAS)}\n` +
    `db_uuid = ${fleet.eligible.db_uuid}\nenterprise_code = ${fleet.eligible.enterprise_code}\n`);
  writeBootFile(card, "iotbox-ca.pem", readFileSync(fleet.caBundleFile));
  const key = join(dir, "id_ed25519");
  sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key]);
  writeDataFiles(card, [{ path: "/lib/iotbox-os/ssh/authorized_keys", content: readFileSync(`${key}.pub`, "utf8"), mode: 0o600, dirMode: 0o700 }]);
  const box = ssh(ports.ssh, key, dir);
  let m = boot({ card, forwards, hostServices });
  const version = async () => (await box.sh("cat /usr/lib/iotbox/VERSION")).trim();
  const result = async () => box.sh("cat /var/lib/iotbox-os/update/result 2>/dev/null || true");
  const servingName = async () => {
    const st = await waitUntil("certificate", 300_000, async () => { const s = await httpJson(ports.http, "/api/status"); return s.cert?.code === null && s.cert?.url ? s : null; }, 500);
    const name = new URL(st.cert.url).hostname;
    await waitUntil("HTTPS with the issued certificate", 300_000, async () => ((await httpsGet(ports.https, name, root, "/")).status === 200 ? true : null), 250);
  };
  const rebootOf = async (x: typeof m) => { if (await Promise.race([x.exited, Bun.sleep(900_000).then(() => "timeout")]) !== 0) throw new Error("no reboot"); };
  try {
    await servingName();
    await box.sh("iotbox update hold");
    const before = await version(), build = baseBuild() + 10 * ++updateRun;
    const next = remakeBundle(dir, "runtime-only", `${before}.bench${updateRun}`, build);
    const pub = await fleet.provisionerCli(["publish-update", next, "--channel", "stable", "--updates-dir", updatesDir, "--keyring", VENDOR.cert]);
    if (pub.code !== 0) throw new Error(pub.stderr);
    const manifest = JSON.parse(readFileSync(join(updatesDir, "stable.json"), "utf8"));
    const t0 = performance.now();
    await box.run("nohup setsid sh -c 'iotbox update check --install > /var/tmp/check.log 2>&1' < /dev/null > /dev/null 2>&1 &");
    await rebootOf(m);
    m = boot({ card, forwards, hostServices });
    await waitUntil("the new version committed", 600_000, async () => ((await result().catch(() => "")).includes("installed") ? true : null), 1000);
    await servingName();
    update.installToHttps.push((performance.now() - t0) / 1000);
    update.downloaded.push(manifest.size); // plain bundles: the box fetches the whole file (a resumed download fetches the rest)
    if (!(await version()).endsWith(`.bench${updateRun}`)) throw new Error("not on the new version");
    // the rollback
    writeFileSync(join(dir, "crash"), "#!/bin/sh\nexit 1\n");
    const unit = readFileSync(join(REPO, "overlay/etc/systemd/system/iotbox-slot-health.service"), "utf8").replace(/IOTBOX_TRIAL_SECONDS=\d+/, "IOTBOX_TRIAL_SECONDS=40");
    writeFileSync(join(dir, "slot-health.service"), unit);
    const crash = remakeBundle(dir, "crash", `${before}.crash${updateRun}`, build + 1, ["rm /usr/lib/iotbox/iotbox", `write ${dir}/crash /usr/lib/iotbox/iotbox`,
      "sif /usr/lib/iotbox/iotbox mode 0100755", "rm /etc/systemd/system/iotbox-slot-health.service", `write ${dir}/slot-health.service /etc/systemd/system/iotbox-slot-health.service`]);
    const pub2 = await fleet.provisionerCli(["publish-update", crash, "--channel", "stable", "--updates-dir", updatesDir, "--keyring", VENDOR.cert]);
    if (pub2.code !== 0) throw new Error(pub2.stderr);
    await box.run("nohup setsid sh -c 'iotbox update check --install > /var/tmp/check.log 2>&1' < /dev/null > /dev/null 2>&1 &");
    await rebootOf(m);
    m = boot({ card, forwards, hostServices });
    const t1 = performance.now();
    await rebootOf(m); // slot-health gives up at its deadline
    m = boot({ card, forwards, hostServices });
    await servingName();
    update.rollback.push((performance.now() - t1) / 1000);
    if (!(await version()).endsWith(`.bench${updateRun}`)) throw new Error("not back on the old version");
  } finally {
    await m.powerCut();
    rmSync(dir, { recursive: true, force: true });
  }
}
try {
  for (let i = 0; i < runs; i++) await measure("virt", virt);
  for (let i = 0; i < raspiRuns; i++) await measure("raspi3b", raspi);
  for (let i = 0; i < updateRuns; i++) await measureUpdate();
} finally {
  await fleet.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const rows: [string, string, string][] = [
  ["cold build (base rootfs + image)", fmt(cold), coldHow],
  ["warm rebuild (after a code change)", fmt(warm), args.includes("--no-build") ? "last recorded warm build" : "measured now; goal < 120 s"],
  ["image, raw (extract_size)", mib(rawSize), `partitions: ${parts.map((p) => mib(p.sizeBytes)).join(" + ")}`],
  ["image, raw used (allocated blocks)", mib(allocated), "sparse file"],
  [".img.xz", mib(xzSize), "goal < 250 MiB"],
  ["update bundle (.raucb)", mib(bundleSize), "goal < 60 MB; the whole root file system, squashfs zstd -15"],
  ["QEMU start → login prompt", fmt(median(login)), `median of ${login.length}`],
  ["QEMU start → HTTPS homepage (temporary cert)", fmt(median(selfSigned)), `median of ${selfSigned.length}; goal < 60 s`],
  ["QEMU start → HTTPS with Pebble certificate", fmt(median(issued)), `median of ${issued.length}`],
  ["raspi3b: QEMU start → HTTPS homepage (temporary cert)", fmt(median(raspi.selfSigned)), `median of ${raspi.selfSigned.length}; -M raspi3b, 4 emulated A53s`],
  ["raspi3b: QEMU start → HTTPS with Pebble certificate", fmt(median(raspi.issued)), `median of ${raspi.issued.length}`],
  ["bytes downloaded, update changing only the runtime", mib(median(update.downloaded)), "goal < 25 MB; plain bundle: the whole file (Debian's RAUC has no HTTP streaming, so no adaptive updates)"],
  ["update: look → new version committed, HTTPS", fmt(median(update.installToHttps)), `median of ${update.installToHttps.length}; download + check + rauc install + reboot + health check`],
  ["rollback: trial boot → old version serving HTTPS", fmt(median(update.rollback)), `median of ${update.rollback.length}; runtime exits at start, trial deadline cut to 40 s (300 s on a box)`],
  ["HTTPS homepage / login prompt", (median(selfSigned) / median(login)).toFixed(2), "ratio"],
];
const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
console.log(`\nimage benchmark (${new Date().toISOString()}; QEMU TCG, -M virt -cpu cortex-a72 -smp 2 -m 1024)`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0]!)}  ${b.padStart(w[1]!)}  ${c}`);
console.log(`raspi3b runs: https ${raspi.selfSigned.map((x) => x.toFixed(1)).join(", ")}; issued ${raspi.issued.map((x) => x.toFixed(1)).join(", ")}`);
console.log(`runs: login ${login.map((x) => x.toFixed(1)).join(", ")}; https ${selfSigned.map((x) => x.toFixed(1)).join(", ")}; issued ${issued.map((x) => x.toFixed(1)).join(", ")}`);
