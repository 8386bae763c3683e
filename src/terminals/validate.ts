/** Pure checks of what the POS and the admin send; each failure is a 400 with the field named. */
import { badRequest } from "./errors";
import { isCurrency, MAX_AMOUNT_MINOR } from "./money";
import type { ReversalReason } from "./messages";

export interface PaymentBody { terminal?: string; amountMinor: number; currency: string; reference: string }

function plainObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw badRequest("body_invalid", "The body must be a JSON object.");
  return body as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[]) {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw badRequest("field_unknown", `Unknown field(s): ${extra.slice(0, 5).join(", ")}.`, { fields: extra.slice(0, 5) });
}

const PRINTABLE = /^[\x20-\x7e]+$/;

export function parsePaymentBody(body: unknown): PaymentBody {
  const o = plainObject(body);
  onlyKeys(o, ["terminal", "amount", "currency", "reference"]);
  const { terminal, amount, currency, reference } = o;
  if (typeof amount !== "number" || !Number.isSafeInteger(amount)) throw badRequest("amount_invalid", "amount must be an integer number of minor units (1234 for 12.34 EUR).", { field: "amount" });
  if (amount <= 0) throw badRequest("amount_invalid", "amount must be positive.", { field: "amount" });
  if (amount > MAX_AMOUNT_MINOR) throw badRequest("amount_invalid", `amount must be at most ${MAX_AMOUNT_MINOR} minor units.`, { field: "amount" });
  if (!isCurrency(currency)) throw badRequest("currency_invalid", "currency must be a supported ISO 4217 code in capitals (EUR, USD, GBP, ...).", { field: "currency" });
  if (typeof reference !== "string" || reference.length < 1 || reference.length > 64 || !PRINTABLE.test(reference)) throw badRequest("reference_invalid", "reference must be 1-64 printable ASCII characters.", { field: "reference" });
  if (terminal !== undefined && (typeof terminal !== "string" || terminal.length > 64)) throw badRequest("terminal_invalid", "terminal must be a terminal id (string).", { field: "terminal" });
  return { terminal: terminal as string | undefined, amountMinor: amount, currency, reference };
}

export function parseIdempotencyKey(v: string | undefined): string {
  if (!v) throw badRequest("idempotency_key_missing", "The Idempotency-Key header is required (a new random value per payment, reused on retries).");
  if (v.length > 128 || !/^[\x21-\x7e]+$/.test(v)) throw badRequest("idempotency_key_invalid", "The Idempotency-Key must be 1-128 visible ASCII characters.");
  return v;
}

const REASONS: ReversalReason[] = ["CustCancel", "Malfunction", "MerchantCancel", "Unable2Compl"];
export function parseRefundBody(body: unknown): ReversalReason {
  if (body === undefined || body === null) return "MerchantCancel";
  const o = plainObject(body);
  onlyKeys(o, ["reason"]);
  if (o.reason === undefined) return "MerchantCancel";
  if (!REASONS.includes(o.reason as ReversalReason)) throw badRequest("reason_invalid", `reason must be one of ${REASONS.join(", ")}.`, { field: "reason" });
  return o.reason as ReversalReason;
}

export interface TerminalBody { address: string; poiid: string; keyIdentifier: string; keyVersion: number; passphrase: string }

export function parseTerminalBody(body: unknown): TerminalBody {
  const o = plainObject(body);
  onlyKeys(o, ["address", "poiid", "keyIdentifier", "keyVersion", "passphrase"]);
  const { address, poiid, keyIdentifier, keyVersion, passphrase } = o;
  if (typeof address !== "string" || address.length > 300) throw badRequest("address_invalid", "address must be the terminal's IP (optionally :port).", { field: "address" });
  if (typeof poiid !== "string" || !/^[A-Za-z0-9]{1,30}-[A-Za-z0-9]{1,30}$/.test(poiid)) throw badRequest("poiid_invalid", "poiid must look like <model>-<serial>, e.g. P400Plus-275039202.", { field: "poiid" });
  if (typeof keyIdentifier !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(keyIdentifier)) throw badRequest("key_identifier_invalid", "keyIdentifier must be 1-64 letters, digits, dots, dashes or underscores.", { field: "keyIdentifier" });
  if (typeof keyVersion !== "number" || !Number.isSafeInteger(keyVersion) || keyVersion < 0 || keyVersion > 999_999) throw badRequest("key_version_invalid", "keyVersion must be a whole number.", { field: "keyVersion" });
  if (typeof passphrase !== "string" || !/^[\x20-\x7e]{1,128}$/.test(passphrase)) throw badRequest("passphrase_invalid", "passphrase must be 1-128 printable ASCII characters.", { field: "passphrase" });
  return { address: address.trim(), poiid, keyIdentifier, keyVersion, passphrase };
}

export function parseOrigins(body: unknown): string[] {
  const o = plainObject(body);
  onlyKeys(o, ["origins"]);
  if (!Array.isArray(o.origins) || o.origins.length > 20) throw badRequest("origins_invalid", "origins must be a list of at most 20 origins.", { field: "origins" });
  return o.origins.map((x) => {
    let u: URL | null = null;
    try { u = typeof x === "string" ? new URL(x) : null; } catch {}
    if (!u || u.protocol !== "https:" || u.origin !== x) throw badRequest("origin_invalid", `"${String(x).slice(0, 100)}" is not an https origin like https://pos.example.com (no path, no trailing slash).`, { field: "origins" });
    return u.origin;
  });
}
