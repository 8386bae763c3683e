/**
 * What the box tells its database, and when: pure decisions over plain values (the runner in
 * index.ts does the I/O). The payloads are the reference box's (iot_drivers/main.py
 * `_send_all_devices`, tools/certificate.py `inform_database`).
 */
export interface Device { name: string; type: string; manufacturer: string; connection: string; subtype: string }

/** What the database is told about the box; a change of any of these is a new registration. */
export interface BoxFacts {
  identifier: string;
  mac: string;
  /** The HTTPS domain once the box has a certificate (`192-168-1-10.<subject without *>`), its IP before. */
  ip: string;
  version: string;
  name: string;
  devices: Record<string, Device>;
}

/** `/iot/setup`'s params: `{iot_box: {identifier, mac, ip, token, version, name}, devices}`. */
export function setupParams(f: BoxFacts, token: string) {
  return { iot_box: { identifier: f.identifier, mac: f.mac, ip: f.ip, token, version: f.version, name: f.name }, devices: f.devices };
}

/** The same facts give the same string (keys sorted), so "changed" is a string comparison. */
export function fingerprint(f: BoxFacts): string {
  const devices = Object.keys(f.devices).sort().map((k) => [k, f.devices[k]]);
  return JSON.stringify([f.identifier, f.mac, f.ip, f.version, f.name, devices]);
}

/** `/iot/box/update_certificate_status`'s end date: Python's str(datetime) of the notAfter, as the reference sends it. */
export function certificateEndDate(notAfter: Date): string {
  return notAfter.toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

export interface LinkState {
  connected: boolean;
  /** The fingerprint the database acknowledged last (null: never in this run). */
  registered: string | null;
  /** The certificate end date the database acknowledged last. */
  reportedEnd: string | null;
  /** Consecutive failures of the current step, and when it may be tried again (ms since epoch). */
  failures: number;
  retryAt: number;
  inFlight: boolean;
}

export const initialLinkState = (connected: boolean): LinkState => ({ connected, registered: null, reportedEnd: null, failures: 0, retryAt: 0, inFlight: false });

export type Step =
  | { kind: "register" }
  | { kind: "report"; endDate: string }
  | { kind: "wait"; until: number }
  | { kind: "idle" };

/**
 * The next thing to do. Registration first (the database must know the box before it takes a
 * certificate date); nothing is re-sent while the facts and the date are what the database
 * already has: no timer loop, only changes and retries.
 */
export function nextStep(s: LinkState, facts: string, endDate: string | null, now: number): Step {
  if (!s.connected || s.inFlight) return { kind: "idle" };
  const due = s.registered !== facts ? { kind: "register" as const } : endDate && s.reportedEnd !== endDate ? { kind: "report" as const, endDate } : null;
  if (!due) return { kind: "idle" };
  if (now < s.retryAt) return { kind: "wait", until: s.retryAt };
  return due;
}

/** 10 s, 20 s, 40 s … capped at 10 min, with ±10 % jitter so that boxes of one shop spread out. */
export function backoffMs(failures: number, random = Math.random): number {
  const base = Math.min(10_000 * 2 ** Math.max(0, failures - 1), 600_000);
  return Math.round(base * (0.9 + 0.2 * random()));
}
