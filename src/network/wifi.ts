/**
 * Wi-Fi credentials and the nmcli argument arrays that apply them (pure). An SSID may contain
 * any character (quotes, `$()`, `;`, a leading dash, colons, emoji): it travels as one argv
 * element and never through a shell. Bad input gets a clear error before anything runs.
 */
export const WIFI_CONNECTION = "iotbox-wifi";
export const AP_CONNECTION = "iotbox-ap";

export class WifiInputError extends Error { code = "ERR_IOT_WIFI_INPUT"; }

export function validateSsid(ssid: string): string {
  if (typeof ssid !== "string") throw new WifiInputError("the Wi-Fi name (SSID) is missing");
  const bytes = new TextEncoder().encode(ssid).length;
  if (bytes < 1 || bytes > 32) throw new WifiInputError("a Wi-Fi name (SSID) has 1 to 32 bytes");
  if (ssid.includes("\0")) throw new WifiInputError("the Wi-Fi name (SSID) must not contain a NUL character");
  return ssid;
}

/** WPA2/WPA3-Personal: 8–63 printable ASCII characters, or 64 hex digits; empty = open network. */
export function validatePsk(psk: string): string {
  if (typeof psk !== "string") throw new WifiInputError("the Wi-Fi password is missing");
  if (psk === "") return psk;
  if (/^[0-9a-fA-F]{64}$/.test(psk)) return psk;
  if (psk.length < 8 || psk.length > 63) throw new WifiInputError("a Wi-Fi password has 8 to 63 characters");
  if (!/^[\x20-\x7e]+$/.test(psk)) throw new WifiInputError("a Wi-Fi password uses printable ASCII characters only (no accents or control characters)");
  return psk;
}

/** "IoTBox-<id>": the id reduced to letters, digits and dashes so the name fits 32 bytes. */
export function apSsid(boxId: string): string {
  const id = boxId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 25);
  return `IoTBox-${id || "setup"}`;
}

export function addWifiArgs(iface: string, ssid: string, psk: string): string[] {
  const args = ["connection", "add", "type", "wifi", "ifname", iface, "con-name", WIFI_CONNECTION, "autoconnect", "yes",
    "ssid", validateSsid(ssid), "802-11-wireless.mode", "infrastructure"];
  if (validatePsk(psk) !== "") args.push("wifi-sec.key-mgmt", "wpa-psk", "wifi-sec.psk", psk);
  return args;
}

export function addApArgs(iface: string, boxId: string, psk = ""): string[] {
  const args = ["connection", "add", "type", "wifi", "ifname", iface, "con-name", AP_CONNECTION, "autoconnect", "no",
    "ssid", apSsid(boxId), "802-11-wireless.mode", "ap", "802-11-wireless.band", "bg", "ipv4.method", "shared", "ipv6.method", "disabled"];
  if (validatePsk(psk) !== "") args.push("wifi-sec.key-mgmt", "wpa-psk", "wifi-sec.psk", psk);
  return args;
}

export interface ScannedNetwork { ssid: string; signal: number; secure: boolean }
