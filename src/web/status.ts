/** The box's state as plain data: `GET /api/status`, `iotbox status --json`, the homepage. */
import { codeString, describeCert, type Lang } from "../cert/codes";
import type { CertificateLifecycle } from "../cert/lifecycle";
import type { BoxConfig } from "../config/schema";
import type { LanAddress } from "../net/address";
import type { SystemFacts } from "../system/facts";
import type { OdooStatus } from "../odoo/index";
import { describeOdoo } from "../odoo/codes";
import type { UpdateView } from "../update/index";

export interface DiagItem { code: string; severity: "error" | "warning"; since: string; led: "net" | "dns" | "firewall" | "tls" | "clock" | "portal" | "unexplained"; detail?: string }
export interface DiagDescription { title: string; meaning: string; remedy: string }

export interface StatusSources {
  lifecycle: CertificateLifecycle;
  config: () => BoxConfig;
  version: string;
  lan: () => LanAddress | null;
  hostname: () => string;
  facts: () => SystemFacts;
  httpsPort: () => number;
  diagnostics?: () => { active: DiagItem[] };
  describeDiag?: (code: string, lang: Lang) => DiagDescription;
  setupProblems: () => string[];
  /** "set", "open" (no password yet: the first visitor chooses) or "locked" (lost: only the card can set one). */
  adminState?: () => "set" | "open" | "locked";
  /** The link to the database (src/odoo), when the runtime has one. */
  odoo?: () => OdooStatus;
  /** System updates (src/update): running version, channel, last look and outcome. */
  update?: () => UpdateView;
}

export function httpsUrl(s: StatusSources): string | null {
  const base = s.lifecycle.url();
  if (!base) return null;
  const port = s.httpsPort();
  return port === 443 ? base : `${base}:${port}`;
}

export function buildStatus(s: StatusSources, lang: Lang = "en") {
  const st = s.lifecycle.state();
  const cfg = s.config();
  const lan = s.lan();
  const text = st.error ? describeCert(st.error.name, lang) : null;
  const diag = s.diagnostics?.().active ?? [];
  return {
    box: { id: cfg.boxId, hostname: s.hostname(), ip: lan?.ipv4 ?? null, mac: lan?.mac || null, version: s.version },
    cert: {
      code: st.error ? codeString(st.error) : null,
      meaning: text?.meaning ?? null,
      remedy: text?.remedy ?? null,
      detail: st.error?.detail ?? null,
      checking: st.checking,
      serving: st.serving,
      subject: st.real?.subject ?? null,
      issuer: st.real?.issuer ?? null,
      notBefore: st.real?.notBefore.toISOString() ?? null,
      notAfter: st.real?.notAfter.toISOString() ?? null,
      url: httpsUrl(s),
      lastCheckAt: st.lastCheckAt,
      nextCheckAt: st.nextCheckAt,
    },
    diagnostics: diag.map((d) => ({ ...d, ...(s.describeDiag?.(d.code, lang) ?? {}) })),
    configured: { server: !!cfg.serverUrl, credential: !!(cfg.dbUuid && cfg.enterpriseCode), adminPassword: s.adminState?.() ?? "open" },
    setupProblems: s.setupProblems(),
    odoo: odooView(s, lang),
    update: s.update?.() ?? null,
    system: s.facts(),
  };
}
export type Status = ReturnType<typeof buildStatus>;

/** The database connection as the homepage and /api/status show it: never the token. */
export function odooView(s: StatusSources, lang: Lang) {
  const o = s.odoo?.();
  if (!o) return null;
  const text = o.error ? describeOdoo(o.error.code, lang) : null;
  return { connected: o.connected, server: o.server, dbName: o.dbName, since: o.since, registered: o.registered, registeredAs: o.registeredAs,
    code: o.error?.code ?? null, meaning: text?.meaning ?? null, remedy: text?.remedy ?? null, detail: o.error?.detail ?? null, retryAt: o.error?.retryAt ?? null,
    pairing: o.pairing ? { code: o.pairing.code, error: o.pairing.error ? { code: o.pairing.error.code, detail: o.pairing.error.detail, ...describeOdoo(o.pairing.error.code, lang) } : null } : null };
}
