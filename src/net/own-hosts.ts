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
  let cache: { at: number; set: Set<string> } | null = null;
  return () => {
    const t = now();
    if (!cache || t - cache.at > 2000) {
      const addresses = Object.values(ifs()).flat().filter((x): x is NonNullable<typeof x> => !!x).map((x) => x.address);
      const lan = s.lanIp();
      if (lan) addresses.push(lan);
      cache = { at: t, set: ownHostSet({ addresses, names: [s.hostname(), s.httpsName()] }) };
    }
    return cache.set;
  };
}
