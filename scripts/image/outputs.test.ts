// The build's outputs in out/: checksums, the Imager repository file, the package list and the
// card's partition table (MBR, FAT first and bootable, the two system slots, the data partition),
// the boot partition's slot folder, and the signed update bundle.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { listBootFilesDeep, partitions, readBootFile } from "./qemu";
import { chooseBoot } from "./firmware";

const CACHE = process.env.IOTBOX_IMAGE_CACHE ?? "/var/cache/iotbox-image";

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

test("MBR with the FAT boot partition first, the system slots A and B, the data partition last", () => {
  const img = one(/^iotbox-.*-arm64\.img$/);
  const pt = JSON.parse(spawnSync("sfdisk", ["--json", img], { encoding: "utf8" }).stdout).partitiontable;
  expect(pt.label).toBe("dos");
  expect(pt.partitions.map((p: { type: string }) => p.type)).toEqual(["c", "83", "83", "83"]);
  expect(pt.partitions[1].size).toBe(pt.partitions[2].size); // the two slots are alike
  expect(pt.partitions[0].bootable).toBe(true);
  const parts = partitions(img);
  expect(parts.every((p) => p.startBytes % (4 * 1024 * 1024) === 0)).toBe(true);
  const config = readBootFile(img, "config.txt").toString();
  expect(config).toMatch(/^arm_64bit=1$/m);
  expect(config).toMatch(/^enable_uart=1$/m);
  // what the firmware reads: config.txt names slot A's folder (os_prefix); no tryboot.txt yet
  const files = listBootFilesDeep(img);
  expect(files).not.toContain("tryboot.txt");
  const fw = chooseBoot((n) => (files.includes(n) ? readBootFile(img, n).toString() : null), { tryboot: true, board: "pi3" });
  expect(fw).toMatchObject({ configFile: "config.txt", osPrefix: "slot-a/" });
  expect(readBootFile(img, fw.kernel).length).toBeGreaterThan(5_000_000);
  expect(readBootFile(img, fw.initramfs).length).toBeGreaterThan(1_000_000);
  expect(readBootFile(img, "slot-a/bcm2837-rpi-3-b.dtb").length + readBootFile(img, "slot-a/bcm2711-rpi-4-b.dtb").length).toBeGreaterThan(0);
  expect(files.filter((f) => /^[^/]+\.dtb$|^vmlinuz|^initrd/.test(f))).toEqual([]); // no kernel outside a slot folder
  expect(readBootFile(img, fw.cmdlineFile).toString()).toMatch(/init=\/usr\/lib\/iotbox\/init root=PARTUUID=[0-9a-f]{8}-02 rauc\.slot=A$/m);
  expect(readBootFile(img, fw.cmdlineFile).toString().startsWith(readBootFile(img, "cmdline.txt").toString().trim())).toBe(true);
});

test("the update bundle: signed by the vendor's key (the image's keyring), plain format, slot A's root file system", () => {
  const img = one(/^iotbox-.*-arm64\.img$/), bundle = one(/^iotbox-.*-arm64\.raucb$/);
  const version = /^iotbox-(.*)-arm64\.img$/.exec(img.split("/").pop()!)![1]!;
  const keyring = process.env.IOTBOX_VENDOR_CERT ?? join(CACHE, "vendor-test/cert.pem");
  const info = spawnSync("rauc", ["info", "--keyring", keyring, "--output-format=shell", bundle], { encoding: "utf8" });
  expect(info.status, info.stderr).toBe(0);
  expect(info.stdout).toContain("RAUC_MF_COMPATIBLE='iotbox-raspberrypi-arm64'");
  expect(info.stdout).toContain(`RAUC_MF_VERSION='${version}'`);
  expect(info.stdout).toContain("RAUC_IMAGE_CLASS_0='rootfs'");
  expect(spawnSync("rauc", ["info", "--keyring", keyring, bundle], { encoding: "utf8" }).stdout).toMatch(/Bundle Format: \s*plain/);
  // the root file system in the bundle is the one in slot A, byte for byte
  const sizeOf = /RAUC_IMAGE_SIZE_0='?(\d+)/.exec(info.stdout)![1]!;
  const slotA = partitions(img)[1]!;
  const digest = spawnSync("sh", ["-c", `dd if='${img}' bs=1M skip=${slotA.startBytes} count=${sizeOf} iflag=skip_bytes,count_bytes status=none | sha256sum`], { encoding: "utf8" }).stdout.split(" ")[0];
  expect(info.stdout).toContain(`RAUC_IMAGE_DIGEST_0='${digest}'`);
  // a bundle signed by another key is refused
  const other = spawnSync("rauc", ["info", "--keyring", "/etc/ssl/certs/ca-certificates.crt", bundle], { encoding: "utf8" });
  expect(other.status).not.toBe(0);
});
