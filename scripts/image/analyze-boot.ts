// What systemd says about a boot of the built image: boots it twice (the first boot applies an
// Imager customisation carrying an SSH key, then reboots), then asks the box over SSH for
// `systemd-analyze` (time, blame, critical chain of iotbox.service) and the runtime's start line.
//   bun scripts/image/analyze-boot.ts [image] [--restart]   (--restart: restart iotbox with a cold and a warm
//   page cache and time reading its executable)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { boot, cardFrom, latestImage, readBootFile, writeBootFile } from "./qemu";
import { IMAGER_CMDLINE, imagerFirstrun, ssh, waitUntil } from "./box";
import { freePort } from "../../testkit";

const img = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? latestImage();
const tmp = mkdtempSync("/tmp/iotbox-analyze-");
const key = join(tmp, "id_ed25519");
spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "analyze", "-f", key]);
const card = cardFrom(img, tmp);
writeBootFile(card, "firstrun.sh", imagerFirstrun({ hostname: "iotbox", sshKey: readFileSync(`${key}.pub`, "utf8").trim(),
  ssid: "x", psk: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", country: "FR", timezone: "Etc/UTC" }));
writeBootFile(card, "cmdline.txt", `${readBootFile(card, "cmdline.txt").toString().trim()}${IMAGER_CMDLINE}\n`);
const port = await freePort();
let m = boot({ card, forwards: [{ host: port, guest: 22 }] });
await m.exited;
m = boot({ card, forwards: [{ host: port, guest: 22 }] });
try {
  await m.waitForSerial(/login:/, 240_000);
  const box = ssh(port, key, tmp);
  await waitUntil("ssh", 120_000, async () => ((await box.run("true")).code === 0 ? true : null));
  await waitUntil("boot finished", 120_000, async () => ((await box.run("systemd-analyze time")).code === 0 ? true : null));
  for (const cmd of ["systemd-analyze time", "systemd-analyze blame | head -40", "systemd-analyze critical-chain iotbox.service",
    "journalctl -b -u iotbox --no-pager -o short-monotonic | grep -m3 -E 'Starting|listening'"]) {
    console.log(`\n$ ${cmd}\n${(await box.run(cmd)).out}`);
  }
  if (process.argv.includes("--restart")) {
    for (const cmd of ["sync; echo 3 > /proc/sys/vm/drop_caches; systemctl restart iotbox; journalctl -u iotbox --no-pager | grep listening | tail -1",
      "systemctl restart iotbox; journalctl -u iotbox --no-pager | grep listening | tail -1",
      "sync; echo 3 > /proc/sys/vm/drop_caches; time cat /usr/lib/iotbox/iotbox > /dev/null", "time cat /usr/lib/iotbox/iotbox > /dev/null"])
      console.log(`\n$ ${cmd}\n${(await box.run(`bash -c '${cmd}' 2>&1`, 180_000)).out}`);
  }
} finally {
  await m.powerCut();
  rmSync(tmp, { recursive: true, force: true });
}
