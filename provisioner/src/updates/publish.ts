// `iotbox-provisioner publish-update FILE --channel stable --updates-dir DIR --keyring PEM`:
// checks the bundle with `rauc info` against the vendor keyring (what the boxes will check),
// copies it to DIR/files/iotbox-<version>-<build>.raucb and writes DIR/<channel>.json atomically
// (size and sha256 computed here; the url relative to the manifest, so the folder can move).
import { copyFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../../src/fs/atomic";
import type { Logger } from "../../../src/log";
import { createRauc } from "../../../src/update/rauc";
import { sha256File } from "../../../src/update/download";
import { UPDATE_CODES } from "../../../src/update/codes";
import { classifyInfoFailure } from "../../../src/update/check";
import type { ChannelManifest } from "../../../src/update/manifest";
import { SAFE_NAME } from "./app";

export async function publishUpdate(o: { file: string; channel: string; dir: string; keyring: string; rauc?: string; logger: Logger }): Promise<ChannelManifest> {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(o.channel)) throw new Error("--channel must be lowercase letters, digits or dashes (e.g. stable)");
  const info = await createRauc({ binary: o.rauc ?? "rauc", keyring: o.keyring, logger: o.logger }).info(o.file);
  if (!info.ok) throw new Error(`the bundle was not published: ${UPDATE_CODES[classifyInfoFailure(info)]}`);
  if (info.info.build === null) throw new Error("the bundle's manifest has no build= (the build epoch); it was not published");
  const name = `iotbox-${info.info.version.replace(/[^A-Za-z0-9.+-]/g, "_")}-${info.info.build}.raucb`;
  if (!SAFE_NAME.test(name)) throw new Error(`the bundle's version gives an unusable file name: ${name}`);
  mkdirSync(join(o.dir, "files"), { recursive: true });
  const target = join(o.dir, "files", name);
  const tmp = `${join(o.dir, "files")}/.${name}.tmp-${process.pid}`;
  copyFileSync(o.file, tmp);
  renameSync(tmp, target);   // the file first, then the manifest that points to it
  const manifest: ChannelManifest = { channel: o.channel, version: info.info.version, build: info.info.build, compatible: info.info.compatible,
    url: `files/${name}`, size: statSync(target).size, sha256: await sha256File(target) };
  writeFileAtomic(join(o.dir, `${o.channel}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
