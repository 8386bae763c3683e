/** Terminal settings: add / test (Diagnosis) / remove, POS origins, pairing; secrets never shown back. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { terminalCn } from "../../tools/terminal-simulator/certs";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, type Box } from "./box";
import { KEY, startSim, tempDir, testFleet } from "./helpers";

const POIID = "V400m-200000002";
let sim: TerminalSimulator;
let box: Box;
let dir: ReturnType<typeof tempDir>;

beforeAll(async () => { sim = await startSim(POIID, { lateMs: 500 }); dir = tempDir(); box = await createBox(dir.path); });
afterAll(async () => { await box.terminals.stop(); await sim.stop(); dir.dispose(); testFleet().dispose(); });

const add = (json: Record<string, unknown>) => box.admin("/terminals", { method: "POST", json: { address: sim.address, poiid: POIID, keyIdentifier: KEY.keyIdentifier, keyVersion: KEY.keyVersion, passphrase: KEY.passphrase, ...json } });

describe("terminal settings", () => {
  test("bad settings are refused with the field named", async () => {
    for (const [json, code] of [
      [{ poiid: "nodash" }, "poiid_invalid"],
      [{ passphrase: "pässwort" }, "passphrase_invalid"],
      [{ passphrase: "" }, "passphrase_invalid"],
      [{ keyVersion: "1" }, "key_version_invalid"],
      [{ address: "http://1.2.3.4/" }, "address_invalid"],
      [{ address: "127.0.0.1:99999" }, "address_invalid"],
      [{ extra: 1 }, "field_unknown"],
    ] as const) {
      const r = await add(json as Record<string, unknown>);
      expect(r.status).toBe(400);
      expect((await r.json()).error.code).toBe(code);
    }
    expect(await box.terminals.list()).toEqual([]);
  });

  test("add, list without secrets, test by Diagnosis, refuse a duplicate", async () => {
    const r = await add({});
    expect(r.status).toBe(201);
    const body = await r.text();
    expect(body).not.toContain(KEY.passphrase);
    expect((await add({})).status).toBe(409);
    const list = await box.terminals.list();
    expect(list).toEqual([{ id: POIID, address: sim.address, poiid: POIID, state: "idle" }]);
    const overview = await (await box.admin("/")).text();
    expect(overview).not.toContain(KEY.passphrase);
    expect(overview).not.toContain(box.token);
    const t = await (await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).json();
    expect(t).toMatchObject({ ok: true, globalStatus: "OK", communicationOk: true });
    expect(readFileSync(join(dir.path, "terminals", "settings.json"), "utf8")).not.toContain(box.token);
  });

  test("the test names the problem: wrong passphrase, wrong certificate, nobody listening", async () => {
    await box.admin(`/terminals/${POIID}`, { method: "DELETE" });
    await add({ passphrase: "not the right one" });
    let t = await (await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).json();
    expect(t).toMatchObject({ ok: false, code: "terminal_crypto_error" });
    expect((await box.terminals.list())[0]!.state).toBe("error");
    await box.admin(`/terminals/${POIID}`, { method: "DELETE" });
    await add({});
    await sim.presentCertificate(testFleet().issue(terminalCn("V400m-999"), { sanIp: "127.0.0.1" }));
    t = await (await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).json();
    expect(t).toMatchObject({ ok: false, code: "tls_cn_mismatch" });
    expect(t.message).toContain(POIID);
    await sim.presentCertificate(testFleet().issue(terminalCn(POIID)));
    await box.admin(`/terminals/${POIID}`, { method: "DELETE" });
    await add({ address: "127.0.0.1:1" });
    t = await (await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).json();
    expect(t).toMatchObject({ ok: false, code: "unreachable" });
    expect((await box.terminals.list())[0]).toMatchObject({ state: "unreachable" });
    expect(box.logs.join("\n")).not.toContain("not the right one");
  });

  test("remove; unknown ids are 404", async () => {
    expect((await box.admin(`/terminals/${POIID}`, { method: "DELETE" })).status).toBe(204);
    expect((await box.admin(`/terminals/${POIID}`, { method: "DELETE" })).status).toBe(404);
    expect((await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).status).toBe(404);
    expect(await box.terminals.list()).toEqual([]);
  });

  test("a terminal in a transaction cannot be removed or tested", async () => {
    sim.setBehaviour("late");
    await addTerminal(box, sim, POIID);
    const p = await box.pay({ amount: 5, currency: "EUR", reference: "busy-1" });
    expect(p.status).toBe(201);
    expect((await box.admin(`/terminals/${POIID}`, { method: "DELETE" })).status).toBe(409);
    expect((await box.admin(`/terminals/${POIID}/test`, { method: "POST" })).status).toBe(409);
    expect((await box.terminals.list())[0]!.state).toBe("busy");
    await box.settle(p.body.id);
    sim.setBehaviour("approve");
  }, 15_000);

  test("POS origins must be https origins; pairing returns the token once; unpairing revokes it", async () => {
    for (const o of ["http://pos.example.com", "https://pos.example.com/", "https://pos.example.com/till", "nope"]) {
      const r = await box.admin("/pos/origins", { method: "PUT", json: { origins: [o] } });
      expect(r.status).toBe(400);
    }
    const ok = await box.admin("/pos/origins", { method: "PUT", json: { origins: ["https://a.example", "https://b.example:8443"] } });
    expect((await ok.json()).posOrigins).toEqual(["https://a.example", "https://b.example:8443"]);
    const pr = await box.admin("/pos/pairings", { method: "POST", json: { name: "till 9" } });
    expect(pr.status).toBe(201);
    const pairing = await pr.json();
    expect(pairing.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await box.pos("/terminals", { headers: { authorization: `Bearer ${pairing.token}` } })).status).toBe(200);
    const overview = await (await box.admin("/")).json();
    expect(JSON.stringify(overview)).not.toContain(pairing.token);
    expect(overview.pairings.map((p: any) => p.name)).toContain("till 9");
    expect((await box.admin(`/pos/pairings/${pairing.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await box.pos("/terminals", { headers: { authorization: `Bearer ${pairing.token}` } })).status).toBe(401);
  });
});
