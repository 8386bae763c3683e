/**
 * The database's signature on a request, as the reference checks it (odoo/odoo
 * addons/iot_base/tools/payload_signature.py and iot_drivers/tools/route.py): the `Authorization`
 * header holds hex HMAC-SHA256, keyed with the box's connection token, over
 * `<unix seconds>|<path>|<query as JSON, keys sorted>|<payload as JSON, keys sorted>`, where JSON is
 * Python's `json.dumps` (", " and ": " separators, non-ASCII escaped), valid within ±5 s
 * (the reference tries every second in [t-5, t+5)). Pure, but for the HMAC itself (node:crypto).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const WINDOW_S = 5;

/** A JSON number as it was written: Python keeps 12.0 a float and 12 an int, JavaScript does not. */
export class JsonNumber { constructor(readonly source: string) {} }

/** A request body parsed as the database's Python parsed it (numbers keep their lexeme). */
export function parseAsPython(text: string): unknown {
  return JSON.parse(text, function (_k, v, ctx?: { source?: string }) {
    return typeof v === "number" && ctx?.source ? new JsonNumber(ctx.source) : v;
  } as (this: unknown, k: string, v: unknown) => unknown);
}

/** Python's `json.dumps(value, sort_keys=True)` with its default separators and ensure_ascii. */
export function pythonJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v === true) return "true";
  if (v === false) return "false";
  if (v instanceof JsonNumber) return /[.eE]/.test(v.source) ? pythonFloat(Number(v.source)) : BigInt(v.source).toString();
  if (typeof v === "number") return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : pythonFloat(v);
  if (typeof v === "string") return pythonString(v);
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(", ")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v as object).sort(byCodePoint);
    return `{${keys.map((k) => `${pythonString(k)}: ${pythonJson((v as Record<string, unknown>)[k])}`).join(", ")}}`;
  }
  return "null";
}

/** Python sorts str keys by code point (JavaScript's default sort compares UTF-16 units). */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}

function pythonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || c > 0x7e) {
      // ensure_ascii: \uXXXX, a surrogate pair above the BMP
      for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Python's repr of a float: the shortest digits that round-trip, fixed for 1e-4 <= |x| < 1e16, else "d.ddde+XX". */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = v.toExponential().split("e");
  const exp = Number(expStr);
  const digits = mant!.replace("-", "").replace(".", "");
  const sign = v < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits[0]!;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp >= 0) return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, "0")}.${digits.slice(exp + 1) || "0"}`;
  return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
}

/** The query string's parameters as the reference reads them (`dict(parse_qsl(query, keep_blank_values=True))`: the last value wins). */
function queryParams(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

export function signPayload(url: string, payload: unknown, token: string, unixSeconds: number): string {
  const u = new URL(url);
  const message = `${Math.trunc(unixSeconds)}|${u.pathname}|${pythonJson(queryParams(u))}|${pythonJson(payload)}`;
  return createHmac("sha256", token).update(message).digest("hex");
}

/** True when `signature` is the database's signature of this request within the window around `nowS`. */
export function verifyPayloadSignature(url: string, payload: unknown, signature: string, token: string, nowS: number, windowS = WINDOW_S): boolean {
  if (!/^[0-9a-f]{64}$/i.test(signature)) return false;
  const sent = Buffer.from(signature.toLowerCase(), "hex");
  for (let t = Math.trunc(nowS - windowS); t < Math.trunc(nowS + windowS); t++) {
    if (timingSafeEqual(sent, Buffer.from(signPayload(url, payload, token, t), "hex"))) return true;
  }
  return false;
}
