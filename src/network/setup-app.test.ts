import { describe, expect, test } from "bun:test";
import { createSetupApp } from "./setup-app";
import type { ScannedNetwork } from "./wifi";

function make(o: { hasPassword: boolean; admin: boolean; result?: { ok: true } | { ok: false; error: string } }) {
  const configured: Array<[string, string]> = [];
  const nets: ScannedNetwork[] = [{ ssid: "<script>alert(1)</script>", signal: 90, secure: true }, { ssid: 'Shop "5G" & co', signal: 40, secure: false }];
  const app = createSetupApp({
    supervisor: {
      scan: async () => nets,
      state: () => ({ mode: "ap", usable: false, ssid: null, lastError: null }),
      configureWifi: async (s, p) => { configured.push([s, p]); return o.result ?? { ok: true }; },
    },
    isAdmin: () => o.admin, hasPassword: () => o.hasPassword, csrfToken: () => "tok123", loginUrl: "/login", basePath: "/wifi",
  });
  return { app, configured };
}
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  ({ method: "POST", body: new URLSearchParams(fields), headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });

describe("Wi-Fi set-up page", () => {
  test("first set-up (no admin password yet): open; SSIDs are HTML-escaped", async () => {
    const { app } = make({ hasPassword: false, admin: false });
    const r = await app.request("/");
    expect(r.status).toBe(200);
    const body = await r.text();
    expect(body).not.toContain("<script>alert(1)");
    expect(body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(body).toContain("Shop &quot;5G&quot; &amp; co");
    expect(body).toContain('name="_csrf" value="tok123"');
  });

  test("once a password is set, every route needs an admin session", async () => {
    const { app, configured } = make({ hasPassword: true, admin: false });
    expect((await app.request("/")).status).toBe(401);
    expect((await app.request("/networks.json")).status).toBe(401);
    expect((await app.request("/", form({ ssid: "x", password: "password1" }))).status).toBe(401);
    expect(configured).toEqual([]);
    const admin = make({ hasPassword: true, admin: true });
    expect((await admin.app.request("/")).status).toBe(200);
  });

  test("POST passes the exact strings; typed name wins over the list; errors are shown with 400", async () => {
    const { app, configured } = make({ hasPassword: true, admin: true });
    const r = await app.request("/", form({ ssid: "<script>alert(1)</script>", ssid_other: "$(reboot); \"x\"", password: "p@$$w0rd;$(id)" }));
    expect(r.status).toBe(200);
    expect(configured).toEqual([["$(reboot); \"x\"", "p@$$w0rd;$(id)"]]);
    const bad = make({ hasPassword: false, admin: false, result: { ok: false, error: "wrong Wi-Fi password" } });
    const r2 = await bad.app.request("/", form({ ssid: "Shop", password: "nope nope" }));
    expect(r2.status).toBe(400);
    expect(await r2.text()).toContain("wrong Wi-Fi password");
  });

  test("cross-site POST refused; phones' captive-portal probes land on the page", async () => {
    const { app, configured } = make({ hasPassword: false, admin: false });
    const r = await app.request("http://10.42.0.1/", form({ ssid: "x", password: "password1" }, { origin: "http://evil.example" }));
    expect(r.status).toBe(403);
    expect(configured).toEqual([]);
    for (const p of ["/generate_204", "/hotspot-detect.html", "/connecttest.txt"]) {
      const g = await app.request(p);
      expect([g.status, g.headers.get("location")]).toEqual([302, "/wifi"]);
    }
  });
});
