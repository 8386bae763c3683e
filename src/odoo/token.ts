/**
 * The connection token a database hands out for its IoT boxes, in the shapes the reference box
 * accepts (iot_drivers/controllers/homepage.py `connect_to_server`, helpers.parse_url):
 *   - `url|token|db_uuid|enterprise_code` (databases before v18),
 *   - the same string base64-encoded (older boxes received it so),
 *   - a URL with query parameters: `https://shop.example.com?token=…&db_uuid=…&enterprise_code=…&db_name=…`
 *     (v18 and later; the first value of a repeated parameter counts, as in parse_qs).
 * Pure: no I/O. Every failure is a TokenError with a sentence for the technician, never the
 * token itself (it is a secret).
 */
import { validate } from "../config/schema";

export interface Connection {
  /** The database's URL: scheme and host (and port), no path, as the reference keeps it. */
  serverUrl: string;
  token: string;
  dbUuid: string;
  enterpriseCode: string;
  dbName: string | null;
}

export class TokenError extends Error {
  readonly code = "ERR_IOT_ODOO_TOKEN_INVALID";
}

const MAX_TOKEN_CHARS = 4096;

export function parseConnectionToken(raw: string): Connection {
  const text = raw.trim();
  if (!text) throw new TokenError("the connection token is empty: paste what the database's IoT app shows");
  if (text.length > MAX_TOKEN_CHARS) throw new TokenError(`the connection token is longer than ${MAX_TOKEN_CHARS} characters`);
  if (/[\u0000-\u001f\u007f\s]/.test(text)) throw new TokenError("the connection token must not contain spaces or line breaks in the middle: copy it again in one piece");
  if (text.split("|").length === 4) return fromPipes(text);
  const decoded = fromBase64(text);
  if (decoded !== null && decoded.split("|").length === 4) return fromPipes(decoded);
  if (/^https?:\/\//i.test(text)) return fromUrl(text);
  throw new TokenError("this is not a connection token: expected the URL the database shows (https://…?token=…) or url|token|db_uuid|enterprise_code");
}

function fromBase64(s: string): string | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) return null;
  const bytes = Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  try { return new TextDecoder("utf-8", { fatal: true }).decode(bytes).trim(); } catch { return null; }
}

function fromPipes(s: string): Connection {
  const [url, token, dbUuid, enterpriseCode] = s.split("|").map((p) => p.trim()) as [string, string, string, string];
  return build(serverOf(url), token, dbUuid, enterpriseCode, null);
}

function fromUrl(s: string): Connection {
  let u: URL;
  try { u = new URL(s); } catch { throw new TokenError("the connection token is not a valid URL"); }
  const first = (k: string) => u.searchParams.getAll(k)[0] ?? "";
  return build(serverOf(s), first("token"), first("db_uuid"), first("enterprise_code"), first("db_name") || null);
}

/** `scheme://host[:port]`, as helpers.parse_url gives it; not localhost (the reference refuses it too). */
function serverOf(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { throw new TokenError("the database URL in the token is not a valid URL"); }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw new TokenError("the database URL in the token must start with https:// or http://");
  if (u.username || u.password) throw new TokenError("the database URL in the token must not contain a user name or password");
  if (u.hostname === "localhost") throw new TokenError("the database URL in the token cannot be localhost");
  return `${u.protocol}//${u.host}`;
}

function build(serverUrl: string, token: string, dbUuid: string, enterpriseCode: string, dbName: string | null): Connection {
  if (!/^[\x21-\x7e]{8,512}$/.test(token)) throw new TokenError("the token part is missing or malformed (8 to 512 visible characters)");
  let uuid: string, code: string;
  try { uuid = validate.dbUuid(dbUuid); } catch { throw new TokenError("the database UUID in the token is missing or malformed"); }
  try { code = validate.enterpriseCode(enterpriseCode); } catch { throw new TokenError("the contract (enterprise) code in the token is missing or malformed"); }
  if (dbName !== null && !/^[\x20-\x7e]{1,128}$/.test(dbName)) throw new TokenError("the database name in the token is malformed");
  return { serverUrl, token, dbUuid: uuid, enterpriseCode: code, dbName };
}
