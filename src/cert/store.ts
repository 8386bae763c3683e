/**
 * The certificate store. A generation (private key + certificate chain) lives in ONE file,
 * written atomically with mode 0600: a kill -9 or power cut at any instant leaves either the
 * old pair or the new pair, never a new certificate beside an old key.
 *   cert/current.pem      the real certificate generation in use
 *   cert/temporary.pem    the self-signed placeholder served until a real one exists
 *   cert/pending-key.pem  the key whose CSR is out at the service (reused until a cert lands)
 */
import { existsSync, readFileSync, readdirSync, unlinkSync, renameSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, fsyncDir } from "../fs/atomic";
import { certInfo, findKey, splitCerts, verifyPair, type CertInfo } from "./x509";

export interface Generation { keyPem: string; chainPem: string; info: CertInfo }
export type ReadResult = { kind: "ok"; gen: Generation } | { kind: "missing" } | { kind: "unreadable"; reason: string };

export function createCertificateStore(certDir: string) {
  const current = join(certDir, "current.pem");
  const temporary = join(certDir, "temporary.pem");
  const pending = join(certDir, "pending-key.pem");

  // Temporary files of writes cut short by a crash are debris: the rename never happened.
  try { for (const f of readdirSync(certDir)) if (/^\..+\.tmp-/.test(f)) unlinkSync(join(certDir, f)); } catch {}

  const readGen = (path: string): ReadResult => {
    if (!existsSync(path)) return { kind: "missing" };
    try {
      const text = readFileSync(path, "utf8");
      const keyPem = findKey(text);
      const chain = splitCerts(text);
      if (!keyPem) return { kind: "unreadable", reason: "no private key in the file" };
      if (chain.length === 0) return { kind: "unreadable", reason: "no certificate in the file" };
      const chainPem = chain.join("\n") + "\n";
      // Parse and check the key matches; validity dates are judged by the policy, not here.
      verifyPair(chainPem, keyPem, { now: certInfo(chain[0]!).notBefore });
      return { kind: "ok", gen: { keyPem, chainPem, info: certInfo(chain[0]!) } };
    } catch (e) {
      return { kind: "unreadable", reason: (e as Error).message };
    }
  };

  const writeGen = (path: string, keyPem: string, chainPem: string) =>
    writeFileAtomic(path, `${keyPem.trim()}\n${chainPem.trim()}\n`, 0o600);

  return {
    paths: { current, temporary, pending },
    readCurrent: () => readGen(current),
    readTemporary: () => readGen(temporary),
    writeCurrent: (keyPem: string, chainPem: string) => writeGen(current, keyPem, chainPem),
    writeTemporary: (keyPem: string, chainPem: string) => writeGen(temporary, keyPem, chainPem),
    /** Keep an unreadable file for the log bundle instead of overwriting it blindly. */
    quarantineCurrent(now: Date) {
      if (!existsSync(current)) return;
      renameSync(current, `${current}.unreadable-${now.toISOString().replace(/[:.]/g, "")}`);
      fsyncDir(certDir);
    },
    readPendingKey(): string | null {
      try { const k = findKey(readFileSync(pending, "utf8")); return k; } catch { return null; }
    },
    writePendingKey: (keyPem: string) => writeFileAtomic(pending, keyPem.trim() + "\n", 0o600),
    clearPendingKey() { try { unlinkSync(pending); fsyncDir(certDir); } catch {} },
  };
}
export type CertificateStore = ReturnType<typeof createCertificateStore>;
