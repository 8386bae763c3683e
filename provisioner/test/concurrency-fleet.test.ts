// The service's promises under simultaneous requests, against real parts: Debian's pebble, the
// DNSimple double, provisioner child processes, and one PostgreSQL server shared by two
// instances (one database per fleet), or one SQLite file shared by two instances.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { startFleet, startPostgres, type Credentials, type Fleet, type Postgres } from "../../testkit";
import { call, countLog, type RpcReply } from "./helpers";

let pg: Postgres;
const fleets: Fleet[] = [];
beforeAll(async () => { pg = await startPostgres(); }, 60_000);
afterAll(async () => { for (const f of fleets.splice(0)) await f.stop(); await pg?.stop(); }, 60_000);

async function pgDatabase(name: string): Promise<string> {
  const admin = new SQL(pg.url);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.close();
  return pg.url.replace(/\/postgres$/, `/${name}`);
}

/** A fleet with a second instance on the same database; `both[i % 2]` spreads requests over them. */
async function twoInstances(opts: Parameters<typeof startFleet>[0]) {
  const fleet = await startFleet(opts);
  fleets.push(fleet);
  const second = await fleet.addProvisioner();
  return { fleet, both: [fleet, { ...fleet, provisioningUrl: second.url }] as Fleet[] };
}

async function addDatabase(fleet: Fleet, lines: number): Promise<Credentials> {
  const c = { db_uuid: crypto.randomUUID(), enterprise_code: `EC-${crypto.randomUUID()}` };
  const r = await fleet.provisionerCli(["database", "add", "--db", fleet.dbUrl, "--uuid", c.db_uuid, "--enterprise-code", c.enterprise_code, "--iot-box-lines", String(lines)]);
  expect(r.code).toBe(0);
  return c;
}

const madeUp = (i: number) => `made${crypto.randomUUID().replace(/-/g, "").slice(0, 8)}${i}`;
const statuses = (rs: RpcReply[]) => rs.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});

describe("budgets under simultaneous requests", () => {
  for (const kind of ["postgres", "sqlite"] as const) {
    test(`${kind}, two instances: 30 simultaneous made-up box_ids for a database with 1 line → exactly 2 issued`, async () => {
      const { fleet, both } = await twoInstances(kind === "postgres" ? { dbUrl: await pgDatabase("budget_db") } : {});
      const creds = await addDatabase(fleet, 1);
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => call(both[i % 2]!, { ...creds, box_id: madeUp(i) })));
      expect(statuses(replies)).toEqual({ 200: 2, 503: 28 });
      for (const r of replies.filter((x) => x.status === 503)) expect(Number(r.retryAfter)).toBeGreaterThan(6 * 86400);
      expect(countLog(fleet, "certificate issued")).toBe(2);
      expect(fleet.dns.records().filter((r) => r.type === "TXT")).toEqual([]);
    }, 60_000);
  }

  test("postgres, two instances, --weekly-new-certs 3: 20 simultaneous new boxes → exactly 3 issued", async () => {
    const { fleet, both } = await twoInstances({ dbUrl: await pgDatabase("budget_zone"), serveArgs: ["--weekly-new-certs", "3"] });
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call(both[i % 2]!, { ...fleet.eligible, box_id: madeUp(i) })));
    expect(statuses(replies)).toEqual({ 200: 3, 503: 17 });
    expect(countLog(fleet, "certificate issued")).toBe(3);
  }, 60_000);
});

describe("a fresh service", () => {
  test("20 simultaneous first requests: one ACME account registration, every box gets its certificate", async () => {
    const fleet = await startFleet();
    fleets.push(fleet);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call(fleet, { ...fleet.eligible, box_id: madeUp(i) })));
    expect(statuses(replies)).toEqual({ 200: 20 });
    expect(countLog(fleet, "ACME account registered")).toBe(1);
    expect(countLog(fleet, "upstream failure")).toBe(0);
  }, 90_000);
});

describe("refused attempts, two instances on PostgreSQL", () => {
  let fleet: Fleet, both: Fleet[];
  beforeAll(async () => {
    ({ fleet, both } = await twoInstances({ dbUrl: await pgDatabase("attempts"), serveArgs: ["--trusted-proxies", "127.0.0.1"] }));
  }, 60_000);

  /** `n` requests, `inFlight` at a time, alternating instances, each from the address `from(i)`. */
  async function flood(n: number, inFlight: number, params: (i: number) => Record<string, unknown>, from: (i: number) => string) {
    const out: RpcReply[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < n) { const i = next++; out.push(await call(both[i % 2]!, params(i), { headers: { "x-forwarded-for": from(i) } })); }
    }));
    return out;
  }
  const refusedAnswers = (rs: RpcReply[]) => rs.filter((r) => r.status === 200 && r.body?.result?.error).length;

  test("1000 wrong codes from one address: at most 10 answered, the rest 429 with Retry-After", async () => {
    const rs = await flood(1000, 50, (i) => ({ db_uuid: fleet.eligible.db_uuid, enterprise_code: `guess-${i}` }), () => "203.0.113.50");
    expect(refusedAnswers(rs)).toBeLessThanOrEqual(10);
    expect(rs.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(990);
    for (const r of rs.filter((x) => x.status === 429)) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(countLog(fleet, "unexpected error")).toBe(0);
    expect(fleet.provisionerLog()).not.toContain("guess-");
  }, 60_000);

  test("wrong codes for one database from 300 addresses: at most 10 answered; its box, served before from its address, still is", async () => {
    const creds = await addDatabase(fleet, 5);
    expect((await call(fleet, { ...creds, box_id: "shopbox01" }, { headers: { "x-forwarded-for": "192.0.2.10" } })).status).toBe(200);
    const rs = await flood(300, 30, (i) => ({ db_uuid: creds.db_uuid, enterprise_code: `g${i}` }), (i) => `198.51.100.${(i % 250) + 1}`);
    expect(refusedAnswers(rs)).toBeLessThanOrEqual(10);
    const mine = await call(both[1]!, { ...creds, box_id: "shopbox01" }, { headers: { "x-forwarded-for": "192.0.2.10" } });
    expect(mine.status).toBe(200);
    const stranger = await call(fleet, { ...creds, box_id: "shopbox02" }, { headers: { "x-forwarded-for": "192.0.2.99" } });
    expect(stranger.status).toBe(429);
  }, 60_000);
});
