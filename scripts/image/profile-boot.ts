// Boot profile of the built image under QEMU: every serial line with the host's seconds since
// QEMU start, kernel and systemd messages not hidden (quiet overridden), the journal forwarded
// to the console. For finding where boot time goes:  bun scripts/image/profile-boot.ts [image]
import { mkdtempSync, rmSync } from "node:fs";
import { boot, cardFrom, latestImage, readBootFile, writeBootFile } from "./qemu";
import { freePort } from "../../testkit";

const img = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? latestImage();
const dir = mkdtempSync("/tmp/iotbox-profile-");
const card = cardFrom(img, dir);
// --verbose: without "quiet" (the initramfs scripts then say what they do)
if (process.argv.includes("--verbose")) writeBootFile(card, "cmdline.txt", readBootFile(card, "cmdline.txt").toString().replace(/ quiet\b/, ""));
const https = await freePort();
const m = boot({ card, forwards: [{ host: https, guest: 443 }],
  extraArgs: "console=ttyAMA0 loglevel=6 systemd.show_status=1 systemd.journald.forward_to_console=1" });
let printed = 0;
const t0 = m.startedAt;
const timer = setInterval(() => {
  const s = m.serial();
  const nl = s.lastIndexOf("\n");
  if (nl < printed) return;
  const secs = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  for (const line of s.slice(printed, nl).split("\n")) if (line.trim()) console.log(`${secs} ${line.replace(/\r/g, "")}`);
  printed = nl + 1;
}, 100);
try {
  await m.waitForSerial(/iotbox\[\d+\].*(listening|HTTPS)/i, 240_000).catch((e) => console.log(String(e).slice(0, 200)));
  await Bun.sleep(Number(process.env.PROFILE_TAIL_MS ?? 8000));
} finally {
  clearInterval(timer);
  await m.powerCut();
  rmSync(dir, { recursive: true, force: true });
}
