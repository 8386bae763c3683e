/**
 * Terminal settings for the homepage (mounted at /api/terminals behind the admin session and
 * CSRF check): add, test (Diagnosis) and remove terminals, set the POS origins, pair a POS.
 * Secrets go in and never come back out: no passphrase in any answer, a POS token only once.
 */
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../log/index";
import { TerminalError, badRequest } from "./errors";
import { BODY_LIMIT, onError, readJson, tooLarge } from "./http";
import { diagnosisRequest, newServiceId, readResponse } from "./messages";
import { deriveNexoKeys } from "./nexo-crypto";
import { sha256Hex } from "./pos-api";
import type { Registry, TerminalState } from "./registry";
import type { Settings, TerminalConfig, Tx } from "./store";
import { paymentView } from "./http";
import { createTerminalClient, parseAddress, TransportError } from "./terminal-client";
import { parseOrigins, parseTerminalBody } from "./validate";

export interface AdminApiDeps {
  settings(): Settings;
  update(f: (s: Settings) => void): void;
  registry: Registry;
  logger: Logger;
  fleetRootsPem: () => string[];
  statusTimeoutMs: number;
  now: () => Date;
  list(): Promise<Array<{ id: string; address: string; poiid: string; state: TerminalState; lastError?: string }>>;
  /** Releases a terminal whose payment or refund result never came (see PaymentEngine.releaseUnresolved). */
  releaseUnresolved(terminalId: string): Tx;
}

export interface DiagnosisResult { ok: boolean; code?: string; message: string; globalStatus?: string; communicationOk?: boolean }

/** Diagnosis over a fresh connection: proves address, certificate, POIID and key all at once. */
export async function diagnose(t: TerminalConfig, roots: string[], saleId: string, timeoutMs: number): Promise<DiagnosisResult> {
  const keys = await deriveNexoKeys(t.passphrase, t.keyIdentifier, t.keyVersion);
  const client = createTerminalClient({ address: t.address, poiid: t.poiid, keys }, roots);
  try {
    const reply = await client.exchange(diagnosisRequest({ saleId, poiid: t.poiid }, newServiceId()), timeoutMs);
    const d = reply?.SaleToPOIResponse?.DiagnosisResponse;
    const r = readResponse(d?.Response);
    const globalStatus = typeof d?.POIStatus?.GlobalStatus === "string" ? d.POIStatus.GlobalStatus : undefined;
    const communicationOk = typeof d?.POIStatus?.CommunicationOKFlag === "boolean" ? d.POIStatus.CommunicationOKFlag : undefined;
    if (r?.result !== "Success") return { ok: false, code: "diagnosis_failed", message: `The terminal answered ${r?.result ?? "something unexpected"}${r?.errorCondition ? ` (${r.errorCondition})` : ""}.`, globalStatus, communicationOk };
    return { ok: globalStatus === "OK", message: `The terminal answers; its status is ${globalStatus ?? "unknown"}${communicationOk === false ? " and it cannot reach Adyen" : ""}.`, globalStatus, communicationOk };
  } catch (e) {
    const err = e instanceof TerminalError ? e : new TransportError("internal", String(e), "unknown");
    return { ok: false, code: err.code, message: err.message };
  } finally { client.close(); }
}

export function createAdminApi(deps: AdminApiDeps) {
  const app = new Hono();
  const log = deps.logger;
  app.onError(onError(log));
  app.notFound((c) => c.json({ error: { code: "not_found", message: "No such endpoint." } }, 404));
  app.use("*", bodyLimit({ maxSize: BODY_LIMIT, onError: tooLarge }));

  app.get("/", async (c) => {
    const s = deps.settings();
    return c.json({
      terminals: await deps.list(),
      posOrigins: s.posOrigins,
      pairings: s.pairings.map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAt })),
    });
  });

  app.post("/terminals", async (c) => {
    const b = parseTerminalBody(await readJson(c));
    parseAddress(b.address);
    await deriveNexoKeys(b.passphrase, b.keyIdentifier, b.keyVersion); // same checks the driver will make
    if (deps.registry.get(b.poiid)) throw new TerminalError("terminal_exists", `Terminal ${b.poiid} is already configured; remove it first to change it.`, 409);
    log.redact(b.passphrase);
    const t: TerminalConfig = { id: b.poiid, ...b, addedAt: deps.now().toISOString() };
    deps.update((s) => { s.terminals.push(t); });
    deps.registry.add(t);
    log.info("terminal added", { terminal: t.poiid, address: t.address, keyIdentifier: t.keyIdentifier, keyVersion: t.keyVersion });
    return c.json({ id: t.id, address: t.address, poiid: t.poiid, keyIdentifier: t.keyIdentifier, keyVersion: t.keyVersion }, 201);
  });

  app.post("/terminals/:id/test", async (c) => {
    const h = deps.registry.get(c.req.param("id"));
    if (!h) throw new TerminalError("terminal_unknown", "No such terminal.", 404);
    if (h.holder) throw new TerminalError("terminal_busy", "The terminal is in a transaction; test it when it is idle.", 409);
    const result = await diagnose(h.config, deps.fleetRootsPem(), deps.settings().saleId, deps.statusTimeoutMs);
    h.reachable = result.ok || !["unreachable", "timeout", "connection_lost"].includes(result.code ?? "");
    h.lastError = result.ok ? undefined : result.message;
    log.info("terminal tested", { terminal: h.config.poiid, ok: result.ok, code: result.code, globalStatus: result.globalStatus });
    return c.json(result);
  });

  // The way out of a payment the terminal never resolves (broken or replaced terminal): the
  // payment becomes "unresolved", to be checked in the Adyen Customer Area.
  app.post("/terminals/:id/release", (c) => {
    const tx = deps.releaseUnresolved(c.req.param("id"));
    return c.json(paymentView(tx));
  });

  app.delete("/terminals/:id", (c) => {
    const id = c.req.param("id");
    const h = deps.registry.get(id);
    if (!h) throw new TerminalError("terminal_unknown", "No such terminal.", 404);
    if (h.holder) throw new TerminalError("terminal_busy", "The terminal is in a transaction (or one awaits its status); remove it once that is settled.", 409);
    deps.update((s) => { s.terminals = s.terminals.filter((t) => t.id !== id); });
    deps.registry.remove(id);
    log.info("terminal removed", { terminal: id });
    return c.body(null, 204);
  });

  app.put("/pos/origins", async (c) => {
    const origins = parseOrigins(await readJson(c));
    deps.update((s) => { s.posOrigins = [...new Set(origins)]; });
    log.info("POS origins set", { origins });
    return c.json({ posOrigins: deps.settings().posOrigins });
  });

  app.post("/pos/pairings", async (c) => {
    const body = await readJson(c, true) as { name?: unknown } | undefined;
    const name = body?.name ?? "POS";
    if (typeof name !== "string" || name.length > 60 || !/^[\x20-\x7e]+$/.test(name)) throw badRequest("name_invalid", "name must be 1-60 printable ASCII characters.", { field: "name" });
    const token = randomBytes(32).toString("base64url");
    log.redact(token);
    const pairing = { id: `pos_${randomBytes(6).toString("hex")}`, name, tokenHash: sha256Hex(token), createdAt: deps.now().toISOString() };
    deps.update((s) => { s.pairings.push(pairing); });
    log.info("POS paired", { pairing: pairing.id, name });
    c.header("Cache-Control", "no-store");
    return c.json({ id: pairing.id, name, createdAt: pairing.createdAt, token, note: "Shown once: enter it in the POS now." }, 201);
  });

  app.delete("/pos/pairings/:id", (c) => {
    const id = c.req.param("id");
    if (!deps.settings().pairings.some((p) => p.id === id)) throw new TerminalError("pairing_unknown", "No such pairing.", 404);
    deps.update((s) => { s.pairings = s.pairings.filter((p) => p.id !== id); });
    log.info("POS unpaired", { pairing: id });
    return c.body(null, 204);
  });

  return app;
}
