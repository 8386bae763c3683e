/**
 * The terminal's certificate: chain to the configured fleet root only, CN naming the configured
 * POIID. The wrong-CN certificates carry an IP SAN for 127.0.0.1, so a plain hostname check
 * would accept them: this test fails if our CN check is missing, and the good certificate
 * (no SAN) is refused if the default hostname check is left in place.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestFleet, terminalCn } from "../../tools/terminal-simulator/certs";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { deriveNexoKeys } from "../../src/terminals/nexo-crypto";
import { diagnosisRequest, newServiceId } from "../../src/terminals/messages";
import { checkTerminalCertificate, createTerminalClient } from "../../src/terminals/terminal-client";
import { KEY, startSim, testFleet } from "./helpers";

const POIID = "P400Plus-275039202";
let sim: TerminalSimulator;
const otherFleet = createTestFleet("Someone Else's Root");

beforeAll(async () => { sim = await startSim(POIID); });
afterAll(async () => { await sim.stop(); otherFleet.dispose(); testFleet().dispose(); });

async function diagnose(poiid = POIID) {
  const keys = await deriveNexoKeys(KEY.passphrase, KEY.keyIdentifier, KEY.keyVersion);
  const client = createTerminalClient({ address: sim.address, poiid, keys }, [testFleet().root.certPem]);
  try {
    return await client.exchange(diagnosisRequest({ saleId: "iotbox", poiid }, newServiceId()), 3000);
  } finally { client.close(); }
}

describe("terminal TLS", () => {
  test("the right certificate (fleet root, CN = <POIID>.test.terminal.adyen.com, no SAN) is accepted", async () => {
    const r = await diagnose();
    expect(r.SaleToPOIResponse.DiagnosisResponse.POIStatus.GlobalStatus).toBe("OK");
  });

  test("a certificate from another root is refused as untrusted, even with the right CN", async () => {
    await sim.presentCertificate(otherFleet.issue(terminalCn(POIID), { sanIp: "127.0.0.1" }));
    await expect(diagnose()).rejects.toMatchObject({ code: "tls_untrusted", delivery: "not_sent" });
  });

  test("a fleet certificate naming another POIID is refused, even with an IP SAN matching the address", async () => {
    await sim.presentCertificate(testFleet().issue(terminalCn("P400Plus-999999999"), { sanIp: "127.0.0.1" }));
    await expect(diagnose()).rejects.toMatchObject({ code: "tls_cn_mismatch", delivery: "not_sent" });
  });

  test("the legacy shared CN and a look-alike domain are refused", async () => {
    await sim.presentCertificate(testFleet().issue("legacy-terminal-certificate.test.terminal.adyen.com", { sanIp: "127.0.0.1" }));
    await expect(diagnose()).rejects.toMatchObject({ code: "tls_cn_mismatch" });
    await sim.presentCertificate(testFleet().issue(`${POIID}.test.terminal.adyen.com.evil.example`, { sanIp: "127.0.0.1" }));
    await expect(diagnose()).rejects.toMatchObject({ code: "tls_cn_mismatch" });
  });

  test("the right certificate works again after the switch back; a different configured POIID is refused", async () => {
    await sim.presentCertificate(testFleet().issue(terminalCn(POIID, "live")));
    expect((await diagnose()).SaleToPOIResponse.DiagnosisResponse.Response.Result).toBe("Success");
    await expect(diagnose("P400Plus-111111111")).rejects.toMatchObject({ code: "tls_cn_mismatch" });
  });

  test("checkTerminalCertificate (pure)", () => {
    expect(checkTerminalCertificate(POIID, { subject: { CN: `${POIID}.live.terminal.adyen.com` } as any })).toBeUndefined();
    expect(checkTerminalCertificate(POIID, { subject: { CN: `x${POIID}.live.terminal.adyen.com` } as any })).toBeInstanceOf(Error);
    expect(checkTerminalCertificate(POIID, { subject: { CN: [`${POIID}.live.terminal.adyen.com`, "other"] } as any })).toBeInstanceOf(Error);
    expect(checkTerminalCertificate(POIID, { subject: {} as any })).toBeInstanceOf(Error);
  });
});

// Why terminal-client uses node:https: Bun's fetch enforces `ca` and `checkServerIdentity` too
// (checked here), but opens a new TLS connection for every request with custom TLS options.
describe("Bun fetch with tls { ca, checkServerIdentity } (the alternative we did not pick)", () => {
  const get = (poiid: string) => fetch(`https://${sim.address}/nexo`, { method: "POST", body: "{}", tls: {
    ca: [testFleet().root.certPem], checkServerIdentity: (_h: string, cert: any) => checkTerminalCertificate(poiid, cert) } } as any);
  test("accepts the right certificate, refuses a wrong CN and a wrong root", async () => {
    await sim.presentCertificate(testFleet().issue(terminalCn(POIID)));
    expect((await get(POIID)).status).toBe(200);
    await expect(get("P400Plus-111111111")).rejects.toThrow(/terminal certificate CN/);
    await sim.presentCertificate(otherFleet.issue(terminalCn(POIID), { sanIp: "127.0.0.1" }));
    await expect(get(POIID)).rejects.toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    await sim.presentCertificate(testFleet().issue(terminalCn(POIID)));
  });
});
