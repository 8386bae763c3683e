/**
 * The names and addresses this box answers to (the Host allow-list of src/web/gate.ts): every
 * address of its interfaces, its LAN address, `localhost`, its host name and `<hostname>.local`,
 * and its HTTPS name once it has a certificate. Read at most every 2 s (the set is asked on
 * every request; addresses change rarely).
 */
import { networkInterfaces } from "node:os";

export interface OwnHostSources {
  lanIp: () => string | null;
  hostname: () => string;
  /** The box's HTTPS name (`192-168-1-10.<label>.<zone>`), null before a certificate. */
  httpsName: () => string | null;
  interfaces?: () => ReturnType<typeof networkInterfaces>;
  now?: () => number;
}

export function ownHostSet(s: { addresses: string[]; names: Array<string | null> }): Set<string> {
  const out = new Set<string>(["localhost", "127.0.0.1", "[::1]"]);
  for (const a of s.addresses) out.add(a.includes(":") ? `[${a.split("%")[0]!.toLowerCase()}]` : a);
  for (const n of s.names) {
    if (!n) continue;
    const name = n.toLowerCase().replace(/\.$/, "");
    out.add(name);
    if (!name.includes(".")) out.add(`${name}.local`);
  }
  return out;
}

export function createOwnHosts(s: OwnHostSources): () => ReadonlySet<string> {
  const now = s.now ?? (() => performance.now());
  const ifs = s.interfaces ?? networkInterfaces;
  // Only the interface list is read at most every 2 s; the names and the LAN address are cheap and
  // asked each time, so that the HTTPS name is accepted from the very request after it is issued.
  let addrCache: { at: number; addresses: string[] } | null = null;
  let cache: { key: string; set: Set<string> } | null = null;
  return () => {
    const t = now();
    if (!addrCache || t - addrCache.at > 2000) {
      addrCache = { at: t, addresses: Object.values(ifs()).flat().filter((x): x is NonNullable<typeof x> => !!x).map((x) => x.address) };
      cache = null;
    }
    const lan = s.lanIp(), host = s.hostname(), https = s.httpsName();
    const key = `${lan}\n${host}\n${https}`;
    if (!cache || cache.key !== key) {
      cache = { key, set: ownHostSet({ addresses: lan ? [...addrCache.addresses, lan] : addrCache.addresses, names: [host, https] }) };
    }
    return cache.set;
  };
}
