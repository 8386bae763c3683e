/**
 * The "Software updates" card and its admin routes over real sockets: the same rules as every
 * admin write (HTTPS only, a session, its CSRF token, same origin), and the card saying plainly
 * when the box rolled back.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { browserFor, startHttpBox, type HttpBox } from "../support/http-box";
import { updateView, type UpdateView } from "../../src/update/index";
import { DEFAULT_STATE } from "../../src/update/state";

const PW = "correct horse battery";
let box: HttpBox | null = null;
afterEach(async () => { await box?.stop(); box = null; });

function fakeUpdater(change: Partial<UpdateView> = {}) {
  const calls: string[] = [];
  let held = false;
  const view = (): UpdateView => ({ ...updateView({ state: { ...DEFAULT_STATE, held }, running: { version: "0.2.0+g666093c81f", build: 1_764_000_000 }, result: null, trial: null,
    channel: "stable", quietHours: "02:00-05:00", paymentInFlight: false, nextCheckAt: null, busy: null }), ...change, held });
  const updater = {
    check: async (o: { install: boolean }) => { calls.push(`check install=${o.install}`); return { ok: false as const, code: "ERR_IOT_UPDATE_UNREACHABLE" as const, message: "x" }; },
    hold: () => { calls.push("hold"); held = true; },
    resume: () => { calls.push("resume"); held = false; },
  };
  return { calls, view, updater };
}

describe("software updates on the homepage", () => {
  test("the card: running version, channel, never checked; no buttons for a visitor; /api/status has the update object", async () => {
    const u = fakeUpdater();
    box = await startHttpBox({ password: PW, update: u });
    const page = await browserFor(box.https, "192.168.1.10").send("/?local", { headers: { accept: "text/html" } });
    expect(page.body).toContain("Software updates");
    expect(page.body).toContain("0.2.0+g666093c81f");
    expect(page.body).toContain("stable");
    expect(page.body).not.toContain("/settings/update/now");
    const st = await (await fetch(`${box.http}/api/status`, { headers: { host: "192.168.1.10" } })).json();
    expect(st.update).toMatchObject({ running: { version: "0.2.0+g666093c81f", build: 1_764_000_000 }, channel: "stable", held: false, lastCheck: null, lastResult: null, lastError: null, quietHours: "02:00-05:00", paymentInFlight: false });
  });

  test("a rollback is said plainly, with everything kept; a refusal shows its code and sentence", async () => {
    const u = fakeUpdater({
      lastResult: { line: "2026-12-02T03:01:00Z rolled-back 0.3.0: slot B did not come up healthy; back on slot A", at: "2026-12-02T03:01:00Z", outcome: "rolled-back", version: "0.3.0" },
      lastError: { code: "ERR_IOT_UPDATE_FOREIGN_SIGNATURE", message: "This update is signed by someone other than the vendor of this box. It was refused and nothing was changed.", at: "2026-12-02T04:00:00Z" },
    });
    box = await startHttpBox({ password: PW, update: u });
    const page = await browserFor(box.http, "192.168.1.10").send("/?local", { headers: { accept: "text/html" } });
    expect(page.body).toContain('id="update-rolled-back"');
    expect(page.body).toContain("went back to the previous version by itself. Everything was kept");
    expect(page.body).toContain("ERR_IOT_UPDATE_FOREIGN_SIGNATURE");
    const es = await browserFor(box.http, "192.168.1.10").send("/?local&lang=es", { headers: { accept: "text/html" } });
    expect(es.body).toContain("volvió sola a la versión anterior");
  });

  test("the buttons follow the admin rules: HTTP refused, no session refused, wrong token or origin refused; the admin's work", async () => {
    const u = fakeUpdater();
    box = await startHttpBox({ password: PW, update: u });
    const plain = browserFor(box.http, "192.168.1.10");
    for (const p of ["/settings/update/now", "/settings/update/hold", "/settings/update/resume"]) expect((await plain.form(p, {})).status).toBe(403);
    const visitor = browserFor(box.https, "192.168.1.10");
    await visitor.send("/settings");
    for (const p of ["/settings/update/now", "/settings/update/hold"]) expect([401, 403]).toContain((await visitor.form(p, {})).status);
    expect(u.calls).toEqual([]);

    const admin = browserFor(box.https, "192.168.1.10");
    await admin.send("/settings");
    expect((await admin.form("/login", { password: PW })).status).toBe(303);
    expect((await admin.form("/settings/update/hold", { _csrf: "not-the-token" })).status).toBe(403);
    expect((await admin.form("/settings/update/hold", {}, { csrf: false })).status).toBe(403);
    for (const origin of ["null", "https://attacker.example"]) expect((await admin.form("/settings/update/hold", {}, { origin })).status).toBe(403);
    expect(u.calls).toEqual([]);

    const home = await admin.send("/?lang=en", { headers: { accept: "text/html" } });
    expect(home.body).toContain('action="/settings/update/now?lang=en"');
    expect(home.body).toContain("Hold updates");
    const held = await admin.form("/settings/update/hold", {});
    expect(held.status).toBe(303);
    expect(held.headers.location).toBe("/?lang=en#update");
    expect(u.calls).toEqual(["hold"]);
    const after = await admin.send("/?lang=en", { headers: { accept: "text/html" } });
    expect(after.body).toContain("Resume updates");
    expect((await admin.form("/settings/update/resume", {})).status).toBe(303);
    expect((await admin.form("/settings/update/now", {})).status).toBe(303);
    expect(u.calls).toEqual(["hold", "resume", "check install=true"]);
    // GET on a POST route: 405, never the action
    expect((await admin.send("/settings/update/now")).status).toBe(405);
  });
});
