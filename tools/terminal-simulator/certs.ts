/**
 * A test terminal fleet: a root CA of our own and terminal certificates issued from it, made
 * with the openssl command (argument arrays, no shell). Real terminals carry a certificate from
 * Adyen's fleet root with CN `<POIID>.(test|live).terminal.adyen.com`; these mimic that shape.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pem { certPem: string; keyPem: string }

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

export interface TestFleet {
  root: Pem;
  /** A terminal certificate signed by this fleet's root. `sanIp` adds an IP SAN (to prove the CN check does not lean on hostname checks). */
  issue(cn: string, opts?: { sanIp?: string; days?: number }): Pem;
  dispose(): void;
}

export function createTestFleet(name = "Test Terminal Fleet Root"): TestFleet {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-fleet-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650", "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  const root = { certPem: readFileSync(join(dir, "ca.pem"), "utf8"), keyPem: readFileSync(join(dir, "ca.key"), "utf8") };
  let n = 0;
  return {
    root,
    issue(cn, opts = {}) {
      const id = `leaf${++n}`;
      const ext = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth"];
      if (opts.sanIp) ext.push(`subjectAltName=IP:${opts.sanIp}`);
      writeFileSync(join(dir, `${id}.ext`), ext.join("\n") + "\n");
      openssl(["req", ...ec, "-keyout", `${id}.key`, "-out", `${id}.csr`, "-subj", `/CN=${cn}`], dir);
      openssl(["x509", "-req", "-in", `${id}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", String(Date.now() * 100 + n),
        "-days", String(opts.days ?? 365), "-extfile", `${id}.ext`, "-out", `${id}.pem`], dir);
      return { certPem: readFileSync(join(dir, `${id}.pem`), "utf8"), keyPem: readFileSync(join(dir, `${id}.key`), "utf8") };
    },
    dispose() { rmSync(dir, { recursive: true, force: true }); },
  };
}

export const terminalCn = (poiid: string, env: "test" | "live" = "test") => `${poiid}.${env}.terminal.adyen.com`;
