/**
 * The run: execute a plan through injected I/O, each probe under its timeout, skipping what an
 * earlier failure makes pointless, and hand the observations to the pure analysis.
 */
import type { Plan } from "./plan";
import type { ProbeIO } from "./probes";
import { addressFor, analyse, needsPublicResolvers, type DnsLookup, type Observations, type Report } from "./report";

export interface RunOptions {
  /**
   * The periodic check when all was well: ask only these names and take the others' answers from
   * the last run (`previous`), so that a healthy box sends one DNS query per check, not four. A
   * light run never asks the public resolvers: when anything fails the daemon runs a full one.
   */
  light?: { ask: string[]; previous: DnsLookup[] };
}

export async function runDiagnosis(plan: Plan, io: ProbeIO, now: () => number = Date.now, opts: RunOptions = {}): Promise<Report> {
  const started = now();
  const sent = { dnsQueries: 0, tcpConnections: 0 };
  const clock = io.clock();
  const links = io.links();
  const obs: Observations = {
    links, addresses: io.addresses(), gateway: { address: null, neighbour: "unknown" }, systemResolvers: io.systemResolvers(),
    dnsSystem: null, dnsPublic: null, https: null, captive: null, clock: { synced: null, plausible: true },
  };
  obs.gateway = io.gateway();
  const pre = analyse(plan, obs);
  const netOk = pre.probes.gateway.status === "ok";

  if (netOk && obs.systemResolvers.length) {
    const ask = async (server: string, port: number, name: string): Promise<DnsLookup> => {
      const t = now(); sent.dnsQueries++;
      const outcome = await io.dns({ host: server, port }, name, plan.timeouts.dnsMs);
      return { name, server: port === 53 ? server : server.includes(":") ? `[${server}]:${port}` : `${server}:${port}`, outcome, ms: now() - t };
    };
    const all = [...plan.privateNames, ...plan.publicNames].map((n) => n.name);
    const light = opts.light;
    const reuse = light ? light.previous.filter((l) => !light.ask.includes(l.name) && all.includes(l.name)).map((l) => ({ ...l, cached: true, ms: 0 })) : [];
    const names = all.filter((n) => !reuse.some((l) => l.name === n));
    // The first configured resolver is asked everything; the others only if it gives no answer.
    const [first, ...rest] = obs.systemResolvers;
    let sys = await Promise.all(names.map((n) => ask(first!, 53, n)));
    if (rest.length && sys.length && sys.every((l) => l.outcome.kind !== "answer"))
      sys = sys.concat(...await Promise.all(rest.map((r) => Promise.all(names.map((n) => ask(r, 53, n))))));
    sys = sys.concat(reuse);
    obs.dnsSystem = sys;
    if (!light && needsPublicResolvers(plan, sys)) {
      const pubNames = plan.privateNames.map((n) => n.name).concat(plan.publicNames.filter((n) => !sys.some((l) => l.name === n.name && l.outcome.kind === "answer" && l.outcome.addresses.length)).map((n) => n.name));
      obs.dnsPublic = (await Promise.all(plan.publicResolvers.map((r) => Promise.all(pubNames.map((n) => ask(r.host, r.port, n)))))).flat();
    }
  }

  const mid = netOk ? analyse(plan, obs) : pre;
  const dnsWorks = mid.probes.dns_system.status === "ok";
  const tasks: Promise<void>[] = [];
  const prov = plan.provisioning;
  if (netOk && prov) {
    // With broken DNS the service's address may still come from a public resolver, but then the
    // firewall verdict would be about a box that cannot resolve anyway: report DNS only.
    const ip = dnsWorks || prov.ipLiteral ? addressFor(prov.host, prov.ipLiteral, obs.dnsSystem, obs.dnsPublic) : null;
    if (ip) tasks.push((async () => {
      const t = now(); sent.tcpConnections++;
      const r = await io.https(ip, prov.port, prov.servername, plan.timeouts.connectMs, plan.timeouts.tlsMs);
      obs.https = { ip, ...r, ms: now() - t };
    })());
  }
  const conn = plan.connectivity;
  if (netOk && conn) {
    const ip = dnsWorks || conn.ipLiteral ? addressFor(conn.host, conn.ipLiteral, obs.dnsSystem, obs.dnsPublic) : null;
    if (ip) tasks.push((async () => {
      const t = now(); sent.tcpConnections++;
      const http = await io.http(ip, conn.port, conn.hostHeader, conn.path, plan.timeouts.httpMs);
      obs.captive = { ip, http, ms: now() - t };
    })());
  }
  await Promise.all(tasks);
  obs.clock = await clock;
  if (netOk) obs.gateway = io.gateway(); // after traffic the gateway's ARP entry says whether it answers

  const { probes, codes, details } = analyse(plan, obs);
  const finished = now();
  return {
    startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), durationMs: finished - started,
    probes, codes, details, kind: opts.light ? "light" : "full", sent, problems: plan.problems, observations: obs,
  };
}
