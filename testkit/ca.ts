// A throw-away certificate authority for tests: its root goes into NODE_EXTRA_CA_CERTS (or a
// fetch `tls.ca`), and it issues leaf certificates for loopback listeners (Pebble, the DNSimple
// double, the provisioner). Made with the openssl command line, run with argument arrays.
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssuedCert {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

export interface TestCA {
  certPem: string;
  keyPem: string;
  /** The CA certificate as a file: for NODE_EXTRA_CA_CERTS. */
  certFile: string;
  /** The temp dir holding every file this CA wrote. */
  dir: string;
  /** A leaf certificate (ECDSA P-256, serverAuth) for these DNS names and IP addresses. */
  issue(names: string[], ips?: string[]): IssuedCert;
  /** Remove the temp dir. */
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString().trim()}`);
}

const SAFE_NAME = /^(\*\.)?[a-zA-Z0-9.-]{1,253}$/;
const SAFE_IP = /^[0-9a-fA-F:.]{2,45}$/;

export function createTestCA(opts: { name?: string } = {}): TestCA {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-testca-"));
  const certFile = join(dir, "ca.crt");
  const keyFile = join(dir, "ca.key");
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile], dir);
  openssl(["req", "-x509", "-new", "-key", keyFile, "-sha256", "-days", "30", "-out", certFile,
    "-subj", `/CN=${opts.name ?? "iotbox test CA"} ${Math.random().toString(36).slice(2, 8)}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  let serial = 1;
  return {
    certPem: readFileSync(certFile, "utf8"),
    keyPem: readFileSync(keyFile, "utf8"),
    certFile,
    dir,
    issue(names, ips = []) {
      for (const n of names) if (!SAFE_NAME.test(n)) throw new Error(`createTestCA.issue: bad DNS name ${JSON.stringify(n)}`);
      for (const ip of ips) if (!SAFE_IP.test(ip)) throw new Error(`createTestCA.issue: bad IP ${JSON.stringify(ip)}`);
      const n = serial++;
      const leafKey = join(dir, `leaf${n}.key`);
      const leafCsr = join(dir, `leaf${n}.csr`);
      const leafCert = join(dir, `leaf${n}.crt`);
      const ext = join(dir, `leaf${n}.ext`);
      const san = [...names.map((x) => `DNS:${x}`), ...ips.map((x) => `IP:${x}`)].join(",");
      writeFileSync(ext, [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        ...(san ? [`subjectAltName=${san}`] : []),
        "",
      ].join("\n"));
      openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", leafKey], dir);
      openssl(["req", "-new", "-key", leafKey, "-out", leafCsr, "-subj", `/CN=${names[0] ?? ips[0] ?? "leaf"}`], dir);
      openssl(["x509", "-req", "-in", leafCsr, "-CA", certFile, "-CAkey", keyFile, "-set_serial", String(1000 + n),
        "-days", "30", "-sha256", "-extfile", ext, "-out", leafCert], dir);
      return { certPem: readFileSync(leafCert, "utf8"), keyPem: readFileSync(leafKey, "utf8"), certFile: leafCert, keyFile: leafKey };
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}
