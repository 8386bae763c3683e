/**
 * Box runtime benchmark (issue 2), one run, side by side:
 *  - HTTPS GET /api/status under keep-alive load (wrk, 50 connections) against the compiled
 *    binary, next to nginx (one worker) serving a same-size JSON file with the same certificate;
 *  - the binary's idle and loaded RSS; the time from process start to HTTPS answering.
 * Usage: bun bench/box.ts [--seconds 10] [--rounds 3]
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { freePort, waitFor } from "../testkit/ports";
import { findKey, splitCerts } from "../src/cert/x509";

const ROOT = join(import.meta.dir, "..");
const BIN = process.env.IOTBOX_BIN ?? join(ROOT, "dist/iotbox-linux-x64");
const arg = (n: string, d: number) => { const i = process.argv.indexOf(n); return i > 0 ? Number(process.argv[i + 1]) : d; };
const SECONDS = arg("--seconds", 10), ROUNDS = arg("--rounds", 3);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

if (!existsSync(BIN)) {
  const b = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts"), "--only", "iotbox-linux-x64"], { stdout: "inherit", stderr: "inherit" });
  if (b.exitCode !== 0) process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), "iotbox-bench-"));
chmodSync(work, 0o755); // nginx's worker (www-data) reads the JSON file and the certificate
const procKb = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const rss = (pid: number) => procKb(pid, "VmRSS");
const tlsReady = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => { s.end(); resolve(true); });
  s.on("error", () => resolve(false));
});

async function startBox(dir: string) {
  const httpPort = await freePort(), httpsPort = await freePort();
  const t0 = performance.now();
  const proc = Bun.spawn([BIN, "serve"], { env: { ...process.env, IOTBOX_DATA_DIR: join(dir, "data"), IOTBOX_BOOT_DIR: join(dir, "boot"), IOTBOX_SYSFS: join(dir, "sys"),
    IOTBOX_HTTP_PORT: String(httpPort), IOTBOX_HTTPS_PORT: String(httpsPort), IOTBOX_LISTEN: "127.0.0.1", IOTBOX_LOG_LEVEL: "warn", IOTBOX_DIAGNOSTICS: "off" }, stdout: "ignore", stderr: "ignore" });
  // Time to HTTPS: until a TLS handshake completes (the probe only measures; it trusts nothing).
  await waitFor(() => tlsReady(httpsPort), 10_000, "box https");
  return { proc, httpPort, httpsPort, startMs: performance.now() - t0 };
}

function wrk(url: string, sample?: () => void) {
  const p = Bun.spawnSync(["wrk", "-t2", "-c50", `-d${SECONDS}s`, "--latency", url]);
  const out = p.stdout.toString();
  void sample;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p99raw = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = p99raw ? Number(p99raw[1]) * (p99raw[2] === "us" ? 0.001 : p99raw[2] === "s" ? 1000 : 1) : NaN;
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  if (!Number.isFinite(rps)) throw new Error(`wrk failed: ${out} ${p.stderr.toString()}`);
  return { rps, p99, errors: Number(errors) };
}

try {
  // Start times: a fresh data dir each time (first start makes the temporary certificate) and a warm one.
  const cold: number[] = [], warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const d = join(work, `start${i}`); mkdirSync(d);
    const a = await startBox(d); cold.push(a.startMs); a.proc.kill("SIGKILL"); await a.proc.exited;
    const b = await startBox(d); warm.push(b.startMs); b.proc.kill("SIGKILL"); await b.proc.exited;
  }

  // RSS: after a first start (which makes a key and the placeholder) and in the steady state
  // (a restart with the certificate already on disk, as every later boot).
  const first = await startBox(join(work, "main"));
  await Bun.sleep(2000);
  const firstRss = rss(first.proc.pid);
  first.proc.kill("SIGTERM"); await first.proc.exited;
  const box = await startBox(join(work, "main"));
  await Bun.sleep(2000);
  const idleRss = rss(box.proc.pid);
  // RSS = private memory (RssAnon) + pages of the executable that were touched (RssFile: the Bun
  // runtime's code, shared and clean: the kernel can drop them under pressure).
  const idleAnon = procKb(box.proc.pid, "RssAnon"), idleFile = procKb(box.proc.pid, "RssFile");
  const statusBody = await (await fetch(`http://127.0.0.1:${box.httpPort}/api/status`)).text();
  const pem = readFileSync(join(work, "main/data/cert/temporary.pem"), "utf8");
  writeFileSync(join(work, "key.pem"), findKey(pem)!);
  writeFileSync(join(work, "cert.pem"), splitCerts(pem).join("\n"));
  mkdirSync(join(work, "www/api"), { recursive: true });
  writeFileSync(join(work, "www/api/status"), statusBody);
  const nginxPort = await freePort();
  writeFileSync(join(work, "nginx.conf"), `worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/nginx-error.log warn;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 100000; client_body_temp_path ${work}/tmp; proxy_temp_path ${work}/tmp; fastcgi_temp_path ${work}/tmp; uwsgi_temp_path ${work}/tmp; scgi_temp_path ${work}/tmp;
  server { listen 127.0.0.1:${nginxPort} ssl; ssl_certificate ${work}/cert.pem; ssl_certificate_key ${work}/key.pem; ssl_protocols TLSv1.2 TLSv1.3;
    root ${work}/www; location = /api/status { default_type application/json; } } }
`);
  mkdirSync(join(work, "tmp"));
  const nginx = Bun.spawn(["nginx", "-c", join(work, "nginx.conf"), "-p", work], { stdout: "ignore", stderr: "inherit" });
  await waitFor(() => tlsReady(nginxPort), 10_000, "nginx https");

  const barePort = await freePort();
  // Compiled like the box, so that both run the same way.
  const bareBin = join(work, "bare-hono");
  if (Bun.spawnSync([process.execPath, "build", "--compile", "--minify", join(import.meta.dir, "support/bare-hono.ts"), "--outfile", bareBin], { stdout: "ignore" }).exitCode !== 0) throw new Error("could not compile the bare hono reference");
  const bare = Bun.spawn([bareBin, String(barePort), join(work, "cert.pem"), join(work, "key.pem"), join(work, "www/api/status")], { stdout: "ignore", stderr: "inherit" });
  await waitFor(() => tlsReady(barePort), 10_000, "bare hono https");

  const ours: ReturnType<typeof wrk>[] = [], theirs: ReturnType<typeof wrk>[] = [], bares: ReturnType<typeof wrk>[] = [];
  let loadedRss = idleRss;
  const sampler = setInterval(() => { try { loadedRss = Math.max(loadedRss, rss(box.proc.pid)); } catch {} }, 200);
  for (let r = 0; r < ROUNDS; r++) {
    // Sampling runs on this process's event loop, which wrk's spawnSync blocks: sample around runs too.
    ours.push(wrk(`https://127.0.0.1:${box.httpsPort}/api/status`)); loadedRss = Math.max(loadedRss, rss(box.proc.pid));
    theirs.push(wrk(`https://127.0.0.1:${nginxPort}/api/status`));
    bares.push(wrk(`https://127.0.0.1:${barePort}/api/status`));
  }
  clearInterval(sampler);
  nginx.kill("SIGTERM"); box.proc.kill("SIGTERM"); bare.kill("SIGTERM");
  await Promise.all([nginx.exited, box.proc.exited, bare.exited]);
  const bRps = median(bares.map((x) => x.rps));

  const oRps = median(ours.map((x) => x.rps)), tRps = median(theirs.map((x) => x.rps));
  const oP99 = median(ours.map((x) => x.p99)), tP99 = median(theirs.map((x) => x.p99));
  const rows = [
    ["HTTPS GET /api/status req/s (wrk -c50, keep-alive)", oRps.toFixed(0), tRps.toFixed(0), `${(oRps / tRps).toFixed(2)}× nginx`, "≥ 1.0× nginx"],
    ["  reference: bare hono on Bun, same JSON (req/s)", bRps.toFixed(0), tRps.toFixed(0), `${(bRps / tRps).toFixed(2)}× nginx`, ""],
    ["  iotbox / bare hono", (oRps / bRps).toFixed(2), "", "", ""],
    ["HTTPS GET /api/status p99 latency (ms)", oP99.toFixed(2), tP99.toFixed(2), `${(oP99 / tP99).toFixed(2)}×`, ""],
    ["non-2xx responses", String(ours.reduce((a, x) => a + x.errors, 0)), String(theirs.reduce((a, x) => a + x.errors, 0)), "", "0"],
    ["body size (bytes)", String(statusBody.length), String(statusBody.length), "same", ""],
    ["idle RSS, steady state (MB)", idleRss.toFixed(1), "", "", "< 60"],
    ["  of which private (RssAnon) / executable pages (RssFile)", `${idleAnon.toFixed(1)} / ${idleFile.toFixed(1)}`, "", "", ""],
    ["idle RSS, first start: key + placeholder made (MB)", firstRss.toFixed(1), "", "", ""],
    ["loaded RSS, max (MB)", loadedRss.toFixed(1), "", "", ""],
    ["start → HTTPS answering, first start (ms, median of 5)", median(cold).toFixed(0), "", "", "< 300"],
    ["start → HTTPS answering, later start (ms, median of 5)", median(warm).toFixed(0), "", "", "< 300"],
  ];
  console.log(`\nbox runtime vs nginx (1 worker), same certificate, ${ROUNDS} rounds × ${SECONDS} s, medians\n`);
  const w = [56, 10, 10, 14, 14];
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(" | ");
  console.log(line(["measure", "iotbox", "nginx", "ratio", "goal"]));
  console.log(w.map((n) => "-".repeat(n)).join("-|-"));
  for (const r of rows) console.log(line(r));
} finally {
  rmSync(work, { recursive: true, force: true });
}
