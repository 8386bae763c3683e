// Writes the Raspberry Pi Imager repository file (os_list JSON) for a built image, with the real
// sizes and checksums. Imager customisation: "systemd" (Imager writes firstrun.sh on the FAT
// partition; the box runs it through /boot/firstrun.sh, see overlay/boot/firstrun.sh).
// Usage: bun scripts/image/os-list.ts <img> <img.xz> <version> <epoch>   (prints the JSON)
import { statSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const [img, xz, version, epoch] = process.argv.slice(2);
if (!img || !xz || !version || !epoch) {
  console.error("usage: os-list.ts <img> <img.xz> <version> <epoch>");
  process.exit(2);
}
// sha256sum's output written by build.sh beside the image: "<hex>  <name>" lines
const sums = new Map<string, string>();
const sumsFile = join(dirname(img), basename(img).replace(/\.img$/, ".sha256"));
for (const line of readFileSync(sumsFile, "utf8").split("\n")) {
  const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
  if (m) sums.set(m[2]!, m[1]!);
}
const sha = (file: string) => {
  const s = sums.get(basename(file));
  if (!s) throw new Error(`no checksum for ${basename(file)} in ${sumsFile}`);
  return s;
};
const urlBase = process.env.IOTBOX_IMAGE_URL_BASE ?? "";
const osList = {
  os_list: [
    {
      name: `iotbox ${version} (64-bit)`,
      description:
        "iotbox appliance: gets a publicly trusted HTTPS certificate and drives the payment terminals " +
        "beside the POS. Debian 12 arm64; Raspberry Pi 3/3+/4/400/CM4/Zero 2 W (not Pi 5).",
      url: `${urlBase}${basename(xz)}`,
      extract_size: statSync(img).size,
      extract_sha256: sha(img),
      image_download_size: statSync(xz).size,
      image_download_sha256: sha(xz),
      release_date: new Date(Number(epoch) * 1000).toISOString().slice(0, 10),
      init_format: "systemd",
      devices: ["pi4-64bit", "pi3-64bit"],
    },
  ],
};
console.log(JSON.stringify(osList, null, 2));
