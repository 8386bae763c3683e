/**
 * The log bundle (Settings → Download logs, and the connected database's signed download): the
 * status, the configuration with its secrets redacted, the recent log lines, and one last pass
 * that removes every known secret value whatever a line holds.
 */
import { Hono } from "hono";
import { verifyPayloadSignature } from "../odoo/signature";
import { problem } from "./problem";
import { buildStatus } from "./status";
import type { WebDeps } from "./app";

type BundleSources = Pick<WebDeps, "store" | "version" | "logger" | "odooLink"> & Parameters<typeof buildStatus>[0];

export function logBundle(d: BundleSources): { text: string; filename: string } {
  const cfg = d.store.get();
  const safeConfig = { ...cfg, enterpriseCode: cfg.enterpriseCode ? "[redacted]" : null, wifi: cfg.wifi ? { ...cfg.wifi, password: "[redacted]" } : null };
  const text = [
    `# iotbox log bundle: box ${cfg.boxId}, version ${d.version}, ${new Date().toISOString()}`,
    "# status", JSON.stringify(buildStatus(d), null, 2),
    "# configuration (secrets redacted)", JSON.stringify(safeConfig, null, 2),
    "# recent log lines", ...d.logger.recent(),
  ].join("\n") + "\n";
  const scrubbed = [cfg.enterpriseCode, cfg.wifi?.password, ...(d.odooLink?.secrets() ?? [])].filter((x): x is string => !!x && x.length >= 4)
    .reduce((t, s) => t.split(s).join("[redacted]"), text);
  return { text: scrubbed, filename: `iotbox-logs-${cfg.boxId}.txt` };
}

/**
 * `GET /iot_drivers/download_logs` (and `/hw_drivers/…`), where the database's IoT app downloads a
 * box's logs. The reference serves its log to anyone; ours only answers a request the connected
 * database signed with the box's connection token (src/odoo/signature.ts), within ±5 s.
 */
export function createDatabaseLogsApp(d: BundleSources & { connectionToken: () => string | null; now?: () => number }): Hono {
  const app = new Hono();
  app.get("/download_logs", (c) => {
    const token = d.connectionToken();
    const signature = c.req.header("authorization")?.trim() ?? "";
    const query = Object.fromEntries(new URL(c.req.url).searchParams);
    if (!token || !verifyPayloadSignature(c.req.url, query, signature, token, (d.now ?? Date.now)() / 1000)) {
      return problem(403, "signature_required", "The logs are given to the connected database only: the request must carry its signature (Authorization).", c.req.header("accept"));
    }
    const b = logBundle(d);
    d.logger.info("log bundle sent to the database");
    return c.body(b.text, 200, { "content-type": "text/plain; charset=utf-8", "content-disposition": `attachment; filename="${b.filename}"`, "cache-control": "no-store" });
  });
  return app;
}
