/**
 * The setup the terminal benches share: a test fleet, one terminal simulator on loopback TLS, the
 * box's HTTPS certificate, a keep-alive agent trusting the fleet root, and a direct client (the
 * floor: it holds the terminal key and talks to the simulator itself).
 */
import https from "node:https";
import { deriveNexoKeys } from "../../src/terminals/nexo-crypto";
import { createTerminalClient } from "../../src/terminals/terminal-client";
import { createTestFleet, terminalCn } from "../../tools/terminal-simulator/certs";
import { startTerminalSimulator } from "../../tools/terminal-simulator";

export const BENCH_KEY = { passphrase: "bench-passphrase-0123", keyIdentifier: "benchkey", keyVersion: 1 };

export async function startTerminalBench(poiid: string) {
  const fleet = createTestFleet();
  const sim = await startTerminalSimulator({ poiid, key: BENCH_KEY, cert: fleet.issue(terminalCn(poiid)) });
  const roots = [fleet.root.certPem];
  const boxCert = fleet.issue("box.test", { sanIp: "127.0.0.1" });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: roots });
  const keys = await deriveNexoKeys(BENCH_KEY.passphrase, BENCH_KEY.keyIdentifier, BENCH_KEY.keyVersion);
  const direct = createTerminalClient({ address: sim.address, poiid, keys }, roots);
  return {
    fleet, sim, roots, boxCert, agent, keys, direct,
    async dispose() { agent.destroy(); await sim.stop(); fleet.dispose(); },
  };
}
