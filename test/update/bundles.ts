/** Real RAUC bundles for the tests: a vendor key, another key, and `rauc bundle` of a tiny rootfs. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sh = (argv: string[], cwd?: string) => {
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
};

export interface Key { cert: string; key: string }

export function makeKey(dir: string, cn: string): Key {
  const key = join(dir, `${cn}.key.pem`), cert = join(dir, `${cn}.cert.pem`);
  sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "3650", "-subj", `/CN=${cn}`]);
  return { cert, key };
}

export function makeBundle(dir: string, o: { key: Key; version: string; build: number | string; compatible?: string; name?: string }): string {
  const work = mkdtempSync(join(tmpdir(), "iotbox-bundle-"));
  const content = join(work, "content"), root = join(work, "root");
  mkdirSync(content); mkdirSync(root);
  writeFileSync(join(root, "payload"), randomBytes(20_000));   // a squashfs under 4 KiB is refused by rauc
  writeFileSync(join(root, "VERSION"), `${o.version}\n`);
  sh(["mkfs.ext4", "-q", "-d", root, join(content, "rootfs.ext4"), "4M"]);
  writeFileSync(join(content, "manifest.raucm"), `[update]\ncompatible=${o.compatible ?? "iotbox-raspberrypi-arm64"}\nversion=${o.version}\nbuild=${o.build}\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=rootfs.ext4\n`);
  const out = join(dir, o.name ?? `${o.version.replace(/[^A-Za-z0-9.]/g, "_")}-${o.build}.raucb`);
  sh(["rauc", "bundle", `--cert=${o.key.cert}`, `--key=${o.key.key}`, `--keyring=${o.key.cert}`, content, out]);
  return out;
}
