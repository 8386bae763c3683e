// Two provisioner instances on one PostgreSQL database serve one fleet: the same box asking
// both at once gets one order, and either instance then serves the stored certificate.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFleet, startPostgres, type Fleet, type Postgres } from "../../testkit";
import { deriveLabel } from "../src/naming";
import { call, countLog } from "./helpers";

let pg: Postgres;
let fleet: Fleet;
beforeAll(async () => { pg = await startPostgres(); fleet = await startFleet({ dbUrl: pg.url }); }, 90_000);
afterAll(async () => { await fleet?.stop(); await pg?.stop(); }, 30_000);

test("two instances on PostgreSQL: one order for a box asked through both, then both serve it", async () => {
  const second = await fleet.addProvisioner();
  const other: Fleet = { ...fleet, provisioningUrl: second.url };
  const boxId = "pgbox0001";
  const params = { ...fleet.eligible, box_id: boxId, ip: "192.168.7.7" };
  const both = await Promise.all([call(fleet, params), call(other, params)]);
  for (const r of both) expect([200, 503]).toContain(r.status);
  expect(both.some((r) => r.status === 200)).toBe(true);
  const again = await Promise.all([call(fleet, params), call(other, params)]);
  expect(again.map((r) => r.status)).toEqual([200, 200]);
  expect(again[0]!.body.result.x509_pem).toBe(again[1]!.body.result.x509_pem);
  expect(countLog(fleet, "certificate issued", (r) => r.label === deriveLabel(fleet.eligible.db_uuid, boxId))).toBe(1);
  expect(fleet.dns.records().filter((r) => r.type === "A").map((r) => r.content)).toEqual(["192.168.7.7"]);
  expect(fleet.dns.records().filter((r) => r.type === "TXT")).toEqual([]);
}, 60_000);

test("PostgreSQL gone: a box gets 503 with Retry-After, not a 500", async () => {
  await pg.stop();
  const r = await call(fleet, { ...fleet.eligible, box_id: "pgbox0002" });
  expect(r.status).toBe(503);
  expect(r.retryAfter).toBe("30");
  expect(countLog(fleet, "unexpected error")).toBe(0);
}, 60_000);
