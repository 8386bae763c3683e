// The zone's records through the DNSimple API (the official `dnsimple` client), behind a small
// interface so the service can be tested with a fake. Transient failures (429, 5xx, network)
// are retried with bounded backoff; what remains becomes an UpstreamError with a Retry-After.
import { DNSimple } from "dnsimple";
import { classifyDnsimple, RETRY_AFTER_S, upstreamError } from "../failure";

export { UpstreamError } from "../failure";

export interface DnsRecord { id: number; name: string; type: string; content: string }

export interface DnsZone {
  create(r: { name: string; type: "A" | "TXT"; content: string; ttl: number }): Promise<number>;
  /** Deleting a record that is already gone is a success. */
  remove(id: number): Promise<void>;
  find(name: string, type: "A" | "TXT"): Promise<DnsRecord[]>;
  update(id: number, content: string): Promise<void>;
  whoami(): Promise<number>;
}

export interface DnsimpleOptions {
  baseUrl: string;
  token: string;
  accountId: number;
  zone: string;
  timeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A fetcher that never throws on a non-JSON error body (the client would JSON.parse it). */
async function fetcher(p: { url: string; method: string; headers: Record<string, string>; timeout: number; body?: string }) {
  const res = await fetch(p.url, { method: p.method, headers: p.headers, body: p.body, signal: AbortSignal.timeout(p.timeout) });
  let body = await res.text();
  if (res.status >= 400) {
    try { JSON.parse(body); } catch { body = JSON.stringify({ message: `HTTP ${res.status} with a non-JSON body` }); }
  }
  return { status: res.status, body };
}

const statusOf = (e: unknown): number | undefined => {
  const s = (e as { status?: unknown })?.status;
  if (typeof s === "number") return s;
  if ((e as Error)?.name === "TooManyRequestsError") return 429;
  return undefined;
};

/** How long a box should wait, by what went wrong (401/403/404/4xx: our configuration is wrong,
 *  an operator must act; 429, 5xx, no answer: DNSimple comes back on its own). */
export function retryAfterFor(status: number | undefined, e?: unknown): number {
  return RETRY_AFTER_S[classifyDnsimple(status, e)];
}

export function createDnsimpleZone(o: DnsimpleOptions): DnsZone {
  const client = new DNSimple({ accessToken: o.token, baseUrl: o.baseUrl, fetcher, timeout: o.timeoutMs ?? 10_000 });
  const attempts = o.attempts ?? 3;
  const backoff = o.backoffMs ?? 250;
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
  const call = async <T>(what: string, fn: () => Promise<T>, okStatuses: number[] = []): Promise<T | undefined> => {
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try { return await fn(); } catch (e) {
        const status = statusOf(e);
        if (status !== undefined && okStatuses.includes(status)) return undefined;
        last = e;
        const transient = status === undefined || status === 429 || status >= 500;
        if (!transient || i === attempts - 1) break;
        await sleep(backoff * 2 ** i);
      }
    }
    const status = statusOf(last);
    throw upstreamError("dnsimple", classifyDnsimple(status, last), `DNSimple ${what} failed: ${status ? `HTTP ${status}` : String((last as Error)?.message ?? last)}`, { status });
  };
  return {
    async create(r) {
      const res = await call("create record", () => client.zones.createZoneRecord(o.accountId, o.zone, r));
      return res!.data.id;
    },
    async remove(id) { await call("delete record", () => client.zones.deleteZoneRecord(o.accountId, o.zone, id), [404]); },
    async find(name, type) {
      const res = await call("list records", () => client.zones.listZoneRecords(o.accountId, o.zone, { name, type, per_page: 100 }));
      return res!.data.map((r) => ({ id: r.id, name: r.name, type: r.type, content: r.content }));
    },
    async update(id, content) { await call("update record", () => client.zones.updateZoneRecord(o.accountId, o.zone, id, { content })); },
    async whoami() {
      const res = await call("whoami", () => client.identity.whoami());
      return res!.data.account?.id ?? 0;
    },
  };
}
