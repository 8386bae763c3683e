/**
 * The box's LAN identity: the IPv4 address and MAC of its main interface. The choice is pure
 * (tested with plain values); `os.networkInterfaces()` is the default source.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";

export interface LanAddress { ifname: string; ipv4: string; mac: string }
const PREFERRED = [/^(eth|end|enp|eno|ens)/, /^(wlan|wlp)/];

export function chooseLanAddress(ifaces: Record<string, NetworkInterfaceInfo[] | undefined>): LanAddress | null {
  const candidates: LanAddress[] = [];
  for (const [ifname, addrs] of Object.entries(ifaces)) {
    for (const a of addrs ?? []) {
      if (a.family !== "IPv4" || a.internal || a.address.startsWith("169.254.")) continue;
      if (/^(docker|veth|br-|virbr|lo)/.test(ifname)) continue;
      candidates.push({ ifname, ipv4: a.address, mac: a.mac });
    }
  }
  const rank = (c: LanAddress) => { const i = PREFERRED.findIndex((re) => re.test(c.ifname)); return i < 0 ? PREFERRED.length : i; };
  candidates.sort((a, b) => rank(a) - rank(b) || a.ifname.localeCompare(b.ifname));
  return candidates[0] ?? null;
}

/** The current LAN address; `override` (IOTBOX_LAN_IP) pins it for tests or multi-homed set-ups. */
export function lanAddress(override?: string): LanAddress | null {
  if (override) return { ifname: "override", ipv4: override, mac: "" };
  return chooseLanAddress(networkInterfaces());
}
