/**
 * Adyen local Terminal API message protection (NexoBlob + SecurityTrailer), with WebCrypto only.
 *
 * Key material: PBKDF2-HMAC-SHA1(passphrase, "AdyenNexoV1Salt", 4000 iterations) -> 80 bytes:
 * 0-31 HMAC-SHA256 key, 32-63 AES-256 key, 64-79 IV. Per message a random 16-byte nonce is
 * XORed into the IV; the HMAC covers the plaintext and is checked in constant time after
 * decrypting. The derived keys are non-extractable CryptoKeys: they cannot end up in a log.
 */
import { TerminalError } from "./errors";

export interface NexoKeys {
  keyIdentifier: string;
  keyVersion: number;
  hmacKey: CryptoKey;
  aesKey: CryptoKey;
  iv: Uint8Array<ArrayBuffer>;
}

export interface SecurityTrailer {
  AdyenCryptoVersion: number;
  KeyIdentifier: string;
  KeyVersion: number;
  Nonce: string;
  Hmac: string;
}

/** The wire form of one direction: `{ SaleToPOIRequest: SecuredMessage }` or `{ SaleToPOIResponse: ... }`. */
export interface SecuredMessage {
  MessageHeader: Record<string, unknown>;
  NexoBlob: string;
  SecurityTrailer: SecurityTrailer;
}

const SALT = new TextEncoder().encode("AdyenNexoV1Salt");
const subtle = globalThis.crypto.subtle;

/** Passphrases must be printable ASCII: libraries disagree on how to encode anything else. */
export function isAsciiPassphrase(p: string): boolean {
  return /^[\x20-\x7e]{1,128}$/.test(p);
}

export async function deriveNexoKeys(passphrase: string, keyIdentifier: string, keyVersion: number): Promise<NexoKeys> {
  if (!isAsciiPassphrase(passphrase)) throw new TerminalError("passphrase_invalid", "The passphrase must be 1-128 printable ASCII characters.", 400);
  const base = await subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveBits"]);
  const bits = new Uint8Array(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: SALT, iterations: 4000 }, base, 80 * 8));
  const hmacKey = await subtle.importKey("raw", bits.slice(0, 32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const aesKey = await subtle.importKey("raw", bits.slice(32, 64), { name: "AES-CBC" }, false, ["encrypt", "decrypt"]);
  const iv = bits.slice(64, 80);
  bits.fill(0);
  return { keyIdentifier, keyVersion, hmacKey, aesKey, iv };
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
const unb64 = (s: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(s, "base64"));

function ivFor(keys: NexoKeys, nonce: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = keys.iv[i]! ^ nonce[i]!;
  return out;
}

/** Constant time for equal lengths: every byte is looked at whatever the first difference. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Encrypts the whole `{"SaleToPOIRequest":{...}}` (or Response) JSON text. */
export async function encryptNexo(plaintextJson: string, header: Record<string, unknown>, keys: NexoKeys): Promise<SecuredMessage> {
  const plain = new TextEncoder().encode(plaintextJson);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const [cipher, mac] = await Promise.all([
    subtle.encrypt({ name: "AES-CBC", iv: ivFor(keys, nonce) }, keys.aesKey, plain),
    subtle.sign("HMAC", keys.hmacKey, plain),
  ]);
  return {
    MessageHeader: header,
    NexoBlob: b64(new Uint8Array(cipher)),
    SecurityTrailer: {
      AdyenCryptoVersion: 1,
      KeyIdentifier: keys.keyIdentifier,
      KeyVersion: keys.keyVersion,
      Nonce: b64(nonce),
      Hmac: b64(new Uint8Array(mac)),
    },
  };
}

const cryptoError = (message: string) => new TerminalError("crypto_error", message, 502);

/** Returns the decrypted JSON text; throws `crypto_error` for anything that does not verify. */
export async function decryptNexo(msg: SecuredMessage, keys: NexoKeys): Promise<string> {
  const t = msg?.SecurityTrailer;
  if (!t || typeof msg.NexoBlob !== "string" || typeof t.Nonce !== "string" || typeof t.Hmac !== "string") {
    throw cryptoError("The message has no NexoBlob/SecurityTrailer.");
  }
  if (t.KeyIdentifier !== keys.keyIdentifier || Number(t.KeyVersion) !== keys.keyVersion) {
    throw cryptoError(`The message is protected with key ${String(t.KeyIdentifier)} v${String(t.KeyVersion)}, not the configured ${keys.keyIdentifier} v${keys.keyVersion}.`);
  }
  const nonce = unb64(t.Nonce);
  if (nonce.length !== 16) throw cryptoError("The nonce is not 16 bytes.");
  let plain: Uint8Array<ArrayBuffer>;
  try {
    plain = new Uint8Array(await subtle.decrypt({ name: "AES-CBC", iv: ivFor(keys, nonce) }, keys.aesKey, unb64(msg.NexoBlob)));
  } catch {
    throw cryptoError("The NexoBlob does not decrypt with the configured key (wrong passphrase?).");
  }
  const expected = new Uint8Array(await subtle.sign("HMAC", keys.hmacKey, plain));
  if (!constantTimeEqual(expected, unb64(t.Hmac))) throw cryptoError("The HMAC does not match (wrong passphrase or altered message).");
  try { return new TextDecoder("utf-8", { fatal: true }).decode(plain); } catch { throw cryptoError("The decrypted message is not UTF-8."); }
}

/** Wraps a clear `{ SaleToPOIRequest | SaleToPOIResponse: {...} }` for the wire. */
export async function protect(message: Record<string, { MessageHeader: Record<string, unknown> }>, keys: NexoKeys): Promise<string> {
  const [kind] = Object.keys(message);
  if (kind !== "SaleToPOIRequest" && kind !== "SaleToPOIResponse") throw new TerminalError("internal", "Not a nexo message.");
  const secured = await encryptNexo(JSON.stringify(message), message[kind]!.MessageHeader, keys);
  return JSON.stringify({ [kind]: secured });
}

/** The reverse of `protect`: parses the wire text, decrypts, and returns the clear message. */
export async function unprotect(wire: string, keys: NexoKeys): Promise<Record<string, any>> {
  let outer: any;
  try { outer = JSON.parse(wire); } catch { throw cryptoError("The reply is not JSON."); }
  const kind = outer && typeof outer === "object" ? Object.keys(outer)[0] : undefined;
  if (kind !== "SaleToPOIRequest" && kind !== "SaleToPOIResponse") throw cryptoError("The reply is not a nexo message.");
  const text = await decryptNexo(outer[kind], keys);
  let inner: any;
  // No parser message here: it could quote decrypted content (card data) into a log.
  try { inner = JSON.parse(text); } catch { throw cryptoError("The decrypted message is not JSON."); }
  if (!inner || typeof inner !== "object" || !inner[kind]) throw cryptoError("The decrypted message is not the same kind as its envelope.");
  return inner;
}
