// Benchmark of the certificate service (iotbox-provisioner), against the real parts the tests
// use (Debian's pebble with PEBBLE_VA_NOSLEEP=1, DNS-01 validated through the DNSimple double):
//   - first issuance: a new box's request until its certificate is in the reply (ACME order,
//     two TXT records put, validated and removed), sequential, median of --issuances N;
//   - an issued box: 50 concurrent clients asking again for a box that already has a
//     certificate (reuse: eligibility, store look-ups, reply), p50/p99 and requests/s, both
//     without a CSR (key in reply) and with the box's own CSR (its signature verified each time);
//   - on two instances sharing one PostgreSQL: the same repeat request under C clients split over
//     both; a database with 1 IoT box line sending --burst N simultaneous new box_ids (issued:
//     goal exactly its budget, 2); an attacker sending wrong enterprise codes from one address for
//     --attack-seconds (75: more than one window; the most answers that were not 429 in any
//     60 s: goal the limit, 10).
//   bun bench/provisioner.ts [--seconds S] [--clients C] [--issuances N] [--burst N] [--attack-seconds S]
// Set IOTBOX_PROVISIONER_BIN to measure the compiled binary instead of `bun provisioner/src/main.ts`.
import "reflect-metadata";
import { startFleet, startPostgres, type Fleet } from "../testkit";
import { deriveLabel } from "../provisioner/src/naming";
import { boxKeyAndCsr } from "../provisioner/test/helpers";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) || dflt : dflt; };
const seconds = opt("seconds", 5);
const clients = opt("clients", 50);
const issuances = opt("issuances", 5);
const burst = opt("burst", 30);
const attackSeconds = opt("attack-seconds", 75);

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))]! : NaN; };

async function send(url: string, ca: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/odoo-enterprise/iot/x509`, {
    method: "POST", tls: { ca }, headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", method: "call", params }),
  });
  return { status: r.status, body: await r.text() };
}

async function post(fleet: Fleet, ca: string, params: Record<string, unknown>) {
  const { status, body } = await send(fleet.provisioningUrl, ca, params);
  if (status !== 200 || !body.includes("x509_pem")) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
}

/** Client i asks instance i % n. */
async function load(fleet: Fleet, ca: string, params: Record<string, unknown>, urls: string[] = [fleet.provisioningUrl]) {
  const lat: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, i) => {
    const at = { ...fleet, provisioningUrl: urls[i % urls.length]! };
    while (performance.now() < until) {
      const t = performance.now();
      try { await post(at, ca, params); lat.push(performance.now() - t); } catch { errors++; }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), rps: lat.length / elapsed, n: lat.length, errors };
}

const newBoxId = () => `bench${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;

/** A database with 1 IoT box line sends `n` new box_ids at once, spread over the instances. */
async function budgetBurst(fleet: Fleet, ca: string, urls: string[], n: number) {
  const creds = { db_uuid: crypto.randomUUID(), enterprise_code: `EC-${crypto.randomUUID()}` };
  const added = await fleet.provisionerCli(["database", "add", "--db", fleet.dbUrl, "--uuid", creds.db_uuid, "--enterprise-code", creds.enterprise_code, "--iot-box-lines", "1"]);
  if (added.code !== 0) throw new Error(added.stderr);
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => send(urls[i % urls.length]!, ca, { ...creds, box_id: newBoxId() })));
  return replies.filter((r) => r.status === 200).length;
}

/** Wrong codes from one address (X-Forwarded-For through a trusted proxy), 8 in flight. */
async function attack(fleet: Fleet, ca: string, urls: string[], secs: number) {
  const answeredAt: number[] = [];
  let limited = 0, other = 0, i = 0;
  const until = performance.now() + secs * 1000;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (performance.now() < until) {
      const n = i++;
      const r = await send(urls[n % urls.length]!, ca, { db_uuid: fleet.eligible.db_uuid, enterprise_code: `guess-${n}` }, { "x-forwarded-for": "203.0.113.66" });
      if (r.status === 429) limited++; else if (r.status === 200 && r.body.includes('"error"')) answeredAt.push(performance.now()); else other++;
    }
  }));
  // The most answers in any 60 s (the limit's window), wherever the minute starts.
  const perMinute = Math.max(0, ...answeredAt.map((t) => answeredAt.filter((x) => x > t - 60_000 && x <= t).length));
  return { answeredPerMinute: perMinute, answered: answeredAt.length, limitedPerSecond: limited / secs, other };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;
const rows: string[][] = [["measure", "value", "goal", "met"]];
const fleet = await startFleet({ serveArgs: ["--log-level", "warn"] });
let plainN = 0;
const p50s: Record<string, number> = {};
try {
  const ca = await Bun.file(fleet.caBundleFile).text();
  // First issuance, sequential fresh boxes.
  const firsts: number[] = [];
  for (let i = 0; i < issuances; i++) {
    const t = performance.now();
    await post(fleet, ca, { ...fleet.eligible, box_id: newBoxId(), ip: `192.168.50.${i + 1}` });
    firsts.push(performance.now() - t);
  }
  // An issued box, key in reply.
  const boxA = { ...fleet.eligible, box_id: "benchboxa1", ip: "192.168.60.1" };
  await post(fleet, ca, boxA);
  for (let i = 0; i < 200; i++) await post(fleet, ca, boxA); // warm-up
  const plain = await load(fleet, ca, boxA);
  // An issued box that sends its own CSR (naming its names).
  const label = deriveLabel(fleet.eligible.db_uuid, "benchboxb1");
  const { csrPem } = await boxKeyAndCsr([`*.${label}.${fleet.zone}`, `${label}.${fleet.zone}`]);
  const boxB = { ...fleet.eligible, box_id: "benchboxb1", ip: "192.168.60.2", csr: csrPem };
  await post(fleet, ca, boxB);
  const withCsr = await load(fleet, ca, boxB);
  plainN = plain.n + withCsr.n;
  Object.assign(p50s, { sqlite: plain.p50, sqliteP99: plain.p99, csr: withCsr.p50 });
  rows.push(
    [`first issuance vs Pebble (median of ${issuances})`, ms(pct(firsts, 0.5)), "< 3000 ms", pct(firsts, 0.5) < 3000 ? "yes" : "NO"],
    ["first issuance, slowest", ms(Math.max(...firsts)), "", ""],
    [`issued box, ${clients} clients: p50`, ms(plain.p50), "< 20 ms", plain.p50 < 20 ? "yes" : "NO"],
    [`issued box, ${clients} clients: p99`, ms(plain.p99), "", ""],
    [`issued box, ${clients} clients: requests/s`, plain.rps.toFixed(0), "", ""],
    [`issued box with CSR, ${clients} clients: p50`, ms(withCsr.p50), "< 20 ms", withCsr.p50 < 20 ? "yes" : "NO"],
    [`issued box with CSR, ${clients} clients: p99`, ms(withCsr.p99), "", ""],
    [`issued box with CSR, ${clients} clients: requests/s`, withCsr.rps.toFixed(0), "", ""],
    ["errors during load", String(plain.errors + withCsr.errors), "0", plain.errors + withCsr.errors === 0 ? "yes" : "NO"],
  );
} finally {
  await fleet.stop();
}

const pg = await startPostgres();
const pgFleet = await startFleet({ dbUrl: pg.url, serveArgs: ["--log-level", "warn", "--trusted-proxies", "127.0.0.1"] });
try {
  const ca = await Bun.file(pgFleet.caBundleFile).text();
  const second = await pgFleet.addProvisioner();
  const urls = [pgFleet.provisioningUrl, second.url];
  const box = { ...pgFleet.eligible, box_id: "benchboxpg", ip: "192.168.61.1" };
  await post(pgFleet, ca, box);
  for (let i = 0; i < 200; i++) await post({ ...pgFleet, provisioningUrl: urls[i % 2]! }, ca, box); // warm-up
  const shared = await load(pgFleet, ca, box, urls);
  const granted = await budgetBurst(pgFleet, ca, urls, burst);
  const abuse = await attack(pgFleet, ca, urls, attackSeconds);
  rows.push(
    [`2 instances on PostgreSQL, issued box, ${clients} clients: p50`, ms(shared.p50), "< 20 ms", shared.p50 < 20 ? "yes" : "NO"],
    [`2 instances on PostgreSQL, issued box, ${clients} clients: p99`, ms(shared.p99), "", ""],
    [`2 instances on PostgreSQL, issued box, ${clients} clients: requests/s`, shared.rps.toFixed(0), "", ""],
    [`2 instances on PostgreSQL: issued to a 1-line database sending ${burst} new box_ids at once`, String(granted), "2", granted === 2 ? "yes" : "NO"],
    [`wrong codes from one address for ${attackSeconds} s: most answered in any minute`, String(abuse.answeredPerMinute), "<= 10", abuse.answeredPerMinute <= 10 ? "yes" : "NO"],
    [`wrong codes from one address for ${attackSeconds} s: answered in all`, String(abuse.answered), "", ""],
    [`wrong codes from one address: 429s per second`, abuse.limitedPerSecond.toFixed(0), "", ""],
    ["errors during PostgreSQL load and attack", String(shared.errors + abuse.other), "0", shared.errors + abuse.other === 0 ? "yes" : "NO"],
  );
  plainN += shared.n;
  Object.assign(p50s, { pg: shared.p50, pgP99: shared.p99 });
} finally {
  await pgFleet.stop();
  await pg.stop();
}

const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log(`iotbox-provisioner benchmark (${process.env.IOTBOX_PROVISIONER_BIN ? "compiled binary" : "bun provisioner/src/main.ts"}, ${seconds} s per load run, ${plainN} requests)`);
for (const [i, r] of rows.entries()) {
  console.log(r.map((x, c) => x.padEnd(w[c]!)).join("  "));
  if (i === 0) console.log(w.map((n) => "-".repeat(n)).join("  "));
}
console.log(`ratios: p99/p50 ${(p50s.sqliteP99! / p50s.sqlite!).toFixed(1)} (SQLite, 1 instance), ${(p50s.pgP99! / p50s.pg!).toFixed(1)} (PostgreSQL, 2 instances); ` +
  `p50 PostgreSQL 2 instances / SQLite 1 instance ${(p50s.pg! / p50s.sqlite!).toFixed(2)}; CSR verification adds ${ms(p50s.csr! - p50s.sqlite!)} at p50`);
