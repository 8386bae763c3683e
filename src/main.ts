/**
 * The composition root: builds the adapters, wires the modules, dispatches the commands.
 *   iotbox serve | status [--json] | cert [--json] | diagnose [--json] | version
 * Nothing below this file connects, reads or spawns at import time.
 */
import { hostname } from "node:os";
import { mkdirSync, chmodSync } from "node:fs";
import { commandArgs, parseOptions, type ServeOptions } from "./cli/options";
import { createLogger, isLevel, type Logger } from "./log/index";
import { bootConfigPath, dataFiles, ledsDir, procDir, updateHostPaths } from "./host/paths";
import { openConfigStore } from "./config/store";
import { importBootConf } from "./config/import";
import { createCertificateStore } from "./cert/store";
import { createCertificateLifecycle } from "./cert/lifecycle";
import { requestCertificate } from "./cert/provisioning";
import { describeCert } from "./cert/codes";
import { startServers } from "./https/server";
import { createAuth } from "./web/auth";
import { createHttpFront } from "./web/compose";
import { openCredentials } from "./admin/credentials";
import { createOwnHosts } from "./net/own-hosts";
import { buildStatus, type Status } from "./web/status";
import { lanAddress } from "./net/address";
import { createFactsCache, readSystemFacts } from "./system/facts";
import { createLedWriter } from "./led/sysfs";
import { LED_TABLE, ledClassFor } from "./led/patterns";
import { systemdNotifier } from "./platform/systemd";
import { releaseExecutablePages } from "./platform/memory";
import { VERSION } from "./version";
import { createTerminals } from "./terminals/index";
import { createDiagnostics, describe as describeDiag, diagnoseCommand, targetsFromConfig, type Diagnostics } from "./diagnostics/index";
import { boxNameFor, readConfigForDiagnosis } from "./diagnostics/box-config";
import type { BoxConfig } from "./config/schema";
import { createNetworkSupervisor, realNmcli, type NetworkSupervisor } from "./network/index";
import { splitCerts } from "./cert/x509";
import { appendFileSync, copyFileSync, existsSync, readFileSync, realpathSync, renameSync, statSync } from "node:fs";
import { writeFileAtomic } from "./fs/atomic";
import { join } from "node:path";
import { createOdooLink } from "./odoo/index";
import { connectionStore } from "./odoo/store";
import { boxFacts } from "./odoo/facts";
import { readIdentifier } from "./odoo/identity";
import { createPairing, pairingServiceUrl } from "./odoo/pairing";
import { createUpdater, type Updater, type UpdateView } from "./update/index";
import { createRauc, spawnRun } from "./update/rauc";
import { formatView, updateCommand } from "./update/cli";

const USAGE = `usage: iotbox <command> [options]
  serve                 run the box (homepage, local API, certificate, LEDs)
  status [--json]       print the box's state
  cert [--json]         check the certificate now and fetch one if needed; exit 1 on error
  diagnose [--json] [--lang es]  run the network diagnosis now, with the box's configuration
  update status [--json]          the running version, channel, last check, last update and refusal
  update check [--install]        look at the update channel now; --install: also download, install, reboot
  update install FILE [--no-reboot]  check a bundle (signature, device, version) and install it; exit 1 if refused
  update hold | resume            stop / allow automatic updates
  version               print the version
options (also IOTBOX_… environment variables): --data-dir, --boot-dir, --http-port, --https-port, --sysfs, --lan-ip`;

function openBox(opts: ServeOptions, logger: Logger) {
  const files = dataFiles(opts);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(files.certDir, { recursive: true, mode: 0o700 });
  chmodSync(files.certDir, 0o700);
  const config = openConfigStore(files.config);
  for (const p of config.loadProblems) logger.error("configuration problem", { problem: p });
  // What grants access lives apart from config.json (src/admin/credentials.ts); an older box's hash moves there.
  const credentials = openCredentials({ dataDir: opts.dataDir, legacyHash: config.legacyAdminHash, usedElsewhere: () => terminalsInUse(files.terminalsDir) });
  if (config.legacyAdminHash) config.update(() => {}); // rewritten without the hash
  if (credentials.problem()) logger.warn("settings locked", { reason: credentials.problem() });
  logger.setLevel(config.get().logLevel);
  logger.redact(config.get().enterpriseCode);
  logger.redact(config.get().wifi?.password);
  const store = createCertificateStore(files.certDir);
  // Read at most every 2 s: the status API is hot and the address changes rarely (DHCP).
  let lanCache: { at: number; value: ReturnType<typeof lanAddress> } = { at: -Infinity, value: null };
  const lan = () => {
    const t = performance.now();
    if (t - lanCache.at > 2000) lanCache = { at: t, value: lanAddress(opts.lanIp) };
    return lanCache.value;
  };
  return { files, config, credentials, store, lan };
}
type Box = ReturnType<typeof openBox>;

/**
 * System updates (src/update): RAUC and the files of the image from updateHostPaths, the channel
 * from the configuration, the manifests from the vendor service (the pairing service's base, the
 * same host that serves the certificate service's box-facing routes) unless `update.url` is set.
 */
function openUpdater(box: Box, logger: Logger, paymentInFlight: () => boolean): Updater {
  const paths = updateHostPaths(process.env);
  return createUpdater({
    paths, statePath: box.files.update, logger, fallbackVersion: VERSION, paymentInFlight,
    rauc: createRauc({ binary: paths.rauc, keyring: paths.keyring, logger }),
    settings: () => { const c = box.config.get(); return { channel: c.update.channel, base: c.update.url ?? pairingServiceUrl(c.provisioningUrl), quietHours: c.update.quietHours }; },
    reboot: async () => {
      const r = await spawnRun([paths.updateReboot], 120_000).catch((e) => ({ exitCode: -1, stdout: "", stderr: (e as Error).message }));
      if (r.exitCode !== 0) logger.error("update-reboot failed", { exit: r.exitCode, stderr: r.stderr.trim().slice(-1000) });
      return r.exitCode === 0;
    },
  });
}

/** True when the terminals' settings hold a terminal or a POS pairing (only an admin can add them), or cannot be read. */
function terminalsInUse(dir: string): boolean {
  const file = join(dir, "settings.json");
  if (!existsSync(file)) return false;
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as { terminals?: unknown[]; pairings?: unknown[] };
    return (Array.isArray(s.terminals) && s.terminals.length > 0) || (Array.isArray(s.pairings) && s.pairings.length > 0);
  } catch { return true; }
}

async function serve(opts: ServeOptions, logger: Logger): Promise<void> {
  const started = performance.now();
  const box = openBox(opts, logger);
  const sessionsEnd: Array<() => void> = [];
  await importBootConf(bootConfigPath(opts), box.config, logger, undefined, (hash) => {
    box.credentials.setHash(hash);
    for (const f of sessionsEnd) f();
    logger.info("admin password set from iotbox.conf");
  }, (c) => connectionStore(opts.dataDir).save({ ...c, connectedAt: new Date().toISOString(), via: "iotbox.conf" }));
  // Everything the homepage lists under "problems": iotbox.conf, damaged stored files, a locked box.
  const setupProblems = () => [...(box.config.get().bootImport?.problems ?? []), ...box.config.loadProblems, ...terminals.problems(),
    ...(box.credentials.problem() ? [`settings locked: ${box.credentials.problem()}`] : []), ...(odoo.problem() ? [odoo.problem()!] : [])];

  let servers: ReturnType<typeof startServers> | null = null;
  let initial: { keyPem: string; chainPem: string } | null = null;
  const lifecycle = createCertificateLifecycle({
    store: box.store, config: box.config, logger,
    request: (r) => requestCertificate(r),
    lanIp: () => box.lan()?.ipv4 ?? null,
    onServe: (gen) => { if (servers) void servers.swap(gen); else initial = gen; },
  });
  const tCert = performance.now();
  await lifecycle.serveBest();
  const certMs = Math.round(performance.now() - tCert);

  const facts = createFactsCache(() => readSystemFacts(opts.dataDir));
  const terminals = openTerminals(opts, logger, { identifier: () => identifier,
    databaseOrigin: () => { const u = box.config.get().serverUrl; return u && odoo.connected() ? new URL(u).origin : null; },
    connectionToken: () => odoo.token() });
  const network = startHost(box, logger);
  // Field diagnostics: probes at start, on network changes and periodically. Off with
  // `diagnostics = off` (iotbox.conf) or IOTBOX_DIAGNOSTICS=off, for a network with no way out
  // (a lab, the tests on a developer's machine) where probing public resolvers makes no sense.
  const diagnostics: Diagnostics | null = box.config.get().diag.enabled && process.env.IOTBOX_DIAGNOSTICS !== "off"
    ? createDiagnostics({ logger, targets: () => diagTargets(box.config.get(), box.lan()?.ipv4 ?? null, lifecycle.url()),
        // While the box serves its own access point, wlan0 is not an uplink.
        hostIO: { ignoreInterfaces: () => (network?.state().mode === "ap" ? ["wlan0"] : []) } })
    : null;
  const diagActive = () => ({ active: diagnostics?.current().active ?? [] });
  // The database (src/odoo): registration at /iot/setup when what it knows of the box changes, the certificate's end date after each change.
  const identifier = readIdentifier(procDir(), box.config.get().boxId);
  const odoo = createOdooLink({ dataDir: opts.dataDir, config: box.config, logger, onConnected: () => void lifecycle.check("settings"), pairing: () => pairing.view(),
    certificateEnd: () => (lifecycle.state().serving === "real" ? lifecycle.state().real?.notAfter ?? null : null),
    facts: async () => boxFacts({ identifier, mac: box.lan()?.mac ?? null, lanIp: box.lan()?.ipv4 ?? null, httpsUrl: lifecycle.url(), version: VERSION, name: hostname(), terminals: await terminals.list() }) });
  // Unconnected: a pairing code from the vendor service (the provisioning URL), until a database claims it.
  const pairing = createPairing({ logger, serviceUrl: () => pairingServiceUrl(box.config.get().provisioningUrl), serialNumber: identifier, connected: odoo.connected,
    hasNetwork: () => !!box.lan()?.ipv4 && network?.state().mode !== "ap", onConnection: (c) => odoo.adopt(c, "pairing") });

  const updater = openUpdater(box, logger, () => terminals.paymentInFlight());

  const auth = createAuth({ credentials: box.credentials });
  sessionsEnd.push(() => auth.endAllSessions());
  const statusSources = { lifecycle, config: () => box.config.get(), version: VERSION, lan: box.lan, hostname: () => hostname(), facts: facts.get,
    httpsPort: () => servers?.httpsPort ?? opts.httpsPort, setupProblems, diagnostics: diagActive, adminState: () => box.credentials.state(), odoo: () => odoo.status(), update: () => updater.view() };
  let serverRef: { requestIP?: (r: Request) => { address: string } | null } | null = null;
  const front = createHttpFront({
    web: { ...statusSources, store: box.config, auth, logger, describeDiag, freshFacts: () => facts.fresh(),
      restart: () => { logger.info("exiting for restart"); process.exit(75); },
      clientAddress: (c) => serverRef?.requestIP?.(c.req.raw)?.address ?? "unknown",
      terminals: () => terminals.list(), lockedReason: () => box.credentials.problem(), onVisit: () => diagnostics?.visit(), odooLink: odoo, updater },
    terminals, network, auth, logger, connectionToken: () => odoo.token(),
    ownHosts: createOwnHosts({ lanIp: () => box.lan()?.ipv4 ?? null, hostname: () => hostname(), httpsName: () => { const u = lifecycle.url(); return u ? new URL(u).hostname : null; } }),
  });
  servers = startServers({
    httpPort: opts.httpPort, httpsPort: opts.httpsPort, hostname: opts.listen, logger, tls: initial!,
    fetch: (req, server) => { serverRef = server as unknown as typeof serverRef; return front(req, { server }); },
  });
  logger.info("listening", { http: servers.httpPort, https: servers.httpsPort, version: VERSION, startMs: Math.round(performance.now() - started),
    // where a slow start goes: process start → serve() (runtime + module load), the certificate
    // to serve (a first start makes a key and a temporary certificate)
    loadMs: Math.round(started), certMs });

  const notifier = systemdNotifier(process.env, logger);
  notifier.ready();
  notifier.startWatchdog(() => true);

  // LEDs follow the state.
  const leds = createLedWriter(ledsDir(opts), logger);
  const updateLeds = () => {
    const st = lifecycle.state();
    const cls = ledClassFor({ certCode: buildStatus(statusSources).cert.code, checking: st.checking, everChecked: !!st.lastCheckAt, diagnostics: diagActive().active });
    leds.apply("ACT", LED_TABLE[cls].act);
    leds.apply("PWR", LED_TABLE[cls].pwr);
  };
  lifecycle.onChange(updateLeds);
  lifecycle.onChange(() => void odoo.nudge());
  diagnostics?.onChange(updateLeds);
  // A certificate request that failed before any HTTP status: look for the cause now.
  // Once per failed request (onChange also fires for other changes of the state).
  let failedCheck: string | null = null;
  lifecycle.onChange((s) => {
    if (s.error?.name !== "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION" || s.checking || s.lastCheckAt === failedCheck) return;
    failedCheck = s.lastCheckAt;
    diagnostics?.certificateFailed();
  });
  // Before the box has an address (power-on: DHCP still going on) a run finds only what is still
  // starting, and its probes compete with NetworkManager for the CPU: the first run then waits
  // for the address to appear (the watcher runs the probes on that change) or 20 s.
  diagnostics?.start(box.lan()?.ipv4 ? 0 : 20_000);
  network?.start();
  updateLeds();

  // The address follows DHCP: re-check (new temporary certificate, DNS name moved by the service).
  let lastIp = box.lan()?.ipv4 ?? null;
  const ipWatch = setInterval(() => {
    const ip = box.lan()?.ipv4 ?? null;
    if (ip !== lastIp) { logger.info("lan address changed", { from: lastIp, to: ip }); lastIp = ip; if (ip) void lifecycle.check("ip-change"); }
  }, 5000);

  void lifecycle.check("start");
  // Start-up leaves garbage (module evaluation, the first check): collect it once things settle,
  // so the idle footprint is what the box really holds.
  // Then the executable's pages that start-up (and each certificate check: key, CSR, TLS client)
  // touched are handed back to the kernel (src/platform/memory.ts), 10 s after things settle.
  let settle: ReturnType<typeof setTimeout> | null = null;
  const settleSoon = () => {
    if (settle) clearTimeout(settle);
    settle = setTimeout(() => {
      Bun.gc(true);
      const released = releaseExecutablePages();
      logger.info("start-up pages released", released);
      // The pages a technician's next visit needs come straight back (read here, in the background,
      // not during that visit): the status and the homepage, rendered once through the real stack.
      for (const path of ["/api/status", "/?local"]) void front(new Request(`http://localhost${path}`, { headers: { accept: "text/html" } })).then((r) => r.arrayBuffer()).catch(() => {});
    }, 10_000);
    settle.unref();
  };
  setTimeout(() => Bun.gc(true), 1500).unref();
  settleSoon();
  // Again after a check that changed something (a new certificate: key, CSR and the TLS client ran);
  // not after the quick checks a visit makes (the warm-up above is one), or this would never stop.
  let settledOn = "";
  lifecycle.onChange((s) => {
    const key = `${s.serving}|${s.real?.fingerprint256 ?? ""}|${s.error?.name ?? ""}`;
    if (!s.checking && key !== settledOn) { settledOn = key; settleSoon(); }
  });
  void terminals.start().catch((e) => logger.error("terminals start failed", { error: (e as Error).message }));
  odoo.start();
  if (process.env.IOTBOX_PAIRING !== "off") pairing.start(); // off: a lab or test with no vendor service
  // The daily look runs on the appliance (or with IOTBOX_UPDATES=on), never on a developer's machine or in CI.
  if (process.env.IOTBOX_UPDATES === "on" || (process.env.IOTBOX_MANAGE_HOST === "1" && process.env.IOTBOX_UPDATES !== "off")) updater.start();

  const shutdown = async (sig: string) => {
    logger.info("stopping", { signal: sig });
    notifier.stopping();
    clearInterval(ipWatch);
    diagnostics?.stop();
    network?.stop();
    lifecycle.stop();
    pairing.stop();
    updater.stop();
    await odoo.stop();
    facts.stop();
    await terminals.stop().catch(() => {});
    await servers?.stop(false);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/**
 * Payment terminals: their fleet root(s) come from <data>/terminal-fleet-roots.pem, which a
 * technician may also drop on the boot partition (imported at start).
 */
function openTerminals(opts: ServeOptions, logger: Logger, iot: { identifier: () => string; databaseOrigin: () => string | null; connectionToken: () => string | null }) {
  const rootsFile = join(opts.dataDir, "terminal-fleet-roots.pem");
  const bootRoots = join(opts.bootDir, "terminal-fleet-roots.pem");
  if (existsSync(bootRoots)) { try { copyFileSync(bootRoots, rootsFile); } catch (e) { logger.warn("could not import terminal fleet roots", { error: (e as Error).message }); } }
  let rootsCache: { mtime: number; pems: string[] } = { mtime: -1, pems: [] };
  const fleetRootsPem = () => {
    try {
      const { mtimeMs } = statSync(rootsFile);
      if (mtimeMs !== rootsCache.mtime) rootsCache = { mtime: mtimeMs, pems: splitCerts(readFileSync(rootsFile, "utf8")) };
    } catch { rootsCache = { mtime: -1, pems: [] }; }
    return rootsCache.pems;
  };
  return createTerminals({ dataDir: opts.dataDir, logger, fleetRootsPem, ...iot });
}

/**
 * The host itself (host name, NetworkManager: Wi-Fi, the set-up access point) is managed only
 * on the appliance, whose unit sets IOTBOX_MANAGE_HOST=1: never on a developer's machine or in CI.
 */
function startHost(box: Box, logger: Logger): NetworkSupervisor | null {
  if (process.env.IOTBOX_MANAGE_HOST !== "1") return null;
  const cfg = box.config.get();
  if (cfg.hostname && cfg.hostname !== hostname()) applyHostname(cfg.hostname, logger);
  const network = createNetworkSupervisor({ nm: realNmcli(), logger, boxId: cfg.boxId });
  if (cfg.wifi) {
    const wifi = cfg.wifi;
    void network.ensureWifi(wifi.ssid, wifi.password).then((r) => { if (!r.ok) logger.warn("wi-fi from the configuration not applied", { error: r.error }); });
  }
  return network;
}

/**
 * The root filesystem is read-only: /etc/hostname is a link into the data partition, so the name
 * is written there (atomically) and set for the running system with `hostnamectl --transient`.
 */
function applyHostname(name: string, logger: Logger) {
  try {
    const target = process.env.IOTBOX_HOSTNAME_FILE ?? realpathSync("/etc/hostname");
    writeFileAtomic(target, `${name}\n`, 0o644);
    const r = Bun.spawnSync(["hostnamectl", "--transient", "set-hostname", name], { stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString().trim());
    logger.info("host name set", { hostname: name });
  } catch (e) {
    logger.warn("could not set the host name", { hostname: name, error: (e as Error).message });
  }
}

/** The diagnosis targets from the configuration and what the box knows of its own name. */
function diagTargets(cfg: BoxConfig, ip: string | null, url: string | null) {
  const subject = cfg.subjectCn?.replace(/^\*\./, "") ?? null;
  const zone = subject?.split(".").slice(1).join(".") || new URL(cfg.provisioningUrl).hostname;
  return targetsFromConfig(
    { diag_public_resolvers: cfg.diag.publicResolvers?.join(","), diag_connectivity_url: cfg.diag.connectivityUrl ?? undefined, diag_canary_name: cfg.diag.canaryName ?? undefined },
    { provisioningUrl: cfg.provisioningUrl, zone, ...(url ? { boxName: new URL(url).hostname } : {}), ...(ip ? { expectedIp: ip } : {}) },
  );
}

/** One JSON line to <data>/log/update-cli.log, kept under 1 MiB (one older file beside it). */
function appendCliLog(dir: string, line: string) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, "update-cli.log");
    if (existsSync(file) && statSync(file).size > 1 << 20) renameSync(file, `${file}.1`);
    appendFileSync(file, line + "\n", { mode: 0o600 });
  } catch {}
}

/** Ask the running daemon first (it owns the state); work offline only when none answers. */
async function fromDaemon(opts: ServeOptions, path: string, method = "GET"): Promise<unknown | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${opts.httpPort}${path}`, { method, signal: AbortSignal.timeout(method === "POST" ? 120_000 : 3000) });
    if (!res.ok) return null;
    return await res.json();
  } catch { return null; }
}

function printStatus(s: Status, json: boolean) {
  if (json) { console.log(JSON.stringify(s, null, 2)); return; }
  const c = s.cert;
  console.log(`box ${s.box.id}  ${s.box.hostname}  ip ${s.box.ip ?? "-"}  version ${s.box.version}`);
  console.log(`certificate: ${c.code ?? "OK"}${c.subject ? `  subject ${c.subject}  valid ${c.notBefore} → ${c.notAfter}` : ""}`);
  if (c.code) { console.log(`  ${c.meaning}`); console.log(`  what to do: ${c.remedy}`); if (c.detail) console.log(`  detail: ${c.detail}`); }
  if (c.url) console.log(`url: ${c.url}`);
  if (s.update) { console.log("software update:"); for (const l of formatView(s.update)) console.log(`  ${l}`); }
}

async function offlineStatus(opts: ServeOptions, logger: Logger, check: boolean): Promise<Status> {
  const box = openBox(opts, logger);
  // The same import as `serve`, so a password in iotbox.conf is stored (not dropped with the line).
  await importBootConf(bootConfigPath(opts), box.config, logger, undefined, (hash) => box.credentials.setHash(hash));
  const lifecycle = createCertificateLifecycle({
    store: box.store, config: box.config, logger, request: (r) => requestCertificate(r),
    lanIp: () => box.lan()?.ipv4 ?? null, onServe: () => {},
  });
  if (check) await lifecycle.check("cli"); else await lifecycle.serveBest();
  lifecycle.stop();
  const facts = await readSystemFacts(opts.dataDir).catch(() => ({ cpuTempC: null, memUsedPct: null, memTotalMb: null, diskUsedPct: null, uptimeS: 0, updatedAt: null }));
  const updater = openUpdater(box, logger, () => false);
  return buildStatus({ lifecycle, config: () => box.config.get(), version: VERSION, lan: box.lan, hostname: () => hostname(), facts: () => facts, httpsPort: () => opts.httpsPort, setupProblems: () => box.config.get().bootImport?.problems ?? [],
    update: () => updater.view() });
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  let parsed;
  try { parsed = parseOptions(args, process.env); } catch (e) { console.error(`iotbox: ${(e as Error).message}\n${USAGE}`); return 2; }
  const { opts, flags } = parsed;
  const json = flags.has("--json");
  const envLevel = process.env.IOTBOX_LOG_LEVEL;
  switch (cmd) {
    case "serve": {
      const logger = createLogger({ level: isLevel(envLevel) ? envLevel : "info" });
      await serve(opts, logger);
      return -1; // keeps running
    }
    case "status":
    case "cert": {
      const logger = createLogger({ level: "warn", write: (l) => { if (!json) process.stderr.write(l + "\n"); } });
      let status = cmd === "cert"
        ? ((await fromDaemon(opts, "/api/cert/check", "POST")) ? (await fromDaemon(opts, "/api/status")) as Status | null : null)
        : (await fromDaemon(opts, "/api/status")) as Status | null;
      if (!status) status = await offlineStatus(opts, logger, cmd === "cert");
      printStatus(status, json);
      return cmd === "cert" && status.cert.code ? 1 : 0;
    }
    case "diagnose": {
      // The options of every command; the box's configuration (config.json, and iotbox.conf as the
      // next start will import it), read without changing either.
      const { config: cfg } = readConfigForDiagnosis(opts);
      const ip = lanAddress(opts.lanIp)?.ipv4 ?? null;
      const name = boxNameFor(cfg, ip, createCertificateStore(dataFiles(opts).certDir).readCurrent().kind === "ok");
      return await diagnoseCommand(commandArgs(args), diagTargets(cfg, ip, name ? `https://${name}` : null));
    }
    case "update": {
      // rauc's own words are for the log, not the technician's screen: <data>/log/update-cli.log (stderr too with --verbose).
      const logFile = dataFiles(opts).logDir;
      const logger = createLogger({ level: isLevel(envLevel) ? envLevel : "info", write: (l) => { if (flags.has("--verbose")) process.stderr.write(l + "\n"); appendCliLog(logFile, l); } });
      const box = openBox(opts, logger);
      // What the daemon knows (a payment in flight, the next look); null when none answers.
      const daemon = async () => ((await fromDaemon(opts, "/api/status")) as { update?: UpdateView | null } | null)?.update ?? null;
      let live = await daemon();
      // An install takes a minute or more: what the daemon says about payments is asked again
      // every 2 s, so that the reboot at its end sees a payment that began meanwhile.
      const refresh = setInterval(() => { void daemon().then((v) => { if (v) live = v; }); }, 2000);
      refresh.unref?.();
      const updater = openUpdater(box, logger, () => live?.paymentInFlight ?? false);
      try {
        return await updateCommand(commandArgs(args), flags, updater, { out: (l) => console.log(l), err: (l) => console.error(l), daemonView: async () => live });
      } finally { clearInterval(refresh); }
    }
    case "version": case "--version": console.log(VERSION); return 0;
    case undefined: case "help": case "--help": console.log(USAGE); return cmd ? 0 : 2;
    default: console.error(`iotbox: unknown command "${cmd}"\n${USAGE}`); return 2;
  }
}

if (import.meta.main) {
  // No top-level await: the compiled binary is built with --bytecode (CommonJS), which has none.
  void main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exit(code); });
}
