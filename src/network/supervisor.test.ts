import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../log/index";
import { fakeNmcli } from "./fake-nmcli";
import { realNmcli, splitTerse } from "./nmcli";
import { createNetworkSupervisor, decideMode } from "./supervisor";
import { apSsid, validatePsk, validateSsid } from "./wifi";

const HOSTILE_SSIDS = ['"; rm -rf / #', "$(reboot)", "`id`", "-h", "--help", "a:b\\c:", "it's \"quoted\"", "line\nbreak", "Café ☕ 📶", "x".repeat(32), " leading space", "%s%n", "<script>alert(1)</script>"];
const HOSTILE_PSKS = ["p@$$w0rd;$(id)", "' OR 1=1 -- ", "\\\\:\\:::\"\"", "~".repeat(63), "ab".repeat(32)];

function setup(opts: Parameters<typeof fakeNmcli>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ write: (l) => lines.push(l), level: "debug" });
  const fake = fakeNmcli(opts);
  let t = 0;
  const sup = createNetworkSupervisor({ nm: fake.nm, logger, boxId: "b8:27:eb/42", apAfterMs: 60000, now: () => t });
  return { fake, sup, lines, advance: (ms: number) => { t += ms; } };
}

describe("Wi-Fi input", () => {
  test("SSIDs: 1–32 bytes, no NUL; passwords: 8–63 printable ASCII or 64 hex, or empty", () => {
    for (const s of HOSTILE_SSIDS) expect(validateSsid(s)).toBe(s);
    expect(() => validateSsid("x".repeat(33))).toThrow("1 to 32 bytes");
    expect(() => validateSsid("📶".repeat(9))).toThrow("1 to 32 bytes"); // 36 bytes
    expect(() => validateSsid("")).toThrow();
    expect(() => validateSsid("a\0b")).toThrow("NUL");
    for (const p of HOSTILE_PSKS) expect(validatePsk(p)).toBe(p);
    expect(validatePsk("")).toBe("");
    expect(() => validatePsk("short")).toThrow("8 to 63");
    expect(() => validatePsk("contraseña1")).toThrow("printable ASCII");
    expect(() => validatePsk("new\nline123")).toThrow("printable ASCII");
    expect(apSsid("b8:27:eb/42")).toBe("IoTBox-b827eb42");
    expect(apSsid("$(x)")).toBe("IoTBox-x");
  });
});

describe("network supervisor against a fake nmcli", () => {
  for (const ssid of HOSTILE_SSIDS) test(`joins ${JSON.stringify(ssid)}: one argv element each, never a shell; password never logged`, async () => {
    const psk = HOSTILE_PSKS[ssid.length % HOSTILE_PSKS.length]!;
    const { fake, sup, lines } = setup({ air: [{ ssid, psk, signal: 70 }] });
    expect(await sup.configureWifi(ssid, psk)).toEqual({ ok: true });
    const add = fake.calls.find((c) => c[0] === "connection" && c[1] === "add")!;
    expect(add[add.indexOf("ssid") + 1]).toBe(ssid);
    expect(add[add.indexOf("wifi-sec.psk") + 1]).toBe(psk);
    expect(fake.wifiState()).toEqual({ state: "connected", connection: "iotbox-wifi" });
    expect(sup.state()).toMatchObject({ mode: "client", ssid, lastError: null });
    expect(lines.join("\n")).not.toContain(psk);
  });

  test("scan: escaped terse output is parsed back to the exact SSIDs, strongest first, hidden ones dropped", async () => {
    const air = HOSTILE_SSIDS.filter((s) => !s.includes("\n")).map((ssid, i) => ({ ssid, psk: i % 2 ? "" : "password123", signal: 10 + i }));
    const { sup } = setup({ air });
    const nets = await sup.scan();
    expect(nets.map((n) => n.ssid).sort()).toEqual(air.map((a) => a.ssid).sort());
    expect(nets[0]!.signal).toBe(Math.max(...air.map((a) => a.signal)));
    expect(splitTerse("a\\:b:c\\\\:")).toEqual(["a:b", "c\\", ""]);
  });

  test("bad input: clear error, nothing sent to NetworkManager", async () => {
    const { fake, sup } = setup();
    expect(await sup.configureWifi("x".repeat(33), "password123")).toEqual({ ok: false, error: "a Wi-Fi name (SSID) has 1 to 32 bytes" });
    expect(await sup.configureWifi("Shop", "1234")).toEqual({ ok: false, error: "a Wi-Fi password has 8 to 63 characters" });
    expect(fake.calls).toEqual([]);
  });

  test("no usable network for 60 s → access point IoTBox-<id>; configured → client; wrong password → AP again", async () => {
    const { fake, sup, advance } = setup({ air: [{ ssid: "Shop WiFi", psk: "correct horse", signal: 80 }] });
    await sup.tick();
    expect(sup.state().mode).toBe("client");
    advance(59000); await sup.tick();
    expect(fake.connections.has("iotbox-ap")).toBe(false);
    advance(1000); await sup.tick();
    const ap = fake.connections.get("iotbox-ap")!;
    expect([ap.ssid, ap["802-11-wireless.mode"], ap["ipv4.method"]]).toEqual(["IoTBox-b827eb42", "ap", "shared"]);
    expect(sup.state().mode).toBe("ap");
    expect(fake.wifiState().connection).toBe("iotbox-ap");

    expect(await sup.configureWifi("Shop WiFi", "wrong password")).toEqual({ ok: false, error: "wrong Wi-Fi password" });
    expect(sup.state().mode).toBe("ap");
    expect(fake.wifiState().connection).toBe("iotbox-ap");

    expect(await sup.configureWifi("Shop WiFi", "correct horse")).toEqual({ ok: true });
    expect(sup.state().mode).toBe("client");
    await sup.tick();
    expect(sup.state()).toMatchObject({ mode: "client", usable: true });
  });

  test("ethernet back while the AP is open → AP closed", async () => {
    const { fake, sup, advance } = setup();
    await sup.tick(); advance(60000); await sup.tick();
    expect(sup.state().mode).toBe("ap");
    fake.setEthernet("connected");
    await sup.tick();
    expect(sup.state().mode).toBe("client");
    expect(fake.calls.some((c) => c.join(" ") === "connection down iotbox-ap")).toBe(true);
  });

  test("ensureWifi (iotbox.conf) applies only a change", async () => {
    const { fake, sup } = setup({ air: [{ ssid: "a:b\\c", psk: "pass:word\\1", signal: 50 }] });
    expect(await sup.ensureWifi("a:b\\c", "pass:word\\1")).toEqual({ ok: true, changed: true });
    const adds = () => fake.calls.filter((c) => c[1] === "add").length;
    expect(adds()).toBe(1);
    expect(await sup.ensureWifi("a:b\\c", "pass:word\\1")).toEqual({ ok: true, changed: false });
    expect(adds()).toBe(1);
  });

  test("AP opened because the saved Wi-Fi's router was off: retried every 5 min while no phone uses the AP", async () => {
    const net = { ssid: "Shop WiFi", psk: "correct horse", signal: 80 };
    const { fake, sup, advance } = setup({ air: [net] });
    expect(await sup.configureWifi("Shop WiFi", "correct horse")).toEqual({ ok: true });
    fake.setAir([]); // the router goes off
    await fake.nm.run(["connection", "down", "iotbox-wifi"]);
    await sup.tick(); advance(60000); await sup.tick();
    expect(sup.state().mode).toBe("ap");
    advance(299000); await sup.tick();
    expect(sup.state().mode).toBe("ap");
    advance(1000); await sup.tick(); // retry fails: the AP is back
    expect(sup.state().mode).toBe("ap");
    expect(fake.wifiState().connection).toBe("iotbox-ap");
    fake.setAir([net]); // the router is back
    advance(300000); await sup.tick();
    expect(sup.state().mode).toBe("client");
    expect(fake.wifiState().connection).toBe("iotbox-wifi");
  });

  test("decideMode is pure", () => {
    const base = { usable: false, apActive: false, unusableSinceMs: 0, nowMs: 59999, apAfterMs: 60000, ethernetUp: false };
    expect(decideMode(base)).toBe("none");
    expect(decideMode({ ...base, nowMs: 60000 })).toBe("open_ap");
    expect(decideMode({ ...base, usable: true, nowMs: 99999 })).toBe("none");
    expect(decideMode({ ...base, apActive: true, ethernetUp: true })).toBe("close_ap");
    const ap = { ...base, apActive: true, savedWifi: true, apSinceMs: 0, nowMs: 300000 };
    expect(decideMode(ap)).toBe("retry_client");
    expect(decideMode({ ...ap, apClients: 1 })).toBe("none"); // a phone is on the set-up page
    expect(decideMode({ ...ap, savedWifi: false })).toBe("none");
    expect(decideMode({ ...ap, nowMs: 299999 })).toBe("none");
  });
});

describe("the real nmcli boundary", () => {
  const dir = mkdtempSync(join(tmpdir(), "iotnet-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test("runs the binary with an argument array: hostile strings arrive byte for byte, nothing is interpreted", async () => {
    const bin = join(dir, "nmcli");
    const marker = join(dir, "pwned");
    writeFileSync(bin, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", { mode: 0o755 });
    const args = ["connection", "add", "ssid", ...HOSTILE_SSIDS, `$(touch ${marker})`, `; touch ${marker}`, "wifi-sec.psk", ...HOSTILE_PSKS];
    const r = await realNmcli({ bin }).run(args);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(args);
    expect(await Bun.file(marker).exists()).toBe(false);
    expect((await realNmcli({ bin: join(dir, "missing") }).run([])).code).toBe(127);
  });
});
