/**
 * Which pattern the Pi's LEDs show for a box state. Pure. The table is in the README.
 * The firmware's own codes are groups of long and short flashes with a pause between groups
 * (e.g. 4 long + 4 short); ours are steady, even rhythms or the kernel's heartbeat, so the
 * two cannot be confused. ACT carries the meaning (the Pi 3B has only ACT); PWR adds
 * "needs action": steady on when all is well, blinking when the technician must act. Each
 * class has its own ACT rhythm, so a board with ACT alone still tells them all apart.
 */
export type LedName = "ACT" | "PWR";
export interface LedPattern { trigger: "none" | "timer" | "heartbeat" | "default-on"; brightness?: 0 | 1; delayOn?: number; delayOff?: number }
export type LedClass = "healthy" | "starting" | "setup" | "service" | "net" | "dns" | "firewall" | "tls" | "clock" | "portal" | "unexplained" | "storage";

const blink = (on: number, off: number): LedPattern => ({ trigger: "timer", delayOn: on, delayOff: off });
const STEADY: LedPattern = { trigger: "none", brightness: 1 };
const ACTION = blink(500, 500);

export const LED_TABLE: Record<LedClass, { act: LedPattern; pwr: LedPattern; meaning: string }> = {
  healthy:  { act: { trigger: "heartbeat" }, pwr: STEADY, meaning: "all is well: certificate valid, network fine" },
  starting: { act: blink(100, 100), pwr: STEADY, meaning: "starting or checking the certificate" },
  setup:    { act: blink(1500, 500), pwr: ACTION, meaning: "set-up needed: no server or no credential (ERR_IOT_HTTPS_CHECK_NO_SERVER, ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL)" },
  service:  { act: blink(500, 1500), pwr: ACTION, meaning: "the certificate service refused or failed (ERR_IOT_HTTPS_LOAD_REQUEST_STATUS, ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT)" },
  net:      { act: blink(250, 250), pwr: ACTION, meaning: "no network: cable, Wi-Fi, address, gateway or the router's internet connection (ERR_IOT_NET_*), or the service unreachable for an unknown reason (ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION)" },
  dns:      { act: blink(100, 900), pwr: ACTION, meaning: "DNS: no resolver answers, or the router blocks the box's name (ERR_IOT_DNS_*)" },
  firewall: { act: blink(900, 100), pwr: ACTION, meaning: "a firewall drops or rejects HTTPS (ERR_IOT_FIREWALL_*)" },
  tls:      { act: blink(1900, 100), pwr: blink(100, 100), meaning: "HTTPS is intercepted by a proxy (ERR_IOT_TLS_INTERCEPTED)" },
  portal:   { act: blink(250, 750), pwr: blink(100, 100), meaning: "a captive portal holds the network (ERR_IOT_CAPTIVE_PORTAL)" },
  clock:    { act: blink(100, 1900), pwr: blink(100, 100), meaning: "the clock is not synchronised (ERR_IOT_CLOCK_UNSYNCED)" },
  unexplained: { act: blink(1000, 1000), pwr: ACTION, meaning: "a network check failed and no known cause explains it: the homepage shows what was seen (ERR_IOT_DIAG_UNEXPLAINED)" },
  storage:  { act: { trigger: "default-on" }, pwr: ACTION, meaning: "the stored certificate cannot be read (ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION)" },
};

export interface LedInput {
  certCode: string | null;            // e.g. "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 503"
  checking: boolean;
  everChecked: boolean;
  diagnostics: Array<{ led: "net" | "dns" | "firewall" | "tls" | "clock" | "portal" | "unexplained" }>;
}

export function ledClassFor(s: LedInput): LedClass {
  // A network cause found by the diagnosis explains a certificate failure best: show it first.
  const order: LedClass[] = ["net", "portal", "dns", "firewall", "tls", "clock", "unexplained"];
  for (const c of order) if (s.diagnostics.some((d) => d.led === c)) return c;
  const code = s.certCode?.split(" ")[0] ?? null;
  switch (code) {
    case "ERR_IOT_HTTPS_CHECK_NO_SERVER":
    case "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL": return "setup";
    case "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION": return "storage";
    case "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION": return "net";
    case "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS":
    case "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT": return "service";
  }
  if (!s.everChecked || (s.checking && !code)) return "starting";
  return "healthy";
}
