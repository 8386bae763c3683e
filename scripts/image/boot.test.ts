// The image, booted for real: the built card image (a private sparse copy, grown like a bigger
// card) in qemu-system-aarch64 -M virt, kernel/initrd/cmdline read out of its own FAT partition
// before every boot. The card carries what a technician's Raspberry Pi Imager would write
// (firstrun.sh + cmdline.txt arguments: hostname, SSH key, Wi-Fi, time zone) and an iotbox.conf
// pointing at the certificate service of a test fleet (provisioner + Pebble + DNS double) on the
// host, reached from the guest as 10.0.2.100 (QEMU guestfwd; the VM reaches nothing else); the fleet's CA arrives as iotbox-ca.pem.
// Run by scripts/test-image.sh after the image is built. IOTBOX_IMAGE picks the image file.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleet, freePort, type Fleet } from "../../testkit";
import { boot, cardFrom, extractPartition, latestImage, listBootFiles, readBootFile, writeBootFile, type Machine } from "./qemu";
import { imageTestScope } from "./scope";
import { GUEST_HOST_ALIAS } from "./qemu";
import { httpJson, httpsGet, IMAGER_CMDLINE, imagerFirstrun, ssh, waitUntil } from "./box";


let fleet: Fleet | null = null;
let machine: Machine | null = null;
const { tmp, log } = imageTestScope("test", () => ({ machine, fleet }));

test("the image boots, applies Imager's customisation, gets its certificate, survives reboot and power cut", async () => {
  const image = latestImage();
  fleet = await startFleet({ extraIpSans: [GUEST_HOST_ALIAS] });
  const ports = { https: await freePort(), http: await freePort(), ssh: await freePort() };
  const forwards = [{ host: ports.https, guest: 443 }, { host: ports.http, guest: 80 }, { host: ports.ssh, guest: 22 }];
  const key = join(tmp, "id_ed25519");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "image-test", "-f", key]);
  const box = ssh(ports.ssh, key, tmp);
  const pebbleRoot = await fleet.pebbleRootPem();

  // The card: the image plus 256 MiB (the data partition must grow), Imager's files, iotbox.conf, test CA
  const card = cardFrom(image, tmp, 256);
  writeBootFile(card, "firstrun.sh", imagerFirstrun({
    hostname: "shop-box", sshKey: readFileSync(`${key}.pub`, "utf8").trim(),
    ssid: "shop wifi", psk: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", country: "FR", timezone: "Europe/Paris",
  }));
  // the shared arguments (what Imager edits) and slot A's own line (what the firmware reads: os_prefix)
  const cmdline = readBootFile(card, "cmdline.txt").toString().trim();
  expect(cmdline).not.toContain("root=");
  expect(readBootFile(card, "slot-a/cmdline.txt").toString().trim()).toMatch(new RegExp(`^${cmdline.replace(/[.]/g, "\\.")} root=PARTUUID=[0-9a-f]{8}-02 rauc\\.slot=A$`));
  writeBootFile(card, "cmdline.txt", `${cmdline}${IMAGER_CMDLINE}\n`);
  const provisioningUrl = fleet.provisioningUrl.replace("127.0.0.1", GUEST_HOST_ALIAS);
  const hostServices = [{ port: Number(new URL(fleet.provisioningUrl).port) }];
  writeBootFile(card, "iotbox.conf", [
    "# written by the image test", "server_url = https://odoo.test", `provisioning_url = ${provisioningUrl}`,
    `db_uuid = ${fleet.eligible.db_uuid}`, `enterprise_code = ${fleet.eligible.enterprise_code}`, "",
  ].join("\n"));
  writeBootFile(card, "iotbox-ca.pem", readFileSync(fleet.caBundleFile));

  // Boot 1a: /usr/lib/iotbox/init sees Imager's arguments in the shared cmdline.txt, copies them
  // into slot-a/cmdline.txt (the firmware reads that one) and reboots at once. Boot 1b: Imager's
  // customisation runs (systemd.run), then the box reboots by itself
  log("boot 1a: Imager's arguments reach the slot's command line");
  machine = boot({ card, forwards, hostServices });
  const code1a = await Promise.race([machine.exited, Bun.sleep(300_000).then(() => "timeout")]);
  expect(code1a, `boot 1a did not end by itself; serial:\n${machine.serial().slice(-3000)}`).toBe(0);
  expect(readBootFile(card, "slot-a/cmdline.txt").toString()).toContain(IMAGER_CMDLINE.trim());
  log("boot 1b: Imager customisation");
  machine = boot({ card, forwards, hostServices });
  const code1 = await Promise.race([machine.exited, Bun.sleep(300_000).then(() => "timeout")]);
  const serial1 = machine.serial();
  expect(code1, `boot 1b did not end by itself; serial:\n${serial1.slice(-3000)}`).toBe(0);
  machine = null;
  expect(serial1).toContain("imager_custom: hostname shop-box");
  expect(serial1).toContain("imager_custom: SSH enabled for root with 1 key(s)");
  const cmdlineAfter = readBootFile(card, "cmdline.txt").toString();
  expect(cmdlineAfter).not.toContain("systemd.run");
  expect(cmdlineAfter).toContain("cfg80211.ieee80211_regdom=FR");
  const slotCmdline = readBootFile(card, "slot-a/cmdline.txt").toString();
  expect(slotCmdline).not.toContain("systemd.run");
  expect(slotCmdline).toContain("cfg80211.ieee80211_regdom=FR");
  expect(listBootFiles(card)).not.toContain("firstrun.sh");

  // Boot 2: the box proper
  log("boot 2: first normal boot");
  machine = boot({ card, forwards, hostServices });
  await machine.waitForSerial(/shop-box login:/, 240_000);
  log(`login prompt after ${((performance.now() - machine.startedAt) / 1000).toFixed(1)} s`);
  const status = await waitUntil("a certificate (cert.code null, cert.url set)", 240_000, async () => {
    const s = await httpJson(ports.http, "/api/status");
    return s.cert?.code === null && s.cert?.url ? s : null;
  }).catch(async (e) => { throw new Error(`${e}\nprovisioner log:\n${fleet!.provisionerLog().slice(-3000)}\nbox journal:\n${(await box.run("journalctl -b -u iotbox --no-pager | tail -50")).out}`); });
  log(`certificate after ${((performance.now() - machine.startedAt) / 1000).toFixed(1)} s: ${status.cert.url}`);
  const boxName = new URL(status.cert.url).hostname;
  expect(boxName).toMatch(new RegExp(`^10-0-2-15\\.[0-9a-f]{10}\\.${fleet.zone.replace(".", "\\.")}$`));
  const home = await httpsGet(ports.https, boxName, pebbleRoot, "/");
  expect(home.status).toBe(200);
  expect(home.san).toContain(`*.${boxName.split(".").slice(1).join(".")}`);
  const secureStatus = JSON.parse((await httpsGet(ports.https, boxName, pebbleRoot, "/api/status")).body);
  expect(secureStatus.cert.code).toBeNull();
  const fingerprint = home.fingerprint256;

  // First-boot steps, read on the box over SSH (key from the Imager customisation)
  const firstboot = await box.sh("cat /var/lib/iotbox-os/firstboot.log");
  for (const step of ["grew the data partition", "created the machine id", "created the SSH host key ed25519",
    "imager: hostname shop-box", "imager: SSH enabled", "imager: time zone Europe/Paris", "applied Raspberry Pi Imager's customisation",
    "first boot done"]) expect(firstboot).toContain(step);
  expect(await box.sh("hostname")).toBe("shop-box");
  expect(await box.sh("readlink -f /etc/localtime")).toBe("/usr/share/zoneinfo/Europe/Paris");
  const machineId = await box.sh("cat /etc/machine-id");
  expect(machineId).toMatch(/^[0-9a-f]{32}$/);
  expect(await box.sh("findmnt -no OPTIONS /")).toMatch(/^ro,/);
  expect(await box.sh("findmnt -no SOURCE,OPTIONS /var")).toMatch(/^\/dev\/vda4 rw,/);
  const dataMiB = Number(await box.sh("df --output=size -m /var | tail -n 1"));
  expect(dataMiB).toBeGreaterThan(300); // 192 MiB in the image + 256 MiB of card
  expect(await box.sh("grep -c -v -E '^[^:]+:[*!]' /etc/shadow || true")).toBe("0"); // no password anywhere
  expect(await box.sh("ls /var/lib/NetworkManager/system-connections")).toContain("imager-wifi.nmconnection");
  const unit = await box.sh("systemctl show iotbox -p Type -p NotifyAccess -p WatchdogUSec -p Restart -p ActiveState");
  for (const kv of ["Type=notify", "NotifyAccess=all", "WatchdogUSec=1min", "Restart=on-failure", "ActiveState=active"]) expect(unit).toContain(kv);
  expect(await box.sh("tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value iotbox)/environ | grep NODE_EXTRA_CA_CERTS"))
    .toBe("NODE_EXTRA_CA_CERTS=/var/lib/iotbox-os/extra-ca.pem");
  const conf = await box.sh("cat /boot/firmware/iotbox.conf");
  expect(conf).not.toContain(fleet.eligible.enterprise_code); // the runtime strips the secret after import
  // what must survive: the configuration file as it is, and the certificate the box serves
  // (the leaf stored in cert/current.pem; the runtime may rewrite that file, e.g. after a renewal check)
  const config = () => box.sh("sha256sum /var/lib/iotbox/config.json");
  const storedLeaf = async () => {
    const pem = await box.sh("cat /var/lib/iotbox/cert/current.pem");
    const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
    return first ? new X509Certificate(first[0]).fingerprint256 : "no certificate in cert/current.pem";
  };
  const configSum = await config();
  expect(await storedLeaf()).toBe(fingerprint);

  // Boot 3: after a clean reboot, the same identity, configuration and certificate
  log("boot 3: after a reboot");
  await box.run("systemctl reboot");
  expect(await Promise.race([machine.exited, Bun.sleep(180_000).then(() => "timeout")])).toBe(0);
  machine = boot({ card, forwards, hostServices });
  await machine.waitForSerial(/shop-box login:/, 240_000);
  const again = await waitUntil("HTTPS with the same certificate after reboot", 180_000, async () => {
    const r = await httpsGet(ports.https, boxName, pebbleRoot, "/");
    return r.status === 200 ? r : null;
  });
  expect(again.fingerprint256).toBe(fingerprint);
  expect(await box.sh("cat /etc/machine-id")).toBe(machineId); // the host key is checked by ssh itself (known_hosts)
  expect(await config()).toBe(configSum);
  expect(await storedLeaf()).toBe(fingerprint);
  expect(Number(await box.sh("journalctl --list-boots --no-pager | wc -l"))).toBeGreaterThanOrEqual(2);

  // Boot 4: after a hard power-off (QEMU killed while the box runs)
  log("boot 4: after a power cut");
  await box.run("logger 'image test: power cut now'");
  await machine.powerCut();
  machine = boot({ card, forwards, hostServices });
  await machine.waitForSerial(/shop-box login:/, 240_000);
  const afterCut = await waitUntil("HTTPS after the power cut", 180_000, async () => {
    const r = await httpsGet(ports.https, boxName, pebbleRoot, "/");
    return r.status === 200 ? r : null;
  });
  expect(afterCut.fingerprint256).toBe(fingerprint);
  expect(await config()).toBe(configSum);
  expect(await storedLeaf()).toBe(fingerprint);
  expect(await box.sh("cat /etc/machine-id")).toBe(machineId);
  expect(await box.sh("dumpe2fs -h /dev/vda2 2>/dev/null | grep '^Filesystem state:'")).toMatch(/clean$/);
  expect((await httpJson(ports.http, "/api/status")).cert.code).toBeNull();

  // Clean power-off, then the host checks both ext4 file systems of the card
  await box.run("systemctl poweroff");
  expect(await Promise.race([machine.exited, Bun.sleep(120_000).then(() => "timeout")])).toBe(0);
  machine = null;
  for (const [index, name] of [[2, "root"], [4, "data"]] as const) {
    const part = join(tmp, `${name}.ext4`);
    extractPartition(card, index, part);
    const fsck = spawnSync("e2fsck", ["-f", "-n", part], { encoding: "utf8" });
    expect(fsck.status, `${name}: ${fsck.stdout}${fsck.stderr}`).toBe(0);
    rmSync(part);
  }
  writeFileSync(join(tmp, "done"), "");
}, 1_800_000);
