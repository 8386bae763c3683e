import { describe, expect, test } from "bun:test";
import { diagnoseCommand, formatReport, parseDiagnoseArgs } from "../../src/diagnostics/command";
import { analyse } from "../../src/diagnostics/report";
import { healthy, PLAN, TARGETS } from "./fixtures";

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
