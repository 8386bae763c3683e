/**
 * What the database is told about the box, from what the runtime knows: pure mapping. The
 * payment terminals are the box's devices (the reference's payment drivers use type "payment",
 * connection "network"); the `ip` is the HTTPS domain once the box has a real certificate
 * (iot_drivers/main.py `_get_domain`: `<ip-dashes>` + the subject without `*`), the LAN IP before.
 */
import type { BoxFacts, Device } from "./plan";

export interface TerminalLike { id: string; poiid: string }

export function terminalDevices(terminals: readonly TerminalLike[]): Record<string, Device> {
  return Object.fromEntries(terminals.map((t) => [t.id, { name: `Adyen ${t.poiid}`, type: "payment", manufacturer: "Adyen", connection: "network", subtype: "" }]));
}

export function boxFacts(o: { identifier: string; mac: string | null; lanIp: string | null; httpsUrl: string | null; version: string; name: string; terminals: readonly TerminalLike[] }): BoxFacts {
  const domain = o.httpsUrl ? new URL(o.httpsUrl).hostname : null;
  return { identifier: o.identifier, mac: o.mac ?? "", ip: domain ?? o.lanIp ?? "127.0.0.1", version: o.version, name: o.name, devices: terminalDevices(o.terminals) };
}
