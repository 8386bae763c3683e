/**
 * A network lab in namespaces (needs root): box ⇄ router ⇄ internet.
 *
 *   box (eth0, DHCP via busybox udhcpc)            10.77.0.0/24
 *   router (lan0 10.77.0.1, wan0 198.18.0.2): dnsmasq DHCP+DNS (or DHCP + unbound), nft table
 *            "iotdiag" for the faults, a TLS-intercepting proxy (:8443) and a captive portal (:8080)
 *   inet (up0 198.18.0.1): 198.18.1.1 authoritative DNS for the zone, 198.18.1.2 public resolver
 *            (dnsmasq, no rebinding protection), 198.18.1.3 provisioning HTTPS, 198.18.1.4 connectivity
 *
 * 198.18.0.0/15 (RFC 2544, benchmarking) plays "the internet": routers do not treat it as private.
 * Everything lives in namespaces with unique names; the host's interfaces, routes and nft tables
 * are never touched. cleanup() kills every process and deletes every namespace and temp file.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, rmdirSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = join(ROOT, "node_modules/.bin/bun");
export const ZONE = "iot.example";
export const PROVISION_HOST = "provision.vendor.example";
export const CONNECTIVITY_HOST = "connectivity.vendor.example";
export const ADDR = {
  routerLan: "10.77.0.1", routerWan: "198.18.0.2", inetUp: "198.18.0.1",
  auth: "198.18.1.1", publicResolver: "198.18.1.2", provisioning: "198.18.1.3", connectivity: "198.18.1.4",
};

export type Fault =
  | "no_link" | "no_address" | "no_gateway" | "dns_drop" | "rebind_dnsmasq" | "rebind_unbound"
  | "dns_reject" | "https_drop" | "https_reject" | "https_reject_icmp" | "tls_intercept" | "captive" | "clock"
  // issue 11: more ways a resolver refuses the box's name, network shapes, the uplink
  | "rebind_dnsmasq_locked" | "rebind_dnsmasq_dnat" | "refused_unbound" | "nxdomain_unbound" | "silent_unbound"
  | "zero_dnsmasq" | "zero_unbound_dnat" | "uplink_down" | "uplink_down_cold" | "uplink_blackhole" | "http_drop";

function sh(args: string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const trySh = (args: string[]) => { try { sh(args); } catch {} };

export interface Lab {
  ns: { box: string; router: string; inet: string };
  dir: string;
  targets: { publicResolvers: string[]; provisioningUrl: string; connectivityUrl: string; canaryName: string; boxName: string; expectedIp?: string };
  caFile: string;
  clockFile: string;
  inBox(args: string[], stdin?: "pipe"): ChildProcess;
  fault(f: Fault): Promise<void>;
  repair(f: Fault): Promise<void>;
  /** Undo everything a fault or repair left (used before each scenario). */
  baseline(): Promise<void>;
  boxAddress(): string | null;
  cleanup(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createLab(): Promise<Lab> {
  const id = `iotd${process.pid % 100000}x${Math.random().toString(36).slice(2, 6)}`;
  const ns = { box: `${id}-box`, router: `${id}-rtr`, inet: `${id}-net` };
  const dir = mkdtempSync(join(tmpdir(), "iotdiag-lab-"));
  const etcNetns = `/etc/netns/${ns.box}`;
  const procs = new Set<ChildProcess>();
  const named = new Map<string, ChildProcess>();

  const start = (name: string, nsName: string, args: string[], waitFor?: string): Promise<ChildProcess> => new Promise((ok, fail) => {
    const p = spawn("ip", ["netns", "exec", nsName, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    procs.add(p); named.set(name, p);
    let out = "";
    const onData = (d: Buffer) => { out += d.toString(); if (waitFor && out.includes(waitFor)) { clearTimeout(t); ok(p); } };
    p.stdout!.on("data", onData); p.stderr!.on("data", onData);
    p.on("exit", (code) => { procs.delete(p); if (named.get(name) === p) named.delete(name); if (waitFor) { clearTimeout(t); fail(new Error(`${name} exited (${code}): ${out}`)); } });
    const t = setTimeout(() => fail(new Error(`${name} not ready: ${out}`)), 10000);
    if (!waitFor) { clearTimeout(t); ok(p); }
  });
  const stop = async (name: string) => {
    const p = named.get(name);
    if (!p) return;
    named.delete(name);
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await Promise.race([exited, sleep(2000)]);
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  };

  const cleanup = () => {
    for (const p of procs) try { p.kill("SIGKILL"); } catch {}
    for (const n of Object.values(ns)) trySh(["ip", "netns", "del", n]);
    rmSync(etcNetns, { recursive: true, force: true });
    try { rmdirSync("/etc/netns"); } catch { /* not empty: other namespaces use it */ }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const n of Object.values(ns)) { sh(["ip", "netns", "add", n]); sh(["ip", "-n", n, "link", "set", "lo", "up"]); }
    sh(["ip", "-n", ns.box, "link", "add", "eth0", "type", "veth", "peer", "name", "lan0", "netns", ns.router]);
    sh(["ip", "-n", ns.router, "link", "add", "wan0", "type", "veth", "peer", "name", "up0", "netns", ns.inet]);
    sh(["ip", "-n", ns.router, "addr", "add", `${ADDR.routerLan}/24`, "dev", "lan0"]);
    sh(["ip", "-n", ns.router, "addr", "add", `${ADDR.routerWan}/24`, "dev", "wan0"]);
    sh(["ip", "-n", ns.inet, "addr", "add", `${ADDR.inetUp}/24`, "dev", "up0"]);
    for (const a of [ADDR.auth, ADDR.publicResolver, ADDR.provisioning, ADDR.connectivity]) sh(["ip", "-n", ns.inet, "addr", "add", `${a}/32`, "dev", "up0"]);
    for (const [n, i] of [[ns.box, "eth0"], [ns.router, "lan0"], [ns.router, "wan0"], [ns.inet, "up0"]] as const) sh(["ip", "-n", n, "link", "set", i, "up"]);
    sh(["ip", "-n", ns.router, "route", "add", "default", "via", ADDR.inetUp]);
    sh(["ip", "-n", ns.inet, "route", "add", "10.77.0.0/24", "via", ADDR.routerWan]);
    sh(["ip", "netns", "exec", ns.router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    // No ICMP rate limit at the router: each run's probes get their own "unreachable" back.
    sh(["ip", "netns", "exec", ns.router, "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"]);

    // Certificates: the vendor's CA (trusted by the box) and the proxy's own CA (not trusted).
    const cert = (ca: string, leaf: string, cn: string) => {
      sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", `/CN=${cn} CA`, "-keyout", join(dir, `${ca}.key`), "-out", join(dir, `${ca}.pem`)]);
      sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${PROVISION_HOST}`,
        "-keyout", join(dir, `${leaf}.key`), "-out", join(dir, `${leaf}.csr`)]);
      writeFileSync(join(dir, `${leaf}.ext`), `subjectAltName=DNS:${PROVISION_HOST}\nextendedKeyUsage=serverAuth\n`);
      sh(["openssl", "x509", "-req", "-in", join(dir, `${leaf}.csr`), "-CA", join(dir, `${ca}.pem`), "-CAkey", join(dir, `${ca}.key`),
        "-CAcreateserial", "-days", "1", "-extfile", join(dir, `${leaf}.ext`), "-out", join(dir, `${leaf}.pem`)]);
    };
    cert("vendor-ca", "provision", "Vendor Test");
    cert("proxy-ca", "proxy", "Inspecting Firewall");

    const services = join(ROOT, "test/netns/services.ts");
    await start("internet", ns.inet, [BUN, services, JSON.stringify({
      // A long TTL: with its uplink down the router still answers from its cache (as real ones do).
      auth: { address: ADDR.auth, zone: ZONE, ttl: 3600, hosts: { [PROVISION_HOST]: ADDR.provisioning, [CONNECTIVITY_HOST]: ADDR.connectivity } },
      https: [{ address: ADDR.provisioning, port: 443, certFile: join(dir, "provision.pem"), keyFile: join(dir, "provision.key"), body: "{\"ok\":true}" }],
      http: [{ address: ADDR.connectivity, port: 80, mode: "connectivity" }],
    })], "ready");
    await start("public-resolver", ns.inet, ["dnsmasq", "-k", "--conf-file=/dev/null", "--user=root", "--no-resolv", "--no-hosts",
      "--bind-interfaces", `--listen-address=${ADDR.publicResolver}`, `--server=${ADDR.auth}`, `--pid-file=${join(dir, "public.pid")}`,
      "--log-facility=-"], "started");
    await start("router-extras", ns.router, [BUN, services, JSON.stringify({
      https: [{ address: ADDR.routerLan, port: 8443, certFile: join(dir, "proxy.pem"), keyFile: join(dir, "proxy.key"), body: "{}" }],
      http: [{ address: ADDR.routerLan, port: 8080, mode: "portal" }],
    })], "ready");

    const routerDnsmasq = (extra: string[]) => start("router-dns", ns.router, ["dnsmasq", "-k", "--conf-file=/dev/null", "--user=root",
      "--no-resolv", "--no-hosts", "--bind-interfaces", "--interface=lan0", `--listen-address=${ADDR.routerLan}`,
      `--server=${ADDR.publicResolver}`, "--dhcp-authoritative", "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h",
      `--dhcp-option=option:router,${ADDR.routerLan}`, `--dhcp-option=option:dns-server,${ADDR.routerLan}`,
      `--dhcp-leasefile=${join(dir, "leases")}`, `--pid-file=${join(dir, "router-dns.pid")}`, "--log-facility=-", ...extra], "started");
    /** `zone`: a local-zone type for the box's zone (refuse, always_nxdomain, deny, redirect: a filter). */
    const unbound = (privateDomain: boolean, zone?: "refuse" | "always_nxdomain" | "deny" | "redirect") => {
      writeFileSync(join(dir, "unbound.conf"), [
        "server:", "  username: \"\"", "  chroot: \"\"", "  directory: \"" + dir + "\"", `  pidfile: "${join(dir, "unbound.pid")}"`,
        `  interface: ${ADDR.routerLan}`, "  port: 53", "  access-control: 10.77.0.0/24 allow", "  do-ip6: no",
        "  module-config: \"iterator\"", "  use-syslog: no", "  logfile: \"\"", "  verbosity: 1",
        "  private-address: 10.0.0.0/8", "  private-address: 172.16.0.0/12", "  private-address: 192.168.0.0/16",
        "  private-address: 169.254.0.0/16", ...(privateDomain ? [`  private-domain: "${ZONE}"`] : []),
        "  ede: yes", ...(zone ? [`  local-zone: "${ZONE}." ${zone}`] : []), ...(zone === "redirect" ? [`  local-data: "${ZONE}. 60 IN A 0.0.0.0"`] : []),
        "remote-control:", "  control-enable: no",
        "forward-zone:", "  name: \".\"", `  forward-addr: ${ADDR.publicResolver}`, "",
      ].join("\n"));
      return start("router-unbound", ns.router, ["unbound", "-d", "-c", join(dir, "unbound.conf")], "start of service");
    };

    // The box: DHCP with busybox udhcpc; its script writes the namespace's own resolv.conf
    // (bind-mounted over /etc/resolv.conf by `ip netns exec`).
    mkdirSync(etcNetns, { recursive: true });
    const resolvConf = join(etcNetns, "resolv.conf");
    writeFileSync(resolvConf, "");
    writeFileSync(join(dir, "udhcpc.sh"), `#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; : > ${resolvConf} ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip -4 route replace default via "$(echo $router | cut -d' ' -f1)" dev "$interface"
    : > ${resolvConf}.new
    for d in $dns; do echo "nameserver $d" >> ${resolvConf}.new; done
    cat ${resolvConf}.new > ${resolvConf}; rm -f ${resolvConf}.new ;;
esac
exit 0
`, { mode: 0o755 });
    const dhcpClient = () => start("udhcpc", ns.box, ["busybox", "udhcpc", "-f", "-i", "eth0", "-s", join(dir, "udhcpc.sh"), "-t", "2", "-T", "1", "-A", "1"]);

    const clockFile = join(dir, "clock-synchronized");
    writeFileSync(clockFile, "");
    const nft = (rules: string) => sh(["ip", "netns", "exec", ns.router, "nft", "-f", "-"], rules);
    const dropTables = () => {
      trySh(["ip", "netns", "exec", ns.router, "nft", "delete", "table", "inet", "iotdiag"]); trySh(["ip", "netns", "exec", ns.router, "nft", "delete", "table", "ip", "iotdiag_nat"]);
      trySh(["ip", "netns", "exec", ns.inet, "nft", "delete", "table", "inet", "iotdiag_up"]);
    };
    /** LAN DNS forced to the router (the OpenWrt/pfSense habit): port 53 to anywhere is answered by the router. */
    const dnatDns = () => nft(`table ip iotdiag_nat {\n  chain prerouting_nat {\n    type nat hook prerouting priority -100;\n    iifname "lan0" ip daddr != ${ADDR.routerLan} udp dport 53 dnat to ${ADDR.routerLan}\n    iifname "lan0" ip daddr != ${ADDR.routerLan} tcp dport 53 dnat to ${ADDR.routerLan}\n  }\n}\n`);
    const filter = (hooks: string[], rule: string) => nft(`table inet iotdiag {\n${hooks.map((h) => `  chain ${h}_filter {\n    type filter hook ${h} priority 0;\n    ${rule}\n  }\n`).join("")}}\n`);
    const dnat = (port: number, to: string) => nft(`table ip iotdiag_nat {\n  chain prerouting_nat {\n    type nat hook prerouting priority -100;\n    iifname "lan0" tcp dport ${port} dnat to ${to}\n  }\n}\n`);
    const boxAddress = () => /inet (\d+\.\d+\.\d+\.\d+)/.exec(sh(["ip", "-n", ns.box, "-4", "addr", "show", "dev", "eth0"]))?.[1] ?? null;
    const waitAddress = async () => { for (let i = 0; i < 100 && !boxAddress(); i++) await sleep(100); if (!boxAddress()) throw new Error("box got no DHCP lease"); };

    await routerDnsmasq([]);
    await dhcpClient();
    await waitAddress();

    const lab: Lab = {
      ns, dir, caFile: join(dir, "vendor-ca.pem"), clockFile,
      targets: {
        publicResolvers: [ADDR.publicResolver], provisioningUrl: `https://${PROVISION_HOST}/`,
        connectivityUrl: `http://${CONNECTIVITY_HOST}/generate_204`, canaryName: `10-0-0-1.${ZONE}`, boxName: `10-77-0-100.${ZONE}`,
      },
      inBox: (args, stdin) => { const p = spawn("ip", ["netns", "exec", ns.box, ...args], { stdio: [stdin ?? "ignore", "pipe", "pipe"] }); procs.add(p); p.on("exit", () => procs.delete(p)); return p; },
      boxAddress,
      async fault(f) {
        switch (f) {
          case "no_link": sh(["ip", "-n", ns.router, "link", "set", "lan0", "down"]); break;
          case "no_address": // the DHCP server is gone and the lease ran out
            await stop("router-dns"); await stop("udhcpc");
            sh(["ip", "-n", ns.box, "-4", "addr", "flush", "dev", "eth0"]);
            await dhcpClient(); break;
          case "no_gateway": sh(["ip", "-n", ns.box, "route", "del", "default"]); break;
          case "dns_drop": filter(["input", "forward"], "udp dport 53 drop\n    tcp dport 53 drop"); break;
          case "rebind_dnsmasq": await stop("router-dns"); await routerDnsmasq(["--stop-dns-rebind"]); break;
          case "rebind_unbound": await stop("router-dns"); await routerDnsmasq(["--port=0"]); await unbound(false); break;
          case "https_drop": filter(["forward"], "tcp dport 443 drop"); break;
          case "https_reject": filter(["forward"], "tcp dport 443 reject with tcp reset"); break;
          case "https_reject_icmp": filter(["forward"], "tcp dport 443 reject with icmp type admin-prohibited"); break;
          case "dns_reject": filter(["input", "forward"], "udp dport 53 reject\n    tcp dport 53 reject with tcp reset"); break;
          case "tls_intercept": dnat(443, `${ADDR.routerLan}:8443`); break;
          case "captive": dnat(80, `${ADDR.routerLan}:8080`); break;
          case "clock": rmSync(clockFile, { force: true }); break;
          // LAN DNS locked to the router: port 53 to the outside dropped, the router's own DNS protects.
          case "rebind_dnsmasq_locked": await stop("router-dns"); await routerDnsmasq(["--stop-dns-rebind"]); filter(["forward"], "iifname \"lan0\" udp dport 53 drop\n    iifname \"lan0\" tcp dport 53 drop"); break;
          case "rebind_dnsmasq_dnat": await stop("router-dns"); await routerDnsmasq(["--stop-dns-rebind"]); dnatDns(); break;
          case "refused_unbound": await stop("router-dns"); await routerDnsmasq(["--port=0"]); await unbound(false, "refuse"); break;
          case "nxdomain_unbound": await stop("router-dns"); await routerDnsmasq(["--port=0"]); await unbound(false, "always_nxdomain"); break;
          case "silent_unbound": await stop("router-dns"); await routerDnsmasq(["--port=0"]); await unbound(false, "deny"); break;
          // A filter (Pi-hole style) that rewrites the zone to 0.0.0.0 instead of removing it.
          case "zero_dnsmasq": await stop("router-dns"); await routerDnsmasq([`--address=/${ZONE}/0.0.0.0`]); break;
          case "zero_unbound_dnat": await stop("router-dns"); await routerDnsmasq(["--port=0"]); await unbound(false, "redirect"); dnatDns(); break;
          // The router lost its internet connection (no default route: it answers ICMP network unreachable).
          case "uplink_down": sh(["ip", "-n", ns.router, "route", "del", "default"]); break;
          // The same after the router restarted: nothing in its cache, it answers REFUSED (EDE 23) for every name.
          case "uplink_down_cold": sh(["ip", "-n", ns.router, "route", "del", "default"]); await stop("router-dns"); await routerDnsmasq([]); break;
          // The line is up but nothing comes back (a modem without sync): every packet out is lost.
          case "uplink_blackhole": sh(["ip", "netns", "exec", ns.inet, "nft", "-f", "-"], `table inet iotdiag_up {\n  chain input_filter {\n    type filter hook input priority 0;\n    iifname "up0" drop\n  }\n  chain forward_filter {\n    type filter hook forward priority 0;\n    iifname "up0" drop\n  }\n}\n`); break;
          case "http_drop": filter(["forward"], "tcp dport 80 drop"); break;
        }
      },
      async repair(f) {
        switch (f) {
          case "no_link": sh(["ip", "-n", ns.router, "link", "set", "lan0", "up"]); break;
          case "no_address": await routerDnsmasq([]); break;
          case "no_gateway": sh(["ip", "-n", ns.box, "route", "add", "default", "via", ADDR.routerLan]); break;
          case "rebind_dnsmasq": await stop("router-dns"); await routerDnsmasq(["--stop-dns-rebind", `--rebind-domain-ok=/${ZONE}/`]); break;
          case "rebind_unbound": await stop("router-unbound"); await unbound(true); break;
          case "clock": writeFileSync(clockFile, ""); break;
          case "rebind_dnsmasq_locked": case "rebind_dnsmasq_dnat": dropTables(); await stop("router-dns"); await routerDnsmasq(["--stop-dns-rebind", `--rebind-domain-ok=/${ZONE}/`]); break;
          case "refused_unbound": case "nxdomain_unbound": case "silent_unbound": await stop("router-unbound"); await unbound(true); break;
          case "zero_dnsmasq": await stop("router-dns"); await routerDnsmasq([]); break;
          case "zero_unbound_dnat": dropTables(); await stop("router-unbound"); await unbound(true); break;
          case "uplink_down": case "uplink_down_cold": sh(["ip", "-n", ns.router, "route", "add", "default", "via", ADDR.inetUp]); break;
          default: dropTables();
        }
      },
      async baseline() {
        dropTables();
        trySh(["ip", "-n", ns.router, "route", "add", "default", "via", ADDR.inetUp]);
        writeFileSync(clockFile, "");
        sh(["ip", "-n", ns.router, "link", "set", "lan0", "up"]);
        await stop("router-unbound");
        await stop("router-dns");
        await routerDnsmasq([]);
        if (!named.has("udhcpc")) await dhcpClient();
        await waitAddress();
        trySh(["ip", "-n", ns.box, "route", "add", "default", "via", ADDR.routerLan]);
      },
      cleanup,
    };
    return lab;
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Follow the `--watch --json` stream of a diagnosis running in the box. */
export interface RunLine { at: string; run: number; kind: "full" | "light"; active: string[]; codes: string[]; details: Record<string, string>; ms: number; sent: { dnsQueries: number; tcpConnections: number } }
export function watchLines(p: ChildProcess, onLine: (l: RunLine) => void): void {
  let buf = "";
  p.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      try { onLine(JSON.parse(line)); } catch { /* a log line */ }
    }
  });
}

export const readIfExists = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
