/**
 * The pairing code, the box's side (the reference's connection_manager.py): while the box has an
 * address and no database, it asks the vendor service (our iotbox-provisioner, at the configured
 * provisioning URL) for a code, shows it on the homepage and polls politely (14 + 1.01ⁿ s: 15 s
 * rising to 40 s) until a database claims it; the answer is the connection, handed to the link.
 * An expired code stops the polling (a restart asks for a new one), as in the reference.
 */
import type { Logger } from "../log/index";
import { callJsonRpc, type FetchLike } from "./client";
import type { PairingView } from "./index";
import { parseConnectionToken, type Connection } from "./token";

/** Pure: where to ask for a code. Our vendor service is the provisioning URL; with the reference's
 *  default service (www.odoo.com) it is the reference's pairing proxy. */
export function pairingServiceUrl(provisioningUrl: string): string {
  return provisioningUrl.replace(/\/$/, "") === "https://www.odoo.com" ? "https://iot-proxy.odoo.com" : provisioningUrl.replace(/\/$/, "");
}

/** Pure: the wait before the n-th poll (n from 0), in seconds. */
export const pollDelayS = (n: number) => 14 + 1.01 ** n;

export interface PairingDeps {
  logger: Logger;
  /** The vendor service's base URL (config `provisioningUrl`). */
  serviceUrl: () => string;
  serialNumber: string;
  connected: () => boolean;
  hasNetwork: () => boolean;
  onConnection: (c: Connection) => void;
  fetch?: FetchLike;
  /** Tests shorten the waits. */
  delayMs?: (n: number) => number;
  idleCheckMs?: number;
}

export function createPairing(d: PairingDeps) {
  const log = d.logger.child({ area: "pairing" });
  let code: string | false = false, uuid: string | false = false;
  let expired = false;
  let error: PairingView["error"] = null;
  let polls = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const call = () => callJsonRpc(`${d.serviceUrl()}/odoo-enterprise/iot/connect-box`, { pairing_code: code, pairing_uuid: uuid, serial_number: d.serialNumber }, { fetch: d.fetch, timeoutMs: 5000 });

  async function once(): Promise<void> {
    const o = await call();
    if (!o.ok) {
      if (o.code === "ERR_IOT_ODOO_SETUP_REFUSED" && o.detail === "expired") {
        expired = true; code = false; uuid = false;
        error = { code: "ERR_IOT_ODOO_PAIRING_EXPIRED", detail: "" };
        log.warn("pairing code expired");
        return;
      }
      error = { code: "ERR_IOT_ODOO_PAIRING_UNREACHABLE", detail: `${o.code.replace("ERR_IOT_ODOO_SETUP_", "").toLowerCase()}: ${o.detail}` };
      return;
    }
    error = null;
    const r = (o.result ?? {}) as Record<string, unknown>;
    if (!code) {
      if (typeof r.pairing_code === "string" && typeof r.pairing_uuid === "string" && /^[A-Z0-9-]{4,16}$/.test(r.pairing_code)) {
        code = r.pairing_code; uuid = r.pairing_uuid;
        log.info("pairing code received", { code });
      }
      return;
    }
    if ([r.url, r.token, r.db_uuid, r.enterprise_code].every((x) => typeof x === "string")) {
      let c: Connection;
      try { c = parseConnectionToken(`${r.url}|${r.token}|${r.db_uuid}|${r.enterprise_code}`); } catch (e) {
        error = { code: "ERR_IOT_ODOO_TOKEN_INVALID", detail: (e as Error).message };
        log.warn("pairing answer unusable", { err: (e as Error).message });
        return;
      }
      log.redact(c.token);
      code = false; uuid = false;
      log.info("pairing claimed by a database", { server: c.serverUrl });
      d.onConnection(c);
    }
  }

  async function loop() {
    timer = null;
    if (stopped) return;
    let wait = d.idleCheckMs ?? 5000;
    if (!d.connected() && !expired && d.hasNetwork()) {
      try { await once(); } catch (e) { log.error("pairing poll failed", { err: (e as Error).message }); }
      if (!d.connected() && !expired) wait = (d.delayMs ?? ((n) => pollDelayS(n) * 1000))(polls++);
    } else if (d.connected()) { code = false; uuid = false; error = null; }
    if (!stopped) { timer = setTimeout(() => void loop(), wait); timer.unref?.(); }
  }

  return {
    view: (): PairingView => ({ code: d.connected() ? null : code || null, error: d.connected() ? null : error }),
    start() { if (!timer) { timer = setTimeout(() => void loop(), 0); timer.unref?.(); } },
    stop() { stopped = true; if (timer) clearTimeout(timer); },
  };
}
