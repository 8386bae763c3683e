/**
 * A new certificate is served without a restart and without dropping requests in flight.
 * Real TLS on loopback; the client trusts exactly the certificate it expects.
 */
import { expect, test } from "bun:test";
import { connect } from "node:tls";
import { startServers } from "../../src/https/server";
import { certInfo } from "../../src/cert/x509";
import { createTemporaryCertPem, generateKeyPem } from "../../src/cert/keygen";
import { silentLogger } from "../../src/log/index";

async function pair(id: string) {
  const keyPem = await generateKeyPem();
  const chainPem = await createTemporaryCertPem(keyPem, { boxId: id, ips: ["127.0.0.1"], now: new Date() });
  return { keyPem, chainPem };
}

/** The fingerprint the server presents to a new connection. */
function presented(port: number, trust: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca: trust, servername: "localhost" }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on("error", reject);
  });
}

test("swap serves the new pair to new connections while a slow request on the old one completes", async () => {
  const a = await pair("aaaa1111"), b = await pair("bbbb2222");
  const servers = startServers({
    httpPort: 0, httpsPort: 0, hostname: "127.0.0.1", tls: a, logger: silentLogger(),
    fetch: async (req) => { if (new URL(req.url).pathname === "/slow") await Bun.sleep(1500); return new Response("done"); },
  });
  try {
    const trust = [a.chainPem, b.chainPem];
    expect(await presented(servers.httpsPort, trust)).toBe(certInfo(a.chainPem).fingerprint256);
    const slow = fetch(`https://127.0.0.1:${servers.httpsPort}/slow`, { tls: { ca: [a.chainPem], } } as RequestInit);
    await Bun.sleep(200);
    await Promise.all([servers.swap(b), Bun.sleep(50)]);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(await presented(servers.httpsPort, trust));
    expect([...seen]).toEqual([certInfo(b.chainPem).fingerprint256]);
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("done");
  } finally { await servers.stop(true); }
}, 15_000);

test("requests keep succeeding across repeated swaps under load", async () => {
  const pairs = await Promise.all(["c1", "c2", "c3"].map((x) => pair(`${x}cccccc`)));
  const servers = startServers({ httpPort: 0, httpsPort: 0, hostname: "127.0.0.1", tls: pairs[0]!, logger: silentLogger(), fetch: () => new Response("ok") });
  try {
    const trust = pairs.map((p) => p.chainPem);
    let ok = 0, failed = 0, stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          const r = await fetch(`https://127.0.0.1:${servers.httpsPort}/`, { tls: { ca: trust, } } as RequestInit);
          if (r.status === 200 && (await r.text()) === "ok") ok++; else failed++;
        } catch { failed++; }
      }
    })();
    for (let i = 0; i < 6; i++) { await Bun.sleep(150); await servers.swap(pairs[(i + 1) % 3]!); }
    stop = true;
    await load;
    expect(ok).toBeGreaterThan(20);
    expect(failed).toBe(0);
  } finally { await servers.stop(true); }
}, 20_000);
