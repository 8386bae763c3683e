// End to end against real parts: Debian's pebble validating DNS-01 through the DNSimple double's
// DNS server, the provisioner as a child process. No PEBBLE_VA_ALWAYS_VALID.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Resolver } from "node:dns/promises";
import { connect as tlsConnect } from "node:tls";
import { startFleet, type Fleet } from "../../testkit";
import { REFUSAL_SENTENCE } from "../src/eligibility";
import { deriveLabel } from "../src/naming";
import { boxKeyAndCsr, call, countLog, tlsCheck } from "./helpers";

let fleet: Fleet;
let root: string;
beforeAll(async () => { fleet = await startFleet(); root = await fleet.pebbleRootPem(); }, 60_000);
afterAll(async () => { await fleet?.stop(); }, 30_000);

const boxId = () => `box${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
const txtLeft = () => fleet.dns.records().filter((r) => r.type === "TXT");

describe("provisioner with pebble", () => {
  test("an eligible box without a CSR gets a Pebble certificate and the service's key; TLS to its name verifies with Pebble's root", async () => {
    const id = boxId();
    const label = deriveLabel(fleet.eligible.db_uuid, id);
    const t0 = performance.now();
    const r = await call(fleet, { ...fleet.eligible, ip: "192.168.1.10", box_id: id });
    const ms = performance.now() - t0;
    expect(r.status).toBe(200);
    expect(r.body.result.subject_cn).toBe(`*.${label}.${fleet.zone}`);
    expect(r.body.result.private_key_pem).toContain("PRIVATE KEY");
    expect(r.body.result.x509_pem.match(/BEGIN CERTIFICATE/g).length).toBeGreaterThanOrEqual(2); // leaf + chain
    expect(await tlsCheck(r.body.result.x509_pem, r.body.result.private_key_pem, root, `192-168-1-10.${label}.${fleet.zone}`)).toBe(`*.${label}.${fleet.zone}`);
    await expect(tlsCheck(r.body.result.x509_pem, r.body.result.private_key_pem, root, `192-168-1-10.other.${fleet.zone}`)).rejects.toThrow();
    expect(txtLeft()).toEqual([]);
    expect(ms).toBeLessThan(10_000);
  }, 30_000);

  test("a second request reuses the certificate: same PEM, no new order", async () => {
    const id = boxId();
    const label = deriveLabel(fleet.eligible.db_uuid, id);
    const a = await call(fleet, { ...fleet.eligible, box_id: id });
    const b = await call(fleet, { ...fleet.eligible, box_id: id });
    expect(b.body.result).toEqual(a.body.result);
    expect(countLog(fleet, "certificate issued", (r) => r.label === label)).toBe(1);
  }, 30_000);

  test("a CSR naming the box's names: a certificate for the box's own key, no private key in the reply", async () => {
    const id = boxId();
    const label = deriveLabel(fleet.eligible.db_uuid, id);
    const box = await boxKeyAndCsr([`*.${label}.${fleet.zone}`, `${label}.${fleet.zone}`]);
    const r = await call(fleet, { ...fleet.eligible, box_id: id, csr: box.csrPem, ip: "10.0.0.7" });
    expect(r.status).toBe(200);
    expect(r.body.result.private_key_pem).toBeUndefined();
    expect(await tlsCheck(r.body.result.x509_pem, box.keyPem, root, `10-0-0-7.${label}.${fleet.zone}`)).toBe(`*.${label}.${fleet.zone}`);
    const again = await call(fleet, { ...fleet.eligible, box_id: id, csr: box.csrPem });
    expect(again.body.result.x509_pem).toBe(r.body.result.x509_pem);
    expect(txtLeft()).toEqual([]);
  }, 30_000);

  test("the box's placeholder CSR: key-in-reply certificate plus the names for its next CSR", async () => {
    const id = boxId();
    const label = deriveLabel(fleet.eligible.db_uuid, id);
    const box = await boxKeyAndCsr([`iotbox-${id}`]);
    const r = await call(fleet, { ...fleet.eligible, box_id: id, csr: box.csrPem });
    expect(r.status).toBe(200);
    expect(r.body.result.private_key_pem).toContain("PRIVATE KEY");
    expect(r.body.result.csr_names).toEqual([`*.${label}.${fleet.zone}`, `${label}.${fleet.zone}`]);
  }, 30_000);

  test("ineligible or unknown credentials: 200, one generic sentence, nothing ordered", async () => {
    const before = countLog(fleet, "certificate issued");
    for (const p of [fleet.ineligible, { db_uuid: fleet.eligible.db_uuid, enterprise_code: "wrong" }, { db_uuid: "unknown", enterprise_code: "x" }]) {
      const r = await call(fleet, { ...p, box_id: boxId() });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ jsonrpc: "2.0", id: null, result: { error: REFUSAL_SENTENCE } });
    }
    expect(countLog(fleet, "certificate issued")).toBe(before);
    expect(countLog(fleet, "certificate refused", (r) => r.failed_check === "not_production")).toBeGreaterThanOrEqual(1);
  }, 30_000);

  test("the A record follows params.ip and the zone's DNS answers it; public IPs are not published", async () => {
    const id = boxId();
    const label = deriveLabel(fleet.eligible.db_uuid, id);
    const resolver = new Resolver();
    resolver.setServers([fleet.dns.dnsAddress]);
    await call(fleet, { ...fleet.eligible, box_id: id, ip: "192.168.5.20" });
    expect(await resolver.resolve4(`192-168-5-20.${label}.${fleet.zone}`)).toEqual(["192.168.5.20"]);
    await call(fleet, { ...fleet.eligible, box_id: id, ip: "169.254.10.20" });
    const mine = fleet.dns.records().filter((r) => r.type === "A" && r.name.endsWith(`.${label}`));
    expect(mine.map((r) => `${r.name} ${r.content}`)).toEqual([`169-254-10-20.${label} 169.254.10.20`]);
    const other = boxId();
    const r = await call(fleet, { ...fleet.eligible, box_id: other, ip: "8.8.4.4" });
    expect(r.status).toBe(200);
    expect(fleet.dns.records().filter((x) => x.name.endsWith(`.${deriveLabel(fleet.eligible.db_uuid, other)}`) && x.type === "A")).toEqual([]);
  }, 30_000);

  for (const [status, retryAfter, html] of [[401, "300", false], [404, "300", false], [429, "60", false], [500, "30", false], [502, "30", true]] as const) {
    test(`DNSimple answering ${status}${html ? " (HTML)" : ""}: 503 with Retry-After ${retryAfter}, no TXT left`, async () => {
      fleet.dns.injectFault({ status, html });
      try {
        const r = await call(fleet, { ...fleet.eligible, box_id: boxId() });
        expect(r.status).toBe(503);
        expect(r.retryAfter).toBe(retryAfter);
        expect(r.body.error.message).toContain("retry later");
        expect(JSON.stringify(r.body)).not.toContain(" at ");
      } finally { fleet.dns.clearFaults(); }
      expect(txtLeft()).toEqual([]);
    }, 30_000);
  }

  test("DNSimple failing once when creating the TXT record: retried, issued, nothing left", async () => {
    fleet.dns.injectFault({ status: 503, times: 1, method: "POST" });
    fleet.dns.injectFault({ status: 500, times: 1, method: "DELETE" });
    try {
      const r = await call(fleet, { ...fleet.eligible, box_id: boxId() });
      expect(r.status).toBe(200);
    } finally { fleet.dns.clearFaults(); }
    expect(txtLeft()).toEqual([]);
  }, 30_000);

  test("bad input over the wire: clear 4xx, never a 500", async () => {
    const id = boxId();
    const foreign = await boxKeyAndCsr([`*.someoneelse.${fleet.zone}`]);
    const cases: Array<[Record<string, unknown> | null, string | undefined, number, string]> = [
      [{ ...fleet.eligible, box_id: id, csr: foreign.csrPem }, undefined, 400, "may not have"],
      [{ ...fleet.eligible, box_id: id, csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }, undefined, 400, "cannot be parsed"],
      [{ ...fleet.eligible, box_id: id, ip: "300.1.1.1" }, undefined, 400, "params.ip"],
      [{ ...fleet.eligible, db_uuid: "a\u001b[31mb" }, undefined, 400, "control characters"],
      [null, "{not json", 400, "Parse error"],
      [null, JSON.stringify({ params: { ...fleet.eligible, pad: "x".repeat(100_000) } }), 413, "larger than"],
    ];
    for (const [params, raw, status, text] of cases) {
      const r = await call(fleet, params ?? {}, { raw });
      expect({ status: r.status, ok: JSON.stringify(r.body).includes(text) }).toEqual({ status, ok: true });
    }
    expect(countLog(fleet, "unexpected error")).toBe(0);
  }, 30_000);

  test("a client that hangs up mid-body is logged at info, not as an error", async () => {
    const before = countLog(fleet, "client went away");
    const { port } = new URL(fleet.provisioningUrl);
    const ca = await Bun.file(fleet.caBundleFile).text();
    const sock = tlsConnect({ host: "127.0.0.1", port: Number(port), servername: "localhost", ca: [ca] }, () => {
      sock.write("POST /odoo-enterprise/iot/x509 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"jsonrpc\":\"2.0\",");
      setTimeout(() => sock.destroy(), 100);
    });
    sock.on("error", () => {});
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && countLog(fleet, "client went away") === before) await Bun.sleep(50);
    expect(countLog(fleet, "client went away", (l) => l.level === "info")).toBe(before + 1);
    expect(fleet.provisionerLog()).not.toContain('"level":"error"');
  }, 30_000);
});

describe("provisioner limits and the CA down", () => {
  let small: Fleet;
  beforeAll(async () => { small = await startFleet({ serveArgs: ["--weekly-new-certs", "1"] }); }, 60_000);
  afterAll(async () => { await small?.stop(); }, 30_000);

  test("weekly budget spent → 503 + Retry-After; an issued box is still served with the CA down; an order with the CA down → 503", async () => {
    const first = boxId();
    expect((await call(small, { ...small.eligible, box_id: first })).status).toBe(200);
    const r = await call(small, { ...small.eligible, box_id: boxId() });
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(6 * 86400);

    await small.pebble.stop();
    expect((await call(small, { ...small.eligible, box_id: first })).status).toBe(200);
    const label = deriveLabel(small.eligible.db_uuid, first);
    const box = await boxKeyAndCsr([`*.${label}.${small.zone}`, `${label}.${small.zone}`]);
    const down = await call(small, { ...small.eligible, box_id: first, csr: box.csrPem });
    expect(down.status).toBe(503);
    expect(down.retryAfter).toBe("60"); // the CA's port is closed: down, not refusing (300)
    expect(countLog(small, "upstream failure", (l) => l.class === "ca_unreachable")).toBe(1);
    expect(small.dns.records().filter((x) => x.type === "TXT")).toEqual([]);
  }, 60_000);
});

describe("provisioner janitor", () => {
  let jf: Fleet;
  beforeAll(async () => { jf = await startFleet({ serveArgs: ["--janitor-interval-s", "1", "--txt-grace-s", "2"] }); }, 60_000);
  afterAll(async () => { await jf?.stop(); }, 30_000);

  test("DNSimple refusing every delete: the box still gets its certificate; the TXT records go once DNSimple is back", async () => {
    jf.dns.injectFault({ status: 500, method: "DELETE" });
    try {
      const r = await call(jf, { ...jf.eligible, box_id: boxId() });
      expect(r.status).toBe(200);
      expect(jf.dns.records().filter((x) => x.type === "TXT").length).toBe(2); // *.label and label
    } finally { jf.dns.clearFaults(); }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && jf.dns.records().some((x) => x.type === "TXT")) await Bun.sleep(200);
    expect(jf.dns.records().filter((x) => x.type === "TXT")).toEqual([]);
  }, 60_000);
});
