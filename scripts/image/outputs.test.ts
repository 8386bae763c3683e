// The build's outputs in out/: checksums, the Imager repository file, the package list and the
// card's partition table (MBR, FAT first and bootable, then the two ext4 partitions).
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { partitions, readBootFile } from "./qemu";

const OUT = resolve(import.meta.dir, "../../out");
const one = (re: RegExp) => {
  const f = readdirSync(OUT).filter((n) => re.test(n));
  if (f.length !== 1) throw new Error(`expected one ${re} in out/, found ${f.join(", ") || "none"}`);
  return join(OUT, f[0]!);
};

test("checksums and the Raspberry Pi Imager file describe the real files", () => {
  const img = one(/^iotbox-.*-arm64\.img$/), xz = `${img}.xz`, base = img.replace(/\.img$/, "");
  const check = spawnSync("sha256sum", ["--check", "--strict", `${base}.sha256`], { cwd: OUT, encoding: "utf8" });
  expect(check.status, check.stdout + check.stderr).toBe(0);
  const sums = readFileSync(`${base}.sha256`, "utf8");
  const os = JSON.parse(readFileSync(`${base}.os_list.json`, "utf8")).os_list[0];
  expect(os.extract_size).toBe(statSync(img).size);
  expect(os.image_download_size).toBe(statSync(xz).size);
  expect(sums).toContain(`${os.extract_sha256}  ${img.split("/").pop()}`);
  expect(sums).toContain(`${os.image_download_sha256}  ${xz.split("/").pop()}`);
  expect(os.init_format).toBe("systemd");
  expect(os.url.endsWith(xz.split("/").pop()!)).toBe(true);
});

test("the package list names the kernel, the Pi firmware and the network stack with versions", () => {
  const list = readFileSync(one(/^iotbox-.*-arm64\.packages\.txt$/), "utf8");
  for (const p of ["linux-image-arm64", "raspi-firmware", "firmware-brcm80211", "network-manager", "systemd", "openssh-server"]) {
    expect(list).toMatch(new RegExp(`^${p}\\t\\S+\\t(arm64|all)$`, "m"));
  }
});

test("MBR with the FAT boot partition first, read-only root and data partitions after it", () => {
  const img = one(/^iotbox-.*-arm64\.img$/);
  const pt = JSON.parse(spawnSync("sfdisk", ["--json", img], { encoding: "utf8" }).stdout).partitiontable;
  expect(pt.label).toBe("dos");
  expect(pt.partitions.map((p: { type: string }) => p.type)).toEqual(["c", "83", "83"]);
  expect(pt.partitions[0].bootable).toBe(true);
  const parts = partitions(img);
  expect(parts.every((p) => p.startBytes % (4 * 1024 * 1024) === 0)).toBe(true);
  const config = readBootFile(img, "config.txt").toString();
  expect(config).toMatch(/^arm_64bit=1$/m);
  expect(config).toMatch(/^enable_uart=1$/m);
  const kernel = /^kernel=(\S+)/m.exec(config)![1]!;
  expect(readBootFile(img, kernel).length).toBeGreaterThan(5_000_000);
  expect(readBootFile(img, "bcm2837-rpi-3-b.dtb").length + readBootFile(img, "bcm2711-rpi-4-b.dtb").length).toBeGreaterThan(0);
  expect(readBootFile(img, "cmdline.txt").toString()).toContain("init=/usr/lib/iotbox/init");
});
