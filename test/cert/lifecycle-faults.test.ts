/**
 * The certificate lifecycle against a real HTTPS certificate service with faults: each fault
 * gives its documented code, and the certificate the box already had stays in use.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFaultProvisioner, type Fault, type FaultProvisioner } from "../support/fault-provisioner";
import { makeBoxDir, wireLifecycle } from "../support/box-fixture";

let svc: FaultProvisioner;
beforeAll(async () => { svc = await startFaultProvisioner(); });
afterAll(async () => { await svc.stop(); });

const creds = (url: string) => ({ serverUrl: "https://odoo.test", dbUuid: "db-0001-uuid", enterpriseCode: "M1234567", provisioningUrl: url });

/** A fresh box asks once and ends up serving the certificate the service sent, with no error. */
async function expectAccepted(fault: Fault) {
  const box = makeBoxDir();
  try {
    svc.fault = fault;
    const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
    const s = await w.lifecycle.check("start");
    expect(s.error).toBeNull();
    expect(s.serving).toBe("real");
    w.lifecycle.stop();
  } finally { box.cleanup(); svc.fault = "ok"; }
}

describe("a box without a certificate", () => {
  test("gets one over the wire format, for its own key, and serves it", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "ok";
      svc.requests.length = 0;
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
      const s = await w.lifecycle.check("start");
      expect(s.error).toBeNull();
      expect(s.serving).toBe("real");
      expect(s.real?.subject).toBe(svc.subjectCn);
      const req = svc.requests[0]!;
      expect(req.db_uuid).toBe("db-0001-uuid");
      expect(req.enterprise_code).toBe("M1234567");
      expect(String(req.csr)).toContain("BEGIN CERTIFICATE REQUEST");
      expect(req.ip).toBe("192.168.1.10");
      expect(w.lifecycle.url()).toBe("https://192-168-1-10.d73e7513.iot.test");
      const mode = statSync(join(box.certDir, "current.pem")).mode & 0o777;
      expect(mode).toBe(0o600);
      expect(existsSync(join(box.certDir, "pending-key.pem"))).toBe(false);
      w.lifecycle.stop();
    } finally { box.cleanup(); }
  });

  test("accepts the reference's key-in-reply shape", () => expectAccepted("key-in-reply"));

  test("configuration codes come before any request", async () => {
    const box = makeBoxDir();
    try {
      const w = wireLifecycle(box.dataDir, { provisioningUrl: svc.url }, { ca: [svc.ca.certPem] });
      expect((await w.lifecycle.check("start")).error?.name).toBe("ERR_IOT_HTTPS_CHECK_NO_SERVER");
      w.config.update((c) => { c.serverUrl = "https://odoo.test"; c.dbUuid = "db-0001-uuid"; });
      expect((await w.lifecycle.check("start")).error?.name).toBe("ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL");
      expect(w.lifecycle.state().serving).toBe("temporary");
      w.lifecycle.stop();
    } finally { box.cleanup(); }
  });
});

describe("a box with a certificate due for renewal", () => {
  const cases: Array<[Fault | "refuse", string, RegExp?]> = [
    ["refuse", "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", /ECONNREFUSED|refused|Unable to connect/i],
    ["timeout", "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", /timeout/],
    ["status-404", "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 404"],
    ["status-500", "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 500"],
    ["status-503", "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 503"],
    ["invalid-json", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /not valid JSON/],
    ["empty-result", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /no result/],
    ["error-result", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /refused/],
    ["wrong-key", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /does not match/],
    ["expired", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /expired/],
    ["other-name", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT", /does not cover 192-168-1-10\.d73e7513\.iot\.test/],
  ];
  for (const [fault, code, detail] of cases) {
    test(`${fault} → ${code}, old certificate kept`, async () => {
      const box = makeBoxDir();
      try {
        svc.fault = "ok";
        const first = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
        const got = await first.lifecycle.check("start");
        first.lifecycle.stop();
        const fp = got.real!.fingerprint256;
        // 80 days later the 90-day certificate is due for renewal (but still valid).
        const later = () => new Date(Date.now() + 80 * 86_400_000);
        svc.fault = fault === "refuse" ? "ok" : fault;
        const url = fault === "refuse" ? "https://127.0.0.1:1" : svc.url;
        const w = wireLifecycle(box.dataDir, creds(url), { ca: [svc.ca.certPem], now: later, timeoutMs: 1500 });
        const s = await w.lifecycle.check("timer");
        w.lifecycle.stop();
        const shown = s.error ? (s.error.status ? `${s.error.name} ${s.error.status}` : s.error.name) : null;
        expect(shown).toBe(code);
        if (detail) expect(s.error?.detail ?? "").toMatch(detail);
        // a request that never reached the service is retried after 10 s, a timeout after 60 s
        const retryIn = Date.parse(s.nextCheckAt!) - later().getTime();
        if (fault === "refuse") { expect(retryIn).toBeGreaterThan(5_000); expect(retryIn).toBeLessThanOrEqual(10_000); }
        else expect(retryIn).toBeGreaterThan(50_000);
        expect(s.lastFetchReason).toBe("renew");
        const kept = w.store.readCurrent();
        expect(kept.kind).toBe("ok");
        if (kept.kind === "ok") expect(kept.gen.info.fingerprint256).toBe(fp);
        expect(w.lifecycle.state().serving).toBe("real");
      } finally { box.cleanup(); svc.fault = "ok"; }
    }, 15_000);
  }

  test("a 503's Retry-After holds back the next request", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "status-503";
      svc.requests.length = 0;
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
      await w.lifecycle.check("start");
      await w.lifecycle.check("homepage");
      await w.lifecycle.check("timer");
      expect(svc.requests.length).toBe(1);
      expect(w.lifecycle.state().error?.status).toBe(503);
      const next = Date.parse(w.lifecycle.state().nextCheckAt!) - Date.now();
      expect(next).toBeGreaterThan(100_000);
      w.lifecycle.stop();
    } finally { box.cleanup(); svc.fault = "ok"; }
  });
});

describe("the address follows DHCP", () => {
  test("a new address is reported once; no address, or the same one, asks nothing", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "ok";
      let ip: string | null = "192.168.1.10";
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem], ip: () => ip });
      await w.lifecycle.check("start");
      svc.requests.length = 0;
      ip = null;                                   // link down, DHCP pending
      await w.lifecycle.check("ip-change");
      ip = "192.168.1.10";                          // the same lease back
      await w.lifecycle.check("ip-change");
      expect(svc.requests.length).toBe(0);
      ip = "192.168.1.23";                          // a new lease
      const s = await w.lifecycle.check("ip-change");
      expect(s.error).toBeNull();
      expect(s.lastFetchReason).toBe("ip-changed");
      expect(svc.requests.map((r) => r.ip)).toEqual(["192.168.1.23"]);
      expect(w.lifecycle.url()).toBe("https://192-168-1-23.d73e7513.iot.test");
      await w.lifecycle.check("homepage");
      expect(svc.requests.length).toBe(1);
      w.lifecycle.stop();
    } finally { box.cleanup(); }
  });
});

describe("a box clock a little behind the CA's", () => {
  test("a certificate whose notBefore is seconds ahead is accepted (no backdating CA, clock not yet synchronised)",
    () => expectAccepted("starts-in-seconds"));

  test("a certificate that starts tomorrow is refused, with the clock named as the likely cause", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "starts-tomorrow";
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
      const s = await w.lifecycle.check("start");
      expect(s.error?.name).toBe("ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT");
      expect(s.error?.detail).toMatch(/not valid yet .*clock/);
      expect(s.serving).toBe("temporary");
      w.lifecycle.stop();
    } finally { box.cleanup(); svc.fault = "ok"; }
  });
});

describe("the first certificate waits for an address", () => {
  test("no address yet: nothing is asked and no error shown; the address's arrival fetches it, once", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "ok";
      svc.requests.length = 0;
      let ip: string | null = null;
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem], ip: () => ip });
      const waiting = await w.lifecycle.check("start");
      expect(svc.requests.length).toBe(0);
      expect(waiting.error).toBeNull();
      expect(waiting.serving).toBe("temporary");
      ip = "192.168.1.10";                          // DHCP answers
      const got = await w.lifecycle.check("ip-change");
      expect(got.error).toBeNull();
      expect(got.serving).toBe("real");
      expect(svc.requests.map((r) => r.ip)).toEqual(["192.168.1.10"]);
      await w.lifecycle.check("ip-change");          // the same address again: nothing more
      expect(svc.requests.length).toBe(1);
      w.lifecycle.stop();
    } finally { box.cleanup(); }
  });
});

describe("an address that arrives during a check", () => {
  test("is not lost: the check that read the old one is followed by one that reports the new one", async () => {
    const box = makeBoxDir();
    try {
      svc.fault = "slow";
      svc.requests.length = 0;
      let ip: string | null = "192.168.1.10";
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem], ip: () => ip });
      const first = w.lifecycle.check("start");
      const until = Date.now() + 5_000;
      while (svc.requests.length === 0 && Date.now() < until) await Bun.sleep(5);
      ip = "192.168.1.23";                           // a new lease while the service is answering
      expect(w.lifecycle.check("ip-change")).toBe(first); // joins the check in flight
      await first;
      // nothing else triggers a check here: only the follow-up can make the second request
      const deadline = Date.now() + 5_000;
      while ((svc.requests.length < 2 || w.lifecycle.state().checking) && Date.now() < deadline) await Bun.sleep(20);
      expect(svc.requests.map((r) => r.ip)).toEqual(["192.168.1.10", "192.168.1.23"]);
      expect(w.lifecycle.url()).toBe("https://192-168-1-23.d73e7513.iot.test");
      w.lifecycle.stop();
    } finally { box.cleanup(); svc.fault = "ok"; }
  });
});

describe("an unreadable certificate file", () => {
  test("is reported, kept aside, and replaced by a fresh certificate", async () => {
    const box = makeBoxDir();
    try {
      writeFileSync(join(box.certDir, "current.pem"), "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
      svc.fault = "status-500";
      const w = wireLifecycle(box.dataDir, creds(svc.url), { ca: [svc.ca.certPem] });
      const bad = await w.lifecycle.check("start");
      expect(bad.error?.name).toBe("ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION");
      expect(bad.error?.detail).toContain("ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 500");
      expect(bad.serving).toBe("temporary");
      svc.fault = "ok";
      const good = await w.lifecycle.check("cli");
      expect(good.error).toBeNull();
      expect(good.serving).toBe("real");
      expect(readdirSync(box.certDir).some((f) => f.startsWith("current.pem.unreadable-"))).toBe(true);
      w.lifecycle.stop();
    } finally { box.cleanup(); svc.fault = "ok"; }
  });
});
