/** A box's terminals area on a temp data dir, wired to simulators, driven through its APIs. */
import { createLogger, type Logger } from "../../src/log/index";
import { createTerminals, type Terminals, type TerminalsOptions } from "../../src/terminals/index";
import type { Timeouts } from "../../src/terminals/payments";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { KEY, testFleet } from "./helpers";

export const FAST: Partial<Timeouts> = { paymentMs: 400, reversalMs: 400, statusMs: 400, pollIntervalMs: 20, maxPollIntervalMs: 100 };
export const ORIGIN = "https://pos.example.com";

export interface Box {
  terminals: Terminals;
  logs: string[];
  logger: Logger;
  token: string;
  pos(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  admin(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  pay(body: Record<string, unknown>, key?: string): Promise<any>;
  /** Long-polls until the payment is final. */
  settle(id: string, ms?: number): Promise<any>;
}

export async function createBox(dataDir: string, opts: { timeouts?: Partial<Timeouts>; token?: string; fleetRootsPem?: () => string[]; terminals?: Partial<TerminalsOptions> } = {}): Promise<Box> {
  const logs: string[] = [];
  const logger = createLogger({ write: (l) => logs.push(l), level: "debug" });
  const terminals = createTerminals({ dataDir, logger, fleetRootsPem: opts.fleetRootsPem ?? (() => [testFleet().root.certPem]), timeouts: { ...FAST, ...opts.timeouts }, ...opts.terminals });
  const call = (app: any, base: string) => (path: string, init: RequestInit & { key?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    if (init.key) headers.set("idempotency-key", init.key);
    if (base === "pos" && box.token && !headers.has("authorization")) headers.set("authorization", `Bearer ${box.token}`);
    return app.request(`http://box${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  };
  const box: Box = {
    terminals, logs, logger, token: opts.token ?? "",
    pos: call(terminals.posApi, "pos"),
    admin: call(terminals.adminApi, "admin"),
    async pay(body, key = crypto.randomUUID()) {
      const r = await box.pos("/payments", { method: "POST", json: body, key });
      return { status: r.status, body: await r.json(), headers: r.headers };
    },
    async settle(id, ms = 20_000) {
      const end = Date.now() + ms;
      let p = await (await box.pos(`/payments/${id}`)).json();
      while (!p.final) {
        if (Date.now() > end) throw new Error(`payment ${id} still ${p.status}`);
        p = await (await box.pos(`/payments/${id}?version=${p.version}&wait=5`)).json();
      }
      return p;
    },
  };
  await terminals.start();
  if (!box.token) {
    const r = await box.admin("/pos/pairings", { method: "POST", json: { name: "till 1" } });
    box.token = (await r.json()).token;
    await box.admin("/pos/origins", { method: "PUT", json: { origins: [ORIGIN] } });
  }
  return box;
}

export async function addTerminal(box: Box, sim: TerminalSimulator, poiid: string, overrides: Record<string, unknown> = {}) {
  const r = await box.admin("/terminals", { method: "POST", json: { address: sim.address, poiid, keyIdentifier: KEY.keyIdentifier, keyVersion: KEY.keyVersion, passphrase: KEY.passphrase, ...overrides } });
  if (r.status !== 201) throw new Error(`add terminal: ${r.status} ${await r.text()}`);
}
