import { describe, expect, test } from "bun:test";
import { classifyInfoFailure, decideBundle, decodeInfo, type InfoResult } from "./check";
import { compareReleases, parseRelease, semverCore } from "./version";
import { decodeStatus } from "./rauc";

const running = { version: "0.2.0+g666093c81f", build: 1_764_000_000 };
const ok = (version: string, build: number | null, compatible = "iotbox-raspberrypi-arm64"): InfoResult => ({ ok: true, info: { compatible, version, build } });
const failed = (stderr: string, header: { size: number; magic: string; squashfsBytes: number | null } | null = { size: 29783, magic: "hsqs", squashfsBytes: 22045 }): InfoResult =>
  ({ ok: false, exitCode: 1, stderr, stdout: "", header });

describe("ordering: semver core, then build", () => {
  test.each([
    ["0.3.0+gaaaa", 1, 1],          // newer core wins even with an older build
    ["0.2.1", null, 1],
    ["0.2.0+gbbbb", 1_764_000_001, 1],
    ["0.2.0+gbbbb", 1_764_000_000, 0],
    ["0.2.0+gbbbb", 1_763_999_999, -1],
    ["0.2.0", null, 0],             // unknown build: not provably newer
    ["0.1.9", 1_999_999_999, -1],
    ["1.0.0-rc1", 0, 1],
    ["banana", 1, null],
  ] as const)("%s build %p against 0.2.0 build 1764000000 → %p", (v, b, want) => {
    expect(compareReleases({ version: v, build: b }, running)).toBe(want);
  });
  test("semverCore reads the core and ignores the suffix", () => {
    expect(semverCore("0.1.0+g666093c81f")).toEqual([0, 1, 0]);
    expect(semverCore("10.20.30-dev")).toEqual([10, 20, 30]);
    expect(semverCore("1.2")).toBeNull();
  });
  test("/etc/iotbox-release, with damaged or missing lines", () => {
    expect(parseRelease("IOTBOX_VERSION=0.1.0+gabc\nIOTBOX_BUILD_EPOCH=1700000000\n", "dev")).toEqual({ version: "0.1.0+gabc", build: 1_700_000_000 });
    expect(parseRelease("IOTBOX_VERSION=\"0.1.0\"\nIOTBOX_BUILD_EPOCH=soon\n", "dev")).toEqual({ version: "0.1.0", build: null });
    expect(parseRelease(null, "0.1.0-dev")).toEqual({ version: "0.1.0-dev", build: null });
  });
});

describe("the verdict on a bundle", () => {
  test("newer, same, older, another device", () => {
    expect(decideBundle(ok("0.2.0+gnew", 1_764_000_100), running)).toMatchObject({ ok: true });
    expect(decideBundle(ok("0.2.0+g666093c81f", 1_764_000_000), running)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_SAME" });
    expect(decideBundle(ok("0.1.5", 1_764_000_100), running)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_OLDER" });
    expect(decideBundle(ok("0.3.0", 1, "iotbox-raspberrypi-armhf"), running)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_WRONG_DEVICE" });
    expect(decideBundle(ok("nonsense", 1), running)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_DAMAGED" });
  });
  test("a refusal carries a sentence for the technician, not rauc's words", () => {
    const v = decideBundle(failed("signature verification failed: Verify error: self-signed certificate"), running);
    expect(v).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_FOREIGN_SIGNATURE" });
    if (!v.ok) { expect(v.message).not.toContain("Verify error"); expect(v.message).toContain("signed by someone other than the vendor"); }
  });
  test.each([
    ["signature verification failed: Verify error: unable to get local issuer certificate", null, "ERR_IOT_UPDATE_FOREIGN_SIGNATURE"],
    ["signature verification failed: error:1700009E:CMS routines::verification failure", null, "ERR_IOT_UPDATE_DAMAGED"],
    ["Invalid bundle format: Signature size (5655858461754248795) exceeds bundle size", null, "ERR_IOT_UPDATE_DAMAGED"],
    ["Invalid bundle format: Signature size is 0", null, "ERR_IOT_UPDATE_UNSIGNED"],
    ["Invalid bundle format: …", { size: 24576, magic: "hsqs", squashfsBytes: 22045 }, "ERR_IOT_UPDATE_UNSIGNED"],  // a bare squashfs, padded
    ["Invalid bundle format: …", { size: 10000, magic: "hsqs", squashfsBytes: 22045 }, "ERR_IOT_UPDATE_DAMAGED"],   // cut inside the squashfs
    ["Invalid bundle format: …", { size: 9, magic: "garb", squashfsBytes: null }, "ERR_IOT_UPDATE_DAMAGED"],
    ["No such file: /tmp/x.raucb", null, "ERR_IOT_UPDATE_NOT_FOUND"],
    ["failed to load CA file '/etc/rauc/vendor-keyring.pem' and/or directory '(null)'", null, "ERR_IOT_UPDATE_BOX"],
  ] as const)("%s → %s", (stderr, header, code) => {
    expect(classifyInfoFailure(failed(stderr, header ?? { size: 29783, magic: "hsqs", squashfsBytes: 22045 }) as Extract<InfoResult, { ok: false }>)).toBe(code);
  });
  test("rauc info's JSON is read defensively (build as text or number; anything else is unknown)", () => {
    expect(decodeInfo('{"compatible":"c","version":"1.0.0","build":"1764000000","images":[]}')).toEqual({ compatible: "c", version: "1.0.0", build: 1_764_000_000 });
    expect(decodeInfo('{"compatible":"c","version":"1.0.0","build":17}')).toEqual({ compatible: "c", version: "1.0.0", build: 17 });
    expect(decodeInfo('{"compatible":"c","version":"1.0.0","build":null}')).toEqual({ compatible: "c", version: "1.0.0", build: null });
    expect(decodeInfo('{"compatible":1,"version":"1.0.0"}')).toBeNull();
    expect(decodeInfo("rauc-Message: …")).toBeNull();
    expect(decodeInfo("[]")).toBeNull();
  });
});

test("rauc status JSON, read defensively", () => {
  expect(decodeStatus({ compatible: "iotbox-raspberrypi-arm64", booted: "A", boot_primary: "rootfs.0", slots: [] })).toEqual({ booted: "A", primary: "rootfs.0" });
  expect(decodeStatus({ booted: 1 })).toEqual({ booted: null, primary: null });
  expect(decodeStatus("A")).toBeNull();
  expect(decodeStatus(null)).toBeNull();
});
