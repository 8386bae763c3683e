/**
 * The configured terminals at run time: their derived keys and HTTPS clients (made on first
 * use, dropped when the terminal is removed) and what the homepage shows about each.
 */
import { deriveNexoKeys } from "./nexo-crypto";
import type { TerminalConfig } from "./store";
import { createTerminalClient, type TerminalClient } from "./terminal-client";

export type TerminalState = "idle" | "busy" | "unreachable" | "error";

export interface TerminalHandle {
  config: TerminalConfig;
  client(): Promise<TerminalClient>;
  /** The transaction currently holding the terminal (one at a time), if any. */
  holder: string | null;
  lastError?: string;
  reachable: boolean;
  close(): void;
}

export interface Registry {
  get(id: string): TerminalHandle | undefined;
  all(): TerminalHandle[];
  add(c: TerminalConfig): TerminalHandle;
  remove(id: string): void;
  state(h: TerminalHandle): TerminalState;
  closeAll(): void;
}

export function createRegistry(fleetRootsPem: () => string[]): Registry {
  const handles = new Map<string, TerminalHandle>();
  const make = (config: TerminalConfig): TerminalHandle => {
    let client: Promise<TerminalClient> | null = null;
    const h: TerminalHandle = {
      config,
      holder: null,
      reachable: true,
      close() { client?.then((c) => c.close(), () => {}); client = null; },
      client() {
        client ??= deriveNexoKeys(config.passphrase, config.keyIdentifier, config.keyVersion)
          .then((keys) => createTerminalClient({ address: config.address, poiid: config.poiid, keys }, fleetRootsPem()));
        client.catch(() => { client = null; });
        return client;
      },
    };
    return h;
  };
  return {
    get: (id) => handles.get(id),
    all: () => [...handles.values()],
    add(c) { const h = make(c); handles.set(c.id, h); return h; },
    remove(id) { handles.get(id)?.close(); handles.delete(id); },
    state: (h) => (h.holder ? "busy" : !h.reachable ? "unreachable" : h.lastError ? "error" : "idle"),
    closeAll() { for (const h of handles.values()) h.close(); },
  };
}
