/**
 * The database's payload signature, checked against the reference's own algorithm run by the real
 * Python (python3): `json.dumps(sort_keys=True)` of generated JSON, and the HMAC of
 * addons/iot_base/tools/payload_signature.py, written here as the oracle.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { parseAsPython, pythonJson, signPayload, verifyPayloadSignature } from "./signature";

const ORACLE = String.raw`
import json, sys, hmac, hashlib
from urllib.parse import urlparse, parse_qsl
def hmac_sign(url, payload, token, t):
    u = urlparse(url)
    q = dict(parse_qsl(u.query, keep_blank_values=True))
    msg = "%s|%s|%s|%s" % (int(t), u.path, json.dumps(q, sort_keys=True), json.dumps(payload, sort_keys=True))
    return hmac.new(token.encode(), msg.encode(), hashlib.sha256).hexdigest()
for line in sys.stdin:
    c = json.loads(line)
    v = json.loads(c["text"])
    print(json.dumps({"dumps": json.dumps(v, sort_keys=True), "sig": hmac_sign(c["url"], v, c["token"], c["t"])}))
`;

function python(cases: Array<{ text: string; url: string; token: string; t: number }>): Array<{ dumps: string; sig: string }> {
  const p = Bun.spawnSync(["python3", "-c", ORACLE], { stdin: new TextEncoder().encode(cases.map((c) => JSON.stringify(c)).join("\n") + "\n"), stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`python3: ${p.stderr.toString()}`);
  return p.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
}

test("property: Python's json.dumps(sort_keys=True) and the reference's HMAC, byte for byte, for generated payloads and queries", () => {
  const seed = Number(process.env.IOTBOX_FC_SEED ?? Date.now() % 2 ** 31);
  const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
  const floats = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify({ amount: d, whole: `${Math.trunc(d)}.0` }).replace(/"whole":"(-?\d+\.0)"/, '"whole":$1'));
  const cases = fc.sample(fc.record({
    text: fc.oneof(json, floats, fc.constant('{"session_id":"pos-1","device_identifier":"P400Plus-1","data":{"messageType":"Transaction","amount":12.0,"name":"caf\u00e9 \ud83d\udcb3"}}')),
    url: fc.tuple(fc.constantFrom("/iot_drivers/action", "/hw_drivers/event"), fc.dictionary(fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 5 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }))
      .map(([p, q]) => `https://192-168-1-10.abc.iot.example${p}${Object.keys(q).length ? "?" + new URLSearchParams(q).toString() : ""}`),
    token: fc.string({ minLength: 1, maxLength: 40 }),
    t: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
  }), { seed, numRuns: 300 });
  const want = python(cases);
  cases.forEach((c, i) => {
    const v = parseAsPython(c.text);
    const got = { dumps: pythonJson(v), sig: signPayload(c.url, v, c.token, c.t) };
    if (got.dumps !== want[i]!.dumps || got.sig !== want[i]!.sig) throw new Error(`seed ${seed}, case ${JSON.stringify(c)}: ${JSON.stringify(got)} != ${JSON.stringify(want[i])}`);
  });
});

test("a signature verifies within ±5 s of its time only, with the right token, for the same payload and path", () => {
  const url = "https://box.example/iot_drivers/action";
  const payload = parseAsPython('{"device_identifier":"P400Plus-1","data":{"amount":12.0}}');
  const sig = signPayload(url, payload, "tok", 1_800_000_000);
  expect(verifyPayloadSignature(url, payload, sig, "tok", 1_800_000_003)).toBe(true);
  expect(verifyPayloadSignature(url, payload, sig.toUpperCase(), "tok", 1_799_999_996)).toBe(true);
  expect(verifyPayloadSignature(url, payload, sig, "tok", 1_800_000_006)).toBe(false);     // stale
  expect(verifyPayloadSignature(url, payload, sig, "other", 1_800_000_000)).toBe(false);   // another box's token
  expect(verifyPayloadSignature(url.replace("action", "event"), payload, sig, "tok", 1_800_000_000)).toBe(false);
  expect(verifyPayloadSignature(url, parseAsPython('{"device_identifier":"P400Plus-1","data":{"amount":12}}'), sig, "tok", 1_800_000_000)).toBe(false); // 12 is not 12.0
  for (const bad of ["", "x", "0".repeat(63), "z".repeat(64), `${sig} `]) expect(verifyPayloadSignature(url, payload, bad, "tok", 1_800_000_000)).toBe(false);
});
