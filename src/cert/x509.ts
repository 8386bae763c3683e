/**
 * Reading and checking certificates with node:crypto's X509Certificate (parse, key match,
 * validity, host name). Making keys, CSRs and the placeholder is in keygen.ts.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";

export const TEMPORARY_MARK = " temporary, O=iotbox";

export interface CertInfo {
  subject: string;          // the CN, e.g. "*.d73e7513.iot.example"
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  temporary: boolean;
  sans: string[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN ((?:RSA |EC )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

export function splitCerts(pem: string): string[] {
  return pem.match(PEM_CERT) ?? [];
}
export function findKey(pem: string): string | null {
  return pem.match(PEM_KEY)?.[0] ?? null;
}

export function certInfo(leafPem: string): CertInfo {
  const c = new X509Certificate(leafPem);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? c.subject;
  return {
    subject: cn,
    issuer: /(?:^|\n)CN=([^\n]*)/.exec(c.issuer)?.[1] ?? c.issuer,
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    fingerprint256: c.fingerprint256,
    temporary: c.subject.includes("O=iotbox") && c.subject.includes("temporary"),
    sans: (c.subjectAltName ?? "").split(/,\s*/).filter(Boolean),
  };
}

export class ReplyRejected extends Error {}

/**
 * How far in the future a new certificate's notBefore may be. A Raspberry Pi has no clock of its
 * own: until NTP answers, the box's time may lag, and some CAs (Pebble) stamp notBefore with the
 * second of issuance without backdating it. Found by the QEMU test: a certificate issued 40 ms
 * "in the future" was refused and the box waited a minute for the next try.
 */
export const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * Check a certificate chain and key before we use them: it parses, matches the key, is valid
 * now (notBefore up to CLOCK_SKEW_MS ahead of the box's clock is accepted) and covers the
 * name. Throws ReplyRejected with a human reason otherwise.
 */
export function verifyPair(chainPem: string, keyPem: string, opts: { now: Date; host?: string }): CertInfo {
  const certs = splitCerts(chainPem);
  if (certs.length === 0) throw new ReplyRejected("the reply holds no PEM certificate");
  let leaf: X509Certificate;
  try { leaf = new X509Certificate(certs[0]!); } catch (e) { throw new ReplyRejected(`the certificate does not parse (${(e as Error).message})`); }
  let key;
  try { key = createPrivateKey(keyPem); } catch (e) { throw new ReplyRejected(`the private key does not parse (${(e as Error).message})`); }
  if (!leaf.checkPrivateKey(key)) throw new ReplyRejected("the certificate does not match the box's private key");
  const info = certInfo(certs[0]!);
  if (opts.now.getTime() + CLOCK_SKEW_MS < info.notBefore.getTime()) throw new ReplyRejected(`the certificate is not valid yet (from ${info.notBefore.toISOString()}; is the box's clock right?)`);
  if (opts.now >= info.notAfter) throw new ReplyRejected(`the certificate has expired (${info.notAfter.toISOString()})`);
  if (opts.host && !leaf.checkHost(opts.host)) throw new ReplyRejected(`the certificate does not cover ${opts.host} (it names ${info.sans.join(", ") || info.subject})`);
  return info;
}

/** The box's HTTPS name: its IPv4 with dashes, under the subject without the "*.". */
export function boxHostName(subjectCn: string, ipv4: string): string | null {
  const base = subjectCn.replace(/^\*\./, "");
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ipv4) || !base || base.includes("*")) return null;
  return `${ipv4.replaceAll(".", "-")}.${base}`;
}
