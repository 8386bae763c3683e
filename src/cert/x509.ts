/**
 * Keys, CSRs and certificates, through libraries only: @peculiar/webcrypto + @peculiar/x509
 * to make keys, CSRs and the temporary self-signed certificate; node:crypto's X509Certificate
 * to parse and check what a server sends (key match, validity, host name).
 */
import "reflect-metadata"; // @peculiar/x509 (tsyringe) needs it, before its import
import { Crypto } from "@peculiar/webcrypto";
import * as x509 from "@peculiar/x509";
import { X509Certificate, createPrivateKey, randomBytes } from "node:crypto";

const webcrypto = new Crypto();
x509.cryptoProvider.set(webcrypto as unknown as globalThis.Crypto);
const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function generateKeyPem(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

async function importEcKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const priv = createPrivateKey(keyPem);
  const pkcs8 = priv.export({ type: "pkcs8", format: "der" });
  const spki = (await import("node:crypto")).createPublicKey(priv).export({ type: "spki", format: "der" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, EC, true, ["verify"]);
  return { privateKey, publicKey } as CryptoKeyPair;
}

/** A CSR for the box's own key. The service puts its own names in the certificate. */
export async function createCsrPem(keyPem: string, commonName: string): Promise<string> {
  const keys = await importEcKeyPair(keyPem);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: EC,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: commonName }])],
  });
  return csr.toString("pem");
}

/** The placeholder served before a real certificate exists (names: the box's IP and id). */
export async function createTemporaryCertPem(keyPem: string, opts: { boxId: string; ips: string[]; now: Date }): Promise<string> {
  const keys = await importEcKeyPair(keyPem);
  const sans: x509.JsonGeneralName[] = [{ type: "dns", value: `iotbox-${opts.boxId}` }, { type: "dns", value: "localhost" }];
  for (const ip of opts.ips) sans.push({ type: "ip", value: ip });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex").replace(/^[89a-f]/, "1"),
    name: `CN=iotbox-${opts.boxId} temporary, O=iotbox`,
    notBefore: new Date(opts.now.getTime() - 3600_000),
    notAfter: new Date(opts.now.getTime() + 825 * 86_400_000),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
    ],
  });
  return cert.toString("pem");
}

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
 * Check a certificate chain and key before we use them: it parses, matches the key, is valid
 * now and covers the name. Throws ReplyRejected with a human reason otherwise.
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
  if (opts.now < info.notBefore) throw new ReplyRejected(`the certificate is not valid yet (from ${info.notBefore.toISOString()})`);
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
