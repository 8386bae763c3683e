import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commandArgs } from "../../src/cli/options";
import { readConfigForDiagnosis } from "../../src/diagnostics/box-config";
import { diagnoseCommand, formatReport, parseDiagnoseArgs } from "../../src/diagnostics/command";
import { analyse } from "../../src/diagnostics/report";
import { healthy, PLAN, TARGETS } from "./fixtures";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");

describe("iotbox diagnose", () => {
  test("bad options: a clear error and exit 2, nothing run", async () => {
    const err: string[] = [];
    expect(await diagnoseCommand(["--bogus"], TARGETS, { out: () => {}, err: (s) => err.push(s) })).toBe(2);
    expect(err.join("\n")).toContain('unknown option "--bogus"');
    expect(parseDiagnoseArgs(["--lang", "fr"])).toBe('unknown language "fr"');
    expect(parseDiagnoseArgs(["--ca-file"])).toBe("--ca-file needs a value");
    expect(parseDiagnoseArgs(["--ca-file", "/nonexistent/ca.pem"])).toBe("cannot read CA file /nonexistent/ca.pem");
  });
  test("text report: not checked is written apart from failed; Spanish remedy", () => {
    const o = { ...healthy(), links: [{ name: "eth0", carrier: false, operstate: "down" }] };
    const { probes, codes, details } = analyse(PLAN, o);
    const rep = { startedAt: "", finishedAt: "2026-01-01T00:00:00.000Z", durationMs: 3, probes, codes, details, kind: "full" as const, sent: { dnsQueries: 0, tcpConnections: 0 }, problems: [], observations: o };
    const text = formatReport(rep, "es");
    expect(text).toContain("[FAIL] link");
    expect(text).toContain("[ -- ] https      not checked: no network");
    expect(text).toContain("ERR_IOT_NET_NO_LINK");
    expect(text).toContain("Conecta el cable Ethernet");
  });
});

describe("iotbox diagnose: the options of every command, the box's configuration", () => {
  const root = join(tmpdir(), `iotdiag-cmd-${process.pid}`);
  const data = join(root, "data"), boot = join(root, "boot");
  beforeAll(() => {
    mkdirSync(data, { recursive: true }); mkdirSync(boot, { recursive: true });
    writeFileSync(join(boot, "iotbox.conf"), "provisioning_url = https://provision.shop.example/\ndiag_public_resolvers = 198.18.1.2\ndiag_connectivity_url = http://connectivity.shop.example/generate_204\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("the common options are taken out, in order, whatever their form", () => {
    expect(commandArgs(["--data-dir", "/d", "--json", "--boot-dir=/b", "--lang", "es", "--lan-ip", "10.0.0.5"])).toEqual(["--json", "--lang", "es"]);
  });
  test("iotbox.conf not imported yet applies on top of config.json; neither file is changed", () => {
    const before = readFileSync(join(boot, "iotbox.conf"), "utf8");
    const c = readConfigForDiagnosis({ dataDir: data, bootDir: boot });
    expect(c.config.provisioningUrl).toBe("https://provision.shop.example");
    expect(c.config.diag.publicResolvers).toEqual(["198.18.1.2"]);
    expect(readFileSync(join(boot, "iotbox.conf"), "utf8")).toBe(before);
    expect(existsSync(join(data, "config.json"))).toBe(false);
  });
  test("`iotbox diagnose --data-dir D --boot-dir B --json` runs (in a namespace of its own: no link) with the configured service", () => {
    const ns = `iotdcmd${process.pid}`;
    spawnSync("ip", ["netns", "add", ns]);
    try {
      const r = spawnSync("ip", ["netns", "exec", ns, BUN, "src/main.ts", "diagnose", "--data-dir", data, "--boot-dir", boot, "--json"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, IOTBOX_LOG_LEVEL: "error" } });
      expect(r.stderr).not.toContain("unknown option");
      expect(r.status).toBe(1);
      const rep = JSON.parse(r.stdout);
      expect(rep.codes[0]).toBe("ERR_IOT_NET_NO_LINK"); // (and the clock, on a machine without timesyncd)
      expect(rep.targets.provisioningUrl).toBe("https://provision.shop.example");
      expect(rep.targets.publicResolvers).toEqual(["198.18.1.2"]);
    } finally { spawnSync("ip", ["netns", "del", ns]); }
  });
});
