/**
 * The crash test: the certificate generation is replaced while the writing process is killed
 * (SIGKILL) at random moments, hundreds of times. After every kill the stored pair is valid:
 * the certificate parses, matches its key, and is one of the pairs that were being written.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCertificateStore } from "../../src/cert/store";
import { certInfo } from "../../src/cert/x509";
import { createTemporaryCertPem, generateKeyPem } from "../../src/cert/keygen";
import { makeBoxDir } from "../support/box-fixture";

const ROUNDS = Number(process.env.IOTBOX_CRASH_ROUNDS ?? 200);

test(`stored pair is always valid after ${ROUNDS} kills mid-write`, async () => {
  const box = makeBoxDir();
  try {
    const pairs = [];
    for (const id of ["aaaa0000", "bbbb1111", "cccc2222"]) {
      const keyPem = await generateKeyPem();
      pairs.push({ keyPem, chainPem: await createTemporaryCertPem(keyPem, { boxId: id, ips: [], now: new Date() }) });
    }
    const known = new Set(pairs.map((p) => certInfo(p.chainPem).fingerprint256));
    const pairsFile = join(box.root, "pairs.json");
    writeFileSync(pairsFile, JSON.stringify(pairs));
    const store = createCertificateStore(box.certDir);
    store.writeCurrent(pairs[0]!.keyPem, pairs[0]!.chainPem);
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const child = Bun.spawn([process.execPath, join(import.meta.dir, "crash-writer.ts"), box.certDir, pairsFile], { stdout: "pipe", stderr: "inherit" });
      const reader = child.stdout.getReader();
      await reader.read(); // "ready"
      await Bun.sleep(Math.random() * 15);
      child.kill("SIGKILL");
      await child.exited;
      const got = store.readCurrent();
      if (got.kind !== "ok") throw new Error(`round ${round}: stored pair unusable: ${JSON.stringify(got)}`);
      expect(known.has(got.gen.info.fingerprint256)).toBe(true);
      seen.add(got.gen.info.fingerprint256);
    }
    // The kills landed at different points of the write loop, not always on the same pair.
    expect(seen.size).toBeGreaterThan(1);
  } finally { box.cleanup(); }
}, 300_000);
