// iotbox-provisioner: the certificate service for iotbox boxes. Composition root: builds the
// store, the DNS zone client, the ACME issuer and the HTTP app, and wires them.
//   iotbox-provisioner serve --port P --db sqlite:PATH|postgres://… --zone Z --acme-directory URL
//     --dnsimple-base-url URL --dnsimple-token T --dnsimple-account ID [--tls-cert F --tls-key F]
//   iotbox-provisioner database add|list|remove …
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createLogger, isLevel } from "../../src/log";
import type { Server } from "bun";
import { createAcmeIssuer } from "./acme";
import { clientAddress } from "./attempts";
import { intOption, parseOptions, usage, UsageError, type OptionSpec } from "./cli/args";
import { createDnsimpleZone } from "./dns";
import { hashEnterpriseCode, KINDS, SUBSCRIPTIONS, type DatabaseKind, type SubscriptionState } from "./eligibility";
import { createApp } from "./http/app";
import { ZONE_RE } from "./naming";
import { createCertificateService } from "./service";
import { createJanitor } from "./service/janitor";
import { Store } from "./store";
import { openPostgres } from "./store/postgres";
import { openSqlite } from "./store/sqlite";
import { createPairingApp } from "./pairing/app";
import { createPairingService } from "./pairing/service";
import { pairingStore } from "./pairing/store";
import { PAIRING_HELP, pairingCommand } from "./pairing/cli";
import { createUpdatesApp } from "./updates/app";
import { publishUpdate } from "./updates/publish";

declare const IOTBOX_VERSION: string | undefined;
const VERSION = typeof IOTBOX_VERSION === "string" ? IOTBOX_VERSION : "dev";

const DB: OptionSpec = { flag: "db", env: "IOTBOX_PROVISIONER_DB", default: "sqlite:/var/lib/iotbox-provisioner/provisioner.db", help: "sqlite:PATH or postgres://…" };

const SERVE: OptionSpec[] = [
  { flag: "port", env: "IOTBOX_PROVISIONER_PORT", default: "8443", help: "TCP port" },
  { flag: "host", env: "IOTBOX_PROVISIONER_HOST", default: "0.0.0.0", help: "address to listen on" },
  DB,
  { flag: "zone", env: "IOTBOX_PROVISIONER_ZONE", help: "DNS zone the box names live under" },
  { flag: "acme-directory", env: "IOTBOX_PROVISIONER_ACME_DIRECTORY", help: "ACME directory URL" },
  { flag: "dnsimple-base-url", env: "IOTBOX_PROVISIONER_DNSIMPLE_BASE_URL", default: "https://api.dnsimple.com", help: "DNSimple API base URL" },
  { flag: "dnsimple-token", env: "IOTBOX_PROVISIONER_DNSIMPLE_TOKEN", help: "DNSimple API token" },
  { flag: "dnsimple-account", env: "IOTBOX_PROVISIONER_DNSIMPLE_ACCOUNT", help: "DNSimple account id" },
  { flag: "tls-cert", env: "IOTBOX_PROVISIONER_TLS_CERT", help: "PEM certificate for HTTPS (omit behind a TLS proxy)" },
  { flag: "tls-key", env: "IOTBOX_PROVISIONER_TLS_KEY", help: "PEM key for HTTPS" },
  { flag: "weekly-new-certs", env: "IOTBOX_PROVISIONER_WEEKLY_NEW_CERTS", default: "50", help: "new names per 7 days (CA limit)" },
  { flag: "weekly-duplicates", env: "IOTBOX_PROVISIONER_WEEKLY_DUPLICATES", default: "5", help: "certificates per box name per 7 days" },
  { flag: "renew-days", env: "IOTBOX_PROVISIONER_RENEW_DAYS", default: "30", help: "renew when fewer days (or a third of the life) are left" },
  { flag: "stale-days", env: "IOTBOX_PROVISIONER_STALE_DAYS", default: "90", help: "remove a box's A record after this many days unheard" },
  { flag: "janitor-interval-s", env: "IOTBOX_PROVISIONER_JANITOR_INTERVAL_S", default: "60", help: "how often leftover TXT and stale A records are swept" },
  { flag: "txt-grace-s", env: "IOTBOX_PROVISIONER_TXT_GRACE_S", default: "300", help: "a noted TXT record older than this is no longer a live order's" },
  { flag: "refused-attempts", env: "IOTBOX_PROVISIONER_REFUSED_ATTEMPTS", default: "10", help: "refused attempts answered per source address and per database per window; then 429" },
  { flag: "refused-window-s", env: "IOTBOX_PROVISIONER_REFUSED_WINDOW_S", default: "60", help: "the window of --refused-attempts" },
  { flag: "trusted-proxies", env: "IOTBOX_PROVISIONER_TRUSTED_PROXIES", default: "", help: "comma-separated proxy addresses whose X-Forwarded-For is believed" },
  { flag: "log-level", env: "IOTBOX_PROVISIONER_LOG_LEVEL", default: "info", help: "debug|info|warn|error" },
  { flag: "updates-dir", env: "IOTBOX_PROVISIONER_UPDATES_DIR", default: "", help: "folder of published system updates (<channel>.json, files/); empty: none served" },
];

const PUBLISH: OptionSpec[] = [
  { flag: "channel", env: "IOTBOX_UPDATE_CHANNEL", default: "stable", help: "channel to publish to" },
  { flag: "updates-dir", env: "IOTBOX_PROVISIONER_UPDATES_DIR", help: "the folder `serve --updates-dir` serves" },
  { flag: "keyring", env: "IOTBOX_UPDATE_KEYRING", help: "the vendor keyring the boxes hold (the bundle is checked against it)" },
];

const DB_ADD: OptionSpec[] = [
  DB,
  { flag: "uuid", env: "IOTBOX_DB_UUID", help: "database uuid" },
  { flag: "enterprise-code", env: "IOTBOX_ENTERPRISE_CODE", help: "enterprise code (stored as sha256)" },
  { flag: "kind", env: "IOTBOX_DB_KIND", default: "production", help: KINDS.join("|") },
  { flag: "subscription", env: "IOTBOX_DB_SUBSCRIPTION", default: "in_progress", help: SUBSCRIPTIONS.join("|") },
  { flag: "iot-box-lines", env: "IOTBOX_DB_IOT_BOX_LINES", default: "1", help: "IoT box lines on the subscription" },
];

function openStore(url: string): Store {
  if (url.startsWith("sqlite:")) return new Store(openSqlite(url.slice("sqlite:".length)));
  if (/^postgres(ql)?:\/\//.test(url)) return new Store(openPostgres(url));
  throw new UsageError("--db must be sqlite:PATH or postgres://…");
}

const need = (o: Record<string, string | undefined>, flag: string) => {
  const v = o[flag];
  if (!v) throw new UsageError(`--${flag} is required`);
  return v;
};

async function serve(argv: string[]) {
  const o = parseOptions(argv, process.env, SERVE);
  const logger = createLogger({ level: isLevel(o["log-level"]) ? o["log-level"] : "info" });
  const zone = need(o, "zone").toLowerCase().replace(/\.$/, "");
  if (!ZONE_RE.test(zone)) throw new UsageError("--zone must be a DNS name such as iot.example.com");
  const token = need(o, "dnsimple-token");
  logger.redact(token);
  const accountId = intOption(o, "dnsimple-account", 1, Number.MAX_SAFE_INTEGER);
  const directoryUrl = need(o, "acme-directory");
  const port = intOption(o, "port", 0, 65535);
  const dbUrl = need(o, "db");
  logger.redact(dbUrl.match(/:\/\/[^:@/]*:([^@/]+)@/)?.[1]);
  const store = openStore(dbUrl);
  await store.migrate();
  const dns = createDnsimpleZone({ baseUrl: need(o, "dnsimple-base-url"), token, accountId, zone });
  const issuer = createAcmeIssuer({ directoryUrl, zone, dns, store, logger });
  const refused = intOption(o, "refused-attempts", 1, 1_000_000);
  const attemptLimits = { perSource: refused, perDatabase: refused, windowMs: intOption(o, "refused-window-s", 1, 86_400) * 1000 };
  const service = createCertificateService({ store, dns, issuer, zone, logger, instanceId: randomUUID(),
    limits: { newPerWeek: intOption(o, "weekly-new-certs", 1, 1_000_000), duplicatesPerWeek: intOption(o, "weekly-duplicates", 1, 1000) },
    minRemainingMs: intOption(o, "renew-days", 1, 365) * 86_400_000, hostRecordTtl: 300, attemptLimits });
  const janitor = createJanitor({ store, dns, logger, txtGraceMs: intOption(o, "txt-grace-s", 0, 86_400) * 1000, staleHostMs: intOption(o, "stale-days", 1, 3650) * 86_400_000,
    refusalWindowMs: attemptLimits.windowMs });
  const trusted = new Set((o["trusted-proxies"] ?? "").split(",").map((x) => x.trim()).filter(Boolean));
  const sourceOf = (req: Request, server: unknown) =>
    clientAddress((server as Server<unknown> | undefined)?.requestIP(req)?.address ?? "unknown", req.headers.get("x-forwarded-for"), trusted);
  const pairings = pairingStore(store.driver);
  await pairings.migrate();
  const pairing = createPairingApp({ service: createPairingService({ store: pairings, databases: store, logger }), logger });
  const updates = o["updates-dir"] ? createUpdatesApp({ dir: o["updates-dir"] }) : undefined;
  const app = createApp({ service, logger, sourceOf, pairing, updates, health: async () => { await store.ping(); return { version: VERSION }; } });
  const certFile = o["tls-cert"], keyFile = o["tls-key"];
  if (!!certFile !== !!keyFile) throw new UsageError("--tls-cert and --tls-key go together");
  const server = Bun.serve({
    hostname: o.host, port, fetch: app.fetch, maxRequestBodySize: 1024 * 1024, idleTimeout: 120,
    ...(certFile && keyFile ? { tls: { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") } } : {}),
  });
  logger.info("iotbox-provisioner listening", { version: VERSION, host: o.host, port: server.port, tls: !!certFile, zone, db: store.driver.kind });
  // Say at once when the DNSimple token or account is wrong (the service still starts: the
  // boxes get 503 + Retry-After until an operator fixes it).
  void dns.whoami().then((id) => {
    if (id !== accountId) logger.warn("DNSimple token belongs to another account", { token_account: id, configured_account: accountId });
    else logger.info("DNSimple account checked", { account: id });
  }, (e) => logger.error("DNSimple check failed", { error: String((e as Error).message) }));
  void janitor.sweep().catch(() => {});
  const timer = setInterval(() => void janitor.sweep().catch(() => {}), intOption(o, "janitor-interval-s", 1, 86_400) * 1000);
  const stop = async (sig: string) => {
    logger.info("stopping", { signal: sig });
    clearInterval(timer);
    await server.stop();
    await store.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

async function database(argv: string[]) {
  const [sub, ...rest] = argv;
  if (sub === "add") {
    const o = parseOptions(rest, process.env, DB_ADD);
    const kind = need(o, "kind"), subscription = need(o, "subscription");
    if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(", ")}`);
    if (!(SUBSCRIPTIONS as readonly string[]).includes(subscription)) throw new UsageError(`--subscription must be one of ${SUBSCRIPTIONS.join(", ")}`);
    const uuid = need(o, "uuid");
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(uuid)) throw new UsageError("--uuid must be 1 to 128 letters, digits, '.', '_' or '-'");
    const store = openStore(need(o, "db"));
    await store.migrate();
    await store.putDatabase({ uuid, enterpriseCodeHash: hashEnterpriseCode(need(o, "enterprise-code")), kind: kind as DatabaseKind,
      subscription: subscription as SubscriptionState, iotBoxLines: intOption(o, "iot-box-lines", 0, 1_000_000) }, Date.now());
    await store.close();
    console.log(`database ${uuid}: ${kind}, subscription ${subscription}`);
    return;
  }
  if (sub === "list" || sub === "remove") {
    const specs = sub === "list" ? [DB] : [DB, { flag: "uuid", env: "IOTBOX_DB_UUID", help: "database uuid" }];
    const asJson = rest.includes("--json");
    const o = parseOptions(rest.filter((a) => a !== "--json"), process.env, specs);
    const store = openStore(need(o, "db"));
    await store.migrate();
    if (sub === "list") {
      const rows = await store.listDatabases();
      if (asJson) console.log(JSON.stringify(rows.map(({ enterpriseCodeHash: _, ...r }) => r)));
      else for (const r of rows) console.log(`${r.uuid}\t${r.kind}\t${r.subscription}\t${r.iotBoxLines}`);
    } else {
      const uuid = need(o, "uuid");
      const had = await store.removeDatabase(uuid);
      console.log(had ? `database ${uuid} removed` : `database ${uuid} was not there`);
      if (!had) process.exitCode = 1;
    }
    await store.close();
    return;
  }
  throw new UsageError("database add|list|remove");
}

const HELP = `usage:
  iotbox-provisioner serve [options]
${usage(SERVE)}
  iotbox-provisioner database add [options]
${usage(DB_ADD)}
  iotbox-provisioner database list [--db URL]
  iotbox-provisioner database remove --uuid U [--db URL]
${PAIRING_HELP}
  iotbox-provisioner publish-update FILE [options]   check a signed bundle with rauc info, copy it and write <channel>.json
${usage(PUBLISH)}
  iotbox-provisioner version`;

async function publish(argv: string[]) {
  const [file, ...rest] = argv;
  if (!file || file.startsWith("--")) throw new UsageError("publish-update needs the bundle file");
  const o = parseOptions(rest, process.env, PUBLISH);
  const m = await publishUpdate({ file, channel: need(o, "channel"), dir: need(o, "updates-dir"), keyring: need(o, "keyring"), logger: createLogger({ level: "warn" }) });
  console.log(`published ${m.version} (build ${m.build}) to ${m.channel}: ${m.url}, ${m.size} bytes, sha256 ${m.sha256}`);
}

async function main(argv: string[]) {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === "serve") return await serve(rest);
    if (cmd === "database") return await database(rest);
    if (cmd === "pairing") return await pairingCommand(rest, openStore);
    if (cmd === "publish-update") return await publish(rest);
    if (cmd === "version" || cmd === "--version") return void console.log(VERSION);
    if (cmd === "help" || cmd === "--help" || cmd === "-h") return void console.log(HELP);
    throw new UsageError(cmd ? `unknown command ${cmd}` : "no command");
  } catch (e) {
    if (e instanceof UsageError) { console.error(`iotbox-provisioner: ${e.message}\n\n${HELP}`); process.exit(2); }
    console.error(`iotbox-provisioner: ${(e as Error).message}`);
    process.exit(1);
  }
}

await main(process.argv.slice(2));
