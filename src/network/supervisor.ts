/**
 * Network supervision through NetworkManager: watch whether the box has a usable network,
 * open the access point IoTBox-<id> when it has had none for a while, apply Wi-Fi credentials
 * (from the settings page or iotbox.conf) and go back to client mode. The decision is a pure
 * function of the observed state; the supervisor only runs the nmcli commands it returns.
 */
import type { Logger } from "../log/index";
import { splitTerse, unescapeValue, type NmCli } from "./nmcli";
import { addApArgs, addWifiArgs, apSsid, AP_CONNECTION, validatePsk, validateSsid, WIFI_CONNECTION, WifiInputError, type ScannedNetwork } from "./wifi";

export interface DeviceState { device: string; type: string; state: string; connection: string }
export type Mode = "client" | "ap";
export interface NetState { devices: DeviceState[]; apActive: boolean; usable: boolean }

/** A device in state "connected" (NetworkManager: it has its IP configuration) other than our AP. */
export function usable(devices: DeviceState[]): boolean {
  return devices.some((d) => (d.type === "ethernet" || d.type === "wifi") && d.state === "connected" && d.connection !== AP_CONNECTION);
}

export interface ModeInput {
  usable: boolean; apActive: boolean; unusableSinceMs: number | null; nowMs: number; apAfterMs: number; ethernetUp: boolean;
  /** A client Wi-Fi is saved, the AP has been open since apSinceMs and nobody uses it: try the Wi-Fi again
   *  every retryClientMs (the shop's router may just have been off). */
  savedWifi?: boolean; apSinceMs?: number | null; apClients?: number; retryClientMs?: number;
}

/** Pure: open the AP after `apAfterMs` without a usable network; leave it when ethernet is back or to retry a saved Wi-Fi. */
export function decideMode(s: ModeInput): "open_ap" | "close_ap" | "retry_client" | "none" {
  if (s.apActive) {
    if (s.ethernetUp) return "close_ap";
    if (s.savedWifi && !s.apClients && s.apSinceMs != null && s.nowMs - s.apSinceMs >= (s.retryClientMs ?? 300_000)) return "retry_client";
    return "none";
  }
  if (!s.usable && s.unusableSinceMs !== null && s.nowMs - s.unusableSinceMs >= s.apAfterMs) return "open_ap";
  return "none";
}

export interface NetworkSupervisorOptions {
  nm: NmCli;
  logger: Logger;
  boxId: string;
  wifiInterface?: string;
  /** Without a usable network for this long, open the access point (default 60 s). */
  apAfterMs?: number;
  pollMs?: number;
  apPassword?: string;
  /** While the AP is open with a saved Wi-Fi and no phone on it, retry the Wi-Fi this often (default 5 min). */
  retryClientMs?: number;
  /** How many phones hold a lease on the AP (default: none known, so retries happen). */
  apLeases?: () => Promise<number>;
  now?: () => number;
}

export interface NetworkSupervisor {
  start(): void;
  stop(): void;
  /** One supervision step (poll + decision); the timer calls it, tests call it directly. */
  tick(): Promise<NetState>;
  state(): { mode: Mode; usable: boolean; ssid: string | null; lastError: string | null };
  scan(): Promise<ScannedNetwork[]>;
  /** Save and join a Wi-Fi network; on failure the AP is reopened so the user can retry. */
  configureWifi(ssid: string, psk: string): Promise<{ ok: true } | { ok: false; error: string }>;
  /** iotbox.conf / settings: apply only if different from what NetworkManager already has. */
  ensureWifi(ssid: string, psk: string): Promise<{ ok: true; changed: boolean } | { ok: false; error: string }>;
  onChange(cb: () => void): () => void;
}

export function createNetworkSupervisor(o: NetworkSupervisorOptions): NetworkSupervisor {
  const log = o.logger.child({ mod: "network" });
  const iface = o.wifiInterface ?? "wlan0";
  const apAfterMs = o.apAfterMs ?? 60_000;
  const now = o.now ?? Date.now;
  let mode: Mode = "client";
  let isUsable = false;
  let unusableSince: number | null = now();
  let apSince: number | null = null;
  let savedWifi = false;
  let ssid: string | null = null;
  let lastError: string | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let busy: Promise<unknown> = Promise.resolve();
  const listeners = new Set<() => void>();
  const changed = () => { for (const cb of listeners) try { cb(); } catch {} };

  // Serialise every nmcli sequence: a tick must not interleave with a configuration.
  const serial = <T>(f: () => Promise<T>): Promise<T> => { const p = busy.then(f, f); busy = p.catch(() => {}); return p; };
  const nm = async (args: string[], what: string) => {
    const r = await o.nm.run(args);
    if (r.code !== 0) log.warn("nmcli failed", { what, code: r.code, stderr: r.stderr.trim().slice(0, 300) });
    return r;
  };

  const devices = async (): Promise<DeviceState[]> => {
    const r = await nm(["-t", "-f", "DEVICE,TYPE,STATE,CONNECTION", "device", "status"], "device status");
    if (r.code !== 0) return [];
    return r.stdout.split("\n").filter(Boolean).map((l) => {
      const [device = "", type = "", state = "", connection = ""] = splitTerse(l);
      return { device, type, state, connection };
    });
  };

  const openAp = async () => {
    await nm(["connection", "delete", AP_CONNECTION], "delete old AP");
    const add = await nm(addApArgs(iface, o.boxId, o.apPassword ?? ""), "add AP");
    const up = add.code === 0 ? await nm(["--wait", "30", "connection", "up", AP_CONNECTION], "AP up") : add;
    if (up.code === 0) { mode = "ap"; apSince = now(); log.info("access point open", { ssid: apSsid(o.boxId) }); changed(); }
    else lastError = "the access point could not be opened";
  };
  const closeAp = async () => {
    await nm(["connection", "down", AP_CONNECTION], "AP down");
    mode = "client"; apSince = null; log.info("access point closed"); changed();
  };
  /** Phones on the AP (shared-mode DHCP leases): do not pull the AP from under one. */
  const apClients = async (): Promise<number> => { try { return (await o.apLeases?.()) ?? 0; } catch { return 0; } };
  let knowSaved = false;

  const tick = () => serial(async (): Promise<NetState> => {
    if (!knowSaved) {
      const r = await nm(["-t", "-f", "NAME", "connection", "show"], "saved connections");
      if (r.code === 0) { knowSaved = true; savedWifi ||= r.stdout.split("\n").map((l) => splitTerse(l)[0]).includes(WIFI_CONNECTION); }
    }
    const devs = await devices();
    const apActive = devs.some((d) => d.connection === AP_CONNECTION && d.state === "connected");
    if (apActive !== (mode === "ap")) { mode = apActive ? "ap" : "client"; changed(); }
    const u = usable(devs);
    if (u !== isUsable) { isUsable = u; changed(); }
    unusableSince = u ? null : (unusableSince ?? now());
    ssid = devs.find((d) => d.type === "wifi" && d.state === "connected" && d.connection !== AP_CONNECTION)?.connection ?? ssid;
    if (apActive && apSince === null) apSince = now();
    const action = decideMode({ usable: u, apActive, unusableSinceMs: unusableSince, nowMs: now(), apAfterMs,
      ethernetUp: devs.some((d) => d.type === "ethernet" && d.state === "connected"),
      savedWifi, apSinceMs: apSince, apClients: apActive ? await apClients() : 0, retryClientMs: o.retryClientMs });
    if (action === "open_ap") await openAp();
    if (action === "close_ap") await closeAp();
    if (action === "retry_client") {
      log.info("trying the saved Wi-Fi again");
      await nm(["connection", "down", AP_CONNECTION], "AP down for retry");
      const up = await nm(["--wait", "30", "connection", "up", WIFI_CONNECTION], "Wi-Fi retry");
      if (up.code === 0) { mode = "client"; apSince = null; unusableSince = null; changed(); }
      else await openAp();
    }
    return { devices: devs, apActive: mode === "ap", usable: u };
  });

  const join = async (s: string, psk: string): Promise<{ ok: true } | { ok: false; error: string }> => {
    let args: string[];
    try { args = addWifiArgs(iface, s, psk); } catch (e) { return { ok: false, error: (e as Error).message }; }
    o.logger.redact(psk);
    await nm(["connection", "delete", WIFI_CONNECTION], "delete old Wi-Fi");
    const add = await nm(args, "add Wi-Fi");
    if (add.code !== 0) { lastError = "NetworkManager refused the Wi-Fi settings"; return { ok: false, error: lastError }; }
    savedWifi = true;
    if (mode === "ap") await nm(["connection", "down", AP_CONNECTION], "AP down for client");
    const up = await nm(["--wait", "30", "connection", "up", WIFI_CONNECTION], "Wi-Fi up");
    if (up.code !== 0) {
      lastError = /secrets|password|802-1x|psk/i.test(up.stderr) ? "wrong Wi-Fi password" : "the Wi-Fi network could not be joined";
      log.warn("Wi-Fi join failed; reopening the access point", { ssid: s });
      await openAp();
      return { ok: false, error: lastError };
    }
    mode = "client"; ssid = s; lastError = null; unusableSince = null; apSince = null; savedWifi = true;
    log.info("Wi-Fi joined", { ssid: s });
    changed();
    return { ok: true };
  };

  return {
    start() { if (!timer) { timer = setInterval(() => { tick().catch((e) => log.error("network tick failed", { error: String(e) })); }, o.pollMs ?? 5000); void tick(); } },
    stop() { clearInterval(timer); timer = undefined; },
    tick,
    state: () => ({ mode, usable: isUsable, ssid, lastError }),
    scan: () => serial(async () => {
      const r = await nm(["-t", "-f", "SSID,SIGNAL,SECURITY", "device", "wifi", "list", "ifname", iface, "--rescan", "auto"], "scan");
      if (r.code !== 0) return [];
      const best = new Map<string, ScannedNetwork>();
      for (const line of r.stdout.split("\n")) {
        if (!line) continue;
        const [s = "", signal = "0", security = ""] = splitTerse(line);
        if (!s) continue; // hidden network
        const n = { ssid: s, signal: Number(signal) || 0, secure: security !== "" && security !== "--" };
        if ((best.get(s)?.signal ?? -1) < n.signal) best.set(s, n);
      }
      return [...best.values()].sort((a, b) => b.signal - a.signal);
    }),
    configureWifi: (s, psk) => serial(() => join(s, psk)),
    ensureWifi: (s, psk) => serial(async () => {
      try { validateSsid(s); validatePsk(psk); } catch (e) { return { ok: false as const, error: (e as WifiInputError).message }; }
      o.logger.redact(psk);
      const cur = await nm(["-s", "-g", "802-11-wireless.ssid,802-11-wireless-security.psk", "connection", "show", WIFI_CONNECTION], "show Wi-Fi");
      if (cur.code === 0) {
        const [curSsid = "", curPsk = ""] = cur.stdout.replace(/\n$/, "").split("\n").map(unescapeValue);
        if (curSsid === s && curPsk === psk) return { ok: true as const, changed: false };
      }
      const r = await join(s, psk);
      return r.ok ? { ok: true as const, changed: true } : r;
    }),
    onChange(cb) { listeners.add(cb); return () => listeners.delete(cb); },
  };
}
