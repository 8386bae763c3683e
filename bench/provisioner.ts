// Benchmark of the certificate service (iotbox-provisioner), against the real parts the tests
// use (Debian's pebble with PEBBLE_VA_NOSLEEP=1, DNS-01 validated through the DNSimple double):
//   - first issuance: a new box's request until its certificate is in the reply (ACME order,
//     two TXT records put, validated and removed), sequential, median of --issuances N;
//   - an issued box: 50 concurrent clients asking again for a box that already has a
//     certificate (reuse: eligibility, store look-ups, reply), p50/p99 and requests/s, both
//     without a CSR (key in reply) and with the box's own CSR (its signature verified each time).
//   bun bench/provisioner.ts [--seconds S] [--clients C] [--issuances N]
// Set IOTBOX_PROVISIONER_BIN to measure the compiled binary instead of `bun provisioner/src/main.ts`.
import "reflect-metadata";
import { startFleet, type Fleet } from "../testkit";
import { deriveLabel } from "../provisioner/src/naming";
import { boxKeyAndCsr } from "../provisioner/test/helpers";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) || dflt : dflt; };
const seconds = opt("seconds", 5);
const clients = opt("clients", 50);
const issuances = opt("issuances", 5);

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))]! : NaN; };

async function post(fleet: Fleet, ca: string, params: Record<string, unknown>) {
  const r = await fetch(`${fleet.provisioningUrl}/odoo-enterprise/iot/x509`, {
    method: "POST", tls: { ca }, headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method: "call", params }),
  });
  const body = await r.text();
  if (r.status !== 200 || !body.includes("x509_pem")) throw new Error(`HTTP ${r.status}: ${body.slice(0, 200)}`);
}

async function load(fleet: Fleet, ca: string, params: Record<string, unknown>) {
  const lat: number[] = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const t = performance.now();
      try { await post(fleet, ca, params); lat.push(performance.now() - t); } catch { errors++; }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), rps: lat.length / elapsed, n: lat.length, errors };
}

const fleet = await startFleet({ serveArgs: ["--log-level", "warn"] });
try {
  const ca = await Bun.file(fleet.caBundleFile).text();
  // First issuance, sequential fresh boxes.
  const firsts: number[] = [];
  for (let i = 0; i < issuances; i++) {
    const t = performance.now();
    await post(fleet, ca, { ...fleet.eligible, box_id: `bench${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`, ip: `192.168.50.${i + 1}` });
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

  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const rows: string[][] = [
    ["measure", "value", "goal", "met"],
    [`first issuance vs Pebble (median of ${issuances})`, ms(pct(firsts, 0.5)), "< 3000 ms", pct(firsts, 0.5) < 3000 ? "yes" : "NO"],
    ["first issuance, slowest", ms(Math.max(...firsts)), "", ""],
    [`issued box, ${clients} clients: p50`, ms(plain.p50), "< 20 ms", plain.p50 < 20 ? "yes" : "NO"],
    [`issued box, ${clients} clients: p99`, ms(plain.p99), "", ""],
    [`issued box, ${clients} clients: requests/s`, plain.rps.toFixed(0), "", ""],
    [`issued box with CSR, ${clients} clients: p50`, ms(withCsr.p50), "< 20 ms", withCsr.p50 < 20 ? "yes" : "NO"],
    [`issued box with CSR, ${clients} clients: p99`, ms(withCsr.p99), "", ""],
    [`issued box with CSR, ${clients} clients: requests/s`, withCsr.rps.toFixed(0), "", ""],
    ["errors during load", String(plain.errors + withCsr.errors), "0", plain.errors + withCsr.errors === 0 ? "yes" : "NO"],
  ];
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log(`iotbox-provisioner benchmark (${process.env.IOTBOX_PROVISIONER_BIN ? "compiled binary" : "bun provisioner/src/main.ts"}, ${seconds} s per load run, ${plain.n + withCsr.n} requests)`);
  for (const [i, r] of rows.entries()) {
    console.log(r.map((x, c) => x.padEnd(w[c]!)).join("  "));
    if (i === 0) console.log(w.map((n) => "-".repeat(n)).join("  "));
  }
  console.log(`ratio p99/p50 (no CSR): ${(plain.p99 / plain.p50).toFixed(1)}; CSR verification adds ${ms(withCsr.p50 - plain.p50)} at p50`);
} finally {
  await fleet.stop();
}
