// Update bundles made from the build's own (out/*.raucb) for the QEMU tests and the benchmark:
// its root file system with another version and build stamped in (and optional debugfs edits),
// signed with the same vendor key. Needs rauc, debugfs and mksquashfs on the host.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latestImage, run } from "./qemu";

const CACHE = process.env.IOTBOX_IMAGE_CACHE ?? "/var/cache/iotbox-image";
export const VENDOR = { cert: process.env.IOTBOX_VENDOR_CERT ?? join(CACHE, "vendor-test/cert.pem"), key: process.env.IOTBOX_VENDOR_KEY ?? join(CACHE, "vendor-test/key.pem") };

export const sh = (cmd: string[], input?: string): string => run(cmd, input).toString();

/** The build's bundle (beside the newest image in out/). */
export const buildBundle = () => latestImage().replace(/\.img$/, ".raucb");

/** The build number (commit time) of the build's own bundle: a remade one must be higher to install. */
export function baseBuild(): number {
  return Number(/^Build:\s*'(\d+)'/m.exec(sh(["rauc", "info", "--keyring", VENDOR.cert, buildBundle()]))?.[1] ?? NaN);
}

/**
 * A bundle made from the build's: `version` and `build` stamped into its root file system
 * (/usr/lib/iotbox/VERSION, /etc/iotbox-release) and manifest, `debugfsCmds` applied to the ext4
 * image (@FILES@ = a scratch folder), signed with the vendor key. Written to `<tmp>/<name>.raucb`.
 */
export function remakeBundle(tmp: string, name: string, version: string, build: number, debugfsCmds: string[] = []): string {
  const dir = join(tmp, `bundle-${name}`);
  sh(["rauc", "extract", "--keyring", VENDOR.cert, buildBundle(), dir]);
  const files = join(tmp, `files-${name}`);
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, "VERSION"), `${version}\n`);
  const release = sh(["debugfs", "-R", "cat /etc/iotbox-release", join(dir, "rootfs.ext4")]).replace(/^IOTBOX_VERSION=.*$/m, `IOTBOX_VERSION=${version}`)
    .replace(/^IOTBOX_BUILD_EPOCH=.*$/m, `IOTBOX_BUILD_EPOCH=${build}`);
  writeFileSync(join(files, "iotbox-release"), release);
  const cmds = ["rm /usr/lib/iotbox/VERSION", `write ${files}/VERSION /usr/lib/iotbox/VERSION`,
    "rm /etc/iotbox-release", `write ${files}/iotbox-release /etc/iotbox-release`, ...debugfsCmds.map((c) => c.replaceAll("@FILES@", files))];
  sh(["debugfs", "-w", "-f", "-", join(dir, "rootfs.ext4")], cmds.join("\n"));
  const stamped = sh(["debugfs", "-R", "cat /usr/lib/iotbox/VERSION", join(dir, "rootfs.ext4")]).trim();
  if (stamped !== version) throw new Error(`the remade root file system says ${stamped}, not ${version}`);
  const manifest = readFileSync(join(dir, "manifest.raucm"), "utf8").replace(/^version=.*$/m, `version=${version}`).replace(/^build=.*$/m, `build=${build}`);
  writeFileSync(join(dir, "manifest.raucm"), manifest.replace(/^\[image\.rootfs\][\s\S]*$/m, "[image.rootfs]\nfilename=rootfs.ext4\n"));
  const out = join(tmp, `${name}.raucb`);
  // zstd level 3 here (the build uses 15): these bundles are made while QEMU runs
  sh(["rauc", "bundle", `--cert=${VENDOR.cert}`, `--key=${VENDOR.key}`, `--keyring=${VENDOR.cert}`,
    "--mksquashfs-args=-comp zstd -Xcompression-level 3", dir, out]);
  rmSync(dir, { recursive: true, force: true });
  return out;
}
