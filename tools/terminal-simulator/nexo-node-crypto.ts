/**
 * The simulator's own NexoBlob implementation, on node:crypto (like Adyen's libraries), kept
 * apart from the box's WebCrypto one so a bug in one is not mirrored in the other.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export interface SimKey { passphrase: string; keyIdentifier: string; keyVersion: number }
interface Derived { hmac: Buffer; cipher: Buffer; iv: Buffer }

const cache = new Map<string, Derived>();
function derive(passphrase: string): Derived {
  let d = cache.get(passphrase);
  if (!d) {
    const k = pbkdf2Sync(Buffer.from(passphrase, "latin1"), Buffer.from("AdyenNexoV1Salt", "latin1"), 4000, 80, "sha1");
    d = { hmac: k.subarray(0, 32), cipher: k.subarray(32, 64), iv: k.subarray(64, 80) };
    cache.set(passphrase, d);
  }
  return d;
}

const xorIv = (iv: Buffer, nonce: Buffer) => Buffer.from(iv.map((b, i) => b ^ nonce[i]!));

export function simEncrypt(kind: "SaleToPOIRequest" | "SaleToPOIResponse", message: any, key: SimKey): string {
  const d = derive(key.passphrase);
  const plain = Buffer.from(JSON.stringify({ [kind]: message }), "utf8");
  const nonce = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", d.cipher, xorIv(d.iv, nonce));
  const blob = Buffer.concat([c.update(plain), c.final()]);
  return JSON.stringify({ [kind]: {
    MessageHeader: message.MessageHeader,
    NexoBlob: blob.toString("base64"),
    SecurityTrailer: { AdyenCryptoVersion: 1, KeyIdentifier: key.keyIdentifier, KeyVersion: key.keyVersion,
      Nonce: nonce.toString("base64"), Hmac: createHmac("sha256", d.hmac).update(plain).digest("base64") },
  } });
}

/** Returns the clear `{SaleToPOIRequest:{...}}`, or null when the message does not verify. */
export function simDecrypt(wire: string, key: SimKey): any | null {
  try {
    const outer = JSON.parse(wire);
    const kind = Object.keys(outer)[0]!;
    const m = outer[kind];
    const t = m.SecurityTrailer;
    if (t.KeyIdentifier !== key.keyIdentifier || t.KeyVersion !== key.keyVersion) return null;
    const d = derive(key.passphrase);
    const dc = createDecipheriv("aes-256-cbc", d.cipher, xorIv(d.iv, Buffer.from(t.Nonce, "base64")));
    const plain = Buffer.concat([dc.update(Buffer.from(m.NexoBlob, "base64")), dc.final()]);
    const mac = createHmac("sha256", d.hmac).update(plain).digest();
    const got = Buffer.from(t.Hmac, "base64");
    if (got.length !== mac.length || !timingSafeEqual(got, mac)) return null;
    return JSON.parse(plain.toString("utf8"));
  } catch {
    return null;
  }
}
