// The image on QEMU's Raspberry Pi 3 B model (-M raspi3b), one boot: the board's own device tree
// (bcm2837-rpi-3-b.dtb), kernel and initrd read out of the card's FAT partition as the Pi's
// firmware would, the Pi's SD host driver, the DWC2 USB host with a USB network device, the mini
// UART console. Up to the HTTPS homepage under the certificate the test fleet issues. The virt
// boots (boot.test.ts) check the rest; this one checks that the Pi 3's own paths work.
// Not emulated by QEMU 7.2, so not checked here: the LEDs, Wi-Fi, the firmware's config.txt
// handling, the watchdog (kept out with modprobe.blacklist=bcm2835_wdt, see qemu.ts).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { startFleet, freePort, type Fleet } from "../../testkit";
import { boot, cardFrom, growToPowerOfTwo, setClockFile, latestImage, writeBootFile, GUEST_HOST_ALIAS, MACHINE_ARGS, type Machine } from "./qemu";
import { imageTestScope } from "./scope";
import { httpJson, httpsGet, waitUntil } from "./box";

let fleet: Fleet | null = null;
let machine: Machine | null = null;
const { tmp, log } = imageTestScope("raspi3b", () => ({ machine, fleet }));

test("raspi3b: the image boots on the Pi 3 B model (its DTB, SD, USB network) up to the HTTPS homepage with the fleet's certificate", async () => {
  fleet = await startFleet({ extraIpSans: [GUEST_HOST_ALIAS] });
  const ports = { https: await freePort(), http: await freePort() };
  const pebbleRoot = await fleet.pebbleRootPem();
  const card = cardFrom(latestImage(), tmp, 0);
  const cardBytes = growToPowerOfTwo(card);
  expect(cardBytes & (cardBytes - 1)).toBe(0);
  writeBootFile(card, "iotbox.conf", [
    "# written by the raspi3b image test", "server_url = https://odoo.test",
    `provisioning_url = ${fleet.provisioningUrl.replace("127.0.0.1", GUEST_HOST_ALIAS)}`,
    `db_uuid = ${fleet.eligible.db_uuid}`, `enterprise_code = ${fleet.eligible.enterprise_code}`, "",
  ].join("\n"));
  writeBootFile(card, "iotbox-ca.pem", readFileSync(fleet.caBundleFile));
  // no RTC on a Pi 3 and no NTP in this network: the clock comes from timesyncd's clock file
  setClockFile(card, new Date());

  // loglevel=6 after cmdline.txt's quiet: the console then shows the driver lines checked below
  machine = boot({ card, machine: "raspi3b", extraArgs: `${MACHINE_ARGS.raspi3b} loglevel=6`, forwards: [{ host: ports.https, guest: 443 }, { host: ports.http, guest: 80 }],
    hostServices: [{ port: Number(new URL(fleet.provisioningUrl).port) }] });
  const since = () => ((performance.now() - machine!.startedAt) / 1000).toFixed(1);
  await machine.waitForSerial(/iotbox login:/, 420_000);
  log(`login prompt on the mini UART after ${since()} s`);
  const status = await waitUntil("a certificate (cert.code null, cert.url set)", 420_000, async () => {
    const s = await httpJson(ports.http, "/api/status");
    return s.cert?.code === null && s.cert?.url ? s : null;
  }, 2000).catch((e) => { throw new Error(`${e}\nprovisioner log:\n${fleet!.provisionerLog().slice(-3000)}\nserial:\n${machine!.serial().slice(-3000)}`); });
  // the only network device is the USB one, so this address came through DWC2 + usb-net
  const boxName = new URL(status.cert.url).hostname;
  expect(boxName).toMatch(new RegExp(`^10-0-2-15\\.[0-9a-f]{10}\\.${fleet.zone.replace(".", "\\.")}$`));
  const home = await waitUntil("the HTTPS homepage under the issued certificate", 120_000, async () => {
    const r = await httpsGet(ports.https, boxName, pebbleRoot, "/");
    return r.status === 200 ? r : null;
  });
  log(`HTTPS homepage with the fleet's certificate after ${since()} s`);
  expect(home.san).toContain(`*.${boxName.split(".").slice(1).join(".")}`);
  // the console: the DWC2 USB host at the BCM2837's
  // address (from the Pi 3 B's device tree), the SD card as mmcblk0 (the Pi's SD host driver), whose
  // data partition iotbox-init grew into the power-of-two card; nothing of the virt machine's
  const serial = machine.serial();
  expect(serial).toMatch(/dwc2 3f980000\.usb/);
  expect(serial).toMatch(/mmc0: /);
  expect(serial).toMatch(/iotbox-init: growing \/dev\/mmcblk0p\d+ from \d+ MiB to \d+ MiB \(card: \d+ MiB\)/);
  expect(serial).not.toMatch(/virtio|Kernel panic|Oops/i);
  await machine.powerCut();
  machine = null;
}, 900_000);
