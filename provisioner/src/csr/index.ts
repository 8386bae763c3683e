// A box's certificate signing request: parsed, its self-signature verified, its key type and
// names checked. The key is what matters; the names are either the box's placeholder
// (`iotbox-<box_id>`: it does not know its DNS name before the first reply) or exactly the
// names the service would issue (then the CSR can go to the CA as it is).
import "reflect-metadata";
import { createHash, createPublicKey } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { badRequest } from "../rpc";

x509.cryptoProvider.set(globalThis.crypto);

const PLACEHOLDER = /^iotbox-[a-z0-9]{8,32}$/;

export interface CheckedCsr {
  pem: string;
  /** sha256 of the SubjectPublicKeyInfo: which key a stored certificate belongs to. */
  keyFingerprint: string;
  keyType: string;
  /** True when the CSR names exactly the issued names, so the CA can take it. */
  namesMatch: boolean;
}

export async function checkCsr(pem: string, wanted: { wildcard: string; base: string }): Promise<CheckedCsr> {
  const blocks = pem.match(/-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+?-----END (NEW )?CERTIFICATE REQUEST-----/g);
  if (!blocks || blocks.length !== 1) throw badRequest("params.csr must hold one PEM certificate request.");
  let req: x509.Pkcs10CertificateRequest;
  try { req = new x509.Pkcs10CertificateRequest(blocks[0]!); } catch { throw badRequest("params.csr cannot be parsed."); }
  let valid = false;
  try { valid = await req.verify(); } catch { valid = false; }
  if (!valid) throw badRequest("params.csr's signature does not verify.");

  const spki = Buffer.from(req.publicKey.rawData);
  let keyType: string;
  try {
    const key = createPublicKey({ key: spki, format: "der", type: "spki" });
    const d = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === "ec" && (d.namedCurve === "prime256v1" || d.namedCurve === "secp384r1")) keyType = `ecdsa-${d.namedCurve === "prime256v1" ? "p256" : "p384"}`;
    else if (key.asymmetricKeyType === "rsa" && (d.modulusLength ?? 0) >= 2048 && (d.modulusLength ?? 0) <= 4096) keyType = `rsa-${d.modulusLength}`;
    else throw new Error("key type");
  } catch {
    throw badRequest("params.csr's key type is not allowed: use ECDSA P-256 or P-384, or RSA 2048 to 4096 bits.");
  }

  const names = new Set<string>();
  for (const rdn of req.subjectName.getField("CN")) names.add(rdn.toLowerCase());
  const san = req.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  for (const n of san?.names.items ?? []) {
    if (n.type !== "dns") throw badRequest("params.csr may name DNS names only (no IP, e-mail or URI).");
    names.add(n.value.toLowerCase());
  }
  const allowed = new Set([wanted.wildcard, wanted.base]);
  for (const n of names) {
    if (!allowed.has(n) && !PLACEHOLDER.test(n)) throw badRequest(`params.csr names ${JSON.stringify(n.slice(0, 80))}, which this box may not have.`);
  }
  const namesMatch = names.size === 2 && names.has(wanted.wildcard) && names.has(wanted.base);
  return { pem: blocks[0]!, keyFingerprint: createHash("sha256").update(spki).digest("hex"), keyType, namesMatch };
}

/** The SPKI fingerprint of a certificate's key (to check a reply against a CSR). */
export function certificateKeyFingerprint(certPem: string): string {
  const cert = new x509.X509Certificate(certPem);
  return createHash("sha256").update(Buffer.from(cert.publicKey.rawData)).digest("hex");
}

/**
 * checkCsr with a bounded memo: a box sends the same CSR until it installs a certificate, and
 * parsing plus signature verification is the costliest step of a repeat request. The key is
 * the exact text and the wanted names, so a cached answer is the answer checkCsr would give.
 */
export function createCsrChecker(max: number) {
  const memo = new Map<string, Promise<CheckedCsr>>();
  return (pem: string, wanted: { wildcard: string; base: string }): Promise<CheckedCsr> => {
    const key = createHash("sha256").update(`${wanted.wildcard}\n${wanted.base}\n${pem}`).digest("hex");
    let p = memo.get(key);
    if (!p) {
      p = checkCsr(pem, wanted);
      memo.set(key, p);
      if (memo.size > max) memo.delete(memo.keys().next().value!);
    }
    return p;
  };
}
