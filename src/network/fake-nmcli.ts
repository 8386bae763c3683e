/**
 * A fake of the nmcli boundary for tests: a small model of NetworkManager (devices, saved
 * connections, networks "in the air") that answers the commands the supervisor sends, in
 * nmcli's terse format, and records every argument array.
 */
import type { NmCli, NmResult } from "./nmcli";

export interface Air { ssid: string; psk: string; signal: number }
const escapeTerse = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");

export function fakeNmcli(init: { ethernet?: "connected" | "unavailable"; air?: Air[] } = {}) {
  const calls: string[][] = [];
  const air: Air[] = init.air ?? [];
  const connections = new Map<string, Record<string, string>>();
  let ethernet = init.ethernet ?? "unavailable";
  let wifi: { state: string; connection: string } = { state: "disconnected", connection: "" };
  const ok = (stdout = ""): NmResult => ({ code: 0, stdout, stderr: "" });
  const fail = (code: number, stderr: string): NmResult => ({ code, stdout: "", stderr });

  const nm: NmCli = {
    async run(args) {
      calls.push([...args]);
      let a = [...args];
      if (a[0] === "--wait") a = a.slice(2);
      const key = a.join(" ");
      if (key === "-t -f DEVICE,TYPE,STATE,CONNECTION device status")
        return ok(`eth0:ethernet:${ethernet}:${ethernet === "connected" ? "Wired connection 1" : ""}\nwlan0:wifi:${wifi.state}:${escapeTerse(wifi.connection)}\nlo:loopback:unmanaged:\n`);
      if (key === "-t -f NAME connection show") return ok([...connections.keys()].map((k) => `${escapeTerse(k)}\n`).join(""));
      if (a[0] === "-t" && a.includes("wifi") && a.includes("list"))
        return ok(air.map((n) => `${escapeTerse(n.ssid)}:${n.signal}:${n.psk ? "WPA2" : ""}\n`).join("") + ":40:WPA2\n");
      if (a[0] === "connection" && a[1] === "add") {
        const props: Record<string, string> = {};
        for (let i = 2; i + 1 < a.length; i += 2) props[a[i]!] = a[i + 1]!;
        connections.set(props["con-name"]!, props);
        return ok(`Connection '${props["con-name"]}' successfully added.\n`);
      }
      if (a[0] === "connection" && a[1] === "delete") return connections.delete(a[2]!) ? ok() : fail(10, `Error: unknown connection '${a[2]}'.`);
      if (a[0] === "connection" && a[1] === "down") {
        if (wifi.connection === a[2]) wifi = { state: "disconnected", connection: "" };
        return ok();
      }
      if (a[0] === "connection" && a[1] === "up") {
        const c = connections.get(a[2]!);
        if (!c) return fail(10, `Error: unknown connection '${a[2]}'.`);
        if (c["802-11-wireless.mode"] === "ap") { wifi = { state: "connected", connection: a[2]! }; return ok(); }
        const net = air.find((n) => n.ssid === c.ssid);
        if (!net) return fail(4, "Error: Connection activation failed: No network with SSID found.");
        if (net.psk !== (c["wifi-sec.psk"] ?? "")) { wifi = { state: "disconnected", connection: "" }; return fail(4, "Error: Connection activation failed: Secrets were required, but not provided."); }
        wifi = { state: "connected", connection: a[2]! };
        return ok();
      }
      if (a[0] === "-s" && a[1] === "-g") {
        const c = connections.get(a[a.length - 1]!);
        return c ? ok(`${escapeTerse(c.ssid ?? "")}\n${escapeTerse(c["wifi-sec.psk"] ?? "")}\n`) : fail(10, "Error: no such connection profile.");
      }
      return fail(2, `Error: fake nmcli does not know "${key}"`);
    },
  };
  return {
    nm, calls, connections,
    setEthernet(s: "connected" | "unavailable") { ethernet = s; },
    /** The router of a saved network goes off / comes back. */
    setAir(list: Air[]) { air.splice(0, air.length, ...list); },
    wifiState: () => wifi,
  };
}
