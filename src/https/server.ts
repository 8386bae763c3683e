/**
 * The box serves HTTP and HTTPS itself. A new certificate is swapped in without a restart and
 * without dropping requests in flight: a second HTTPS listener with the new pair binds the same
 * port (SO_REUSEPORT), then the old one stops accepting and finishes what it has.
 * (Bun 1.4's `server.reload({tls})` does not change the certificate; this does, and is tested.)
 */
import type { Server } from "bun";
import type { Logger } from "../log/index";

export interface TlsPair { keyPem: string; chainPem: string }
export interface ServersOptions {
  httpPort: number;
  httpsPort: number;
  hostname?: string;
  fetch: (req: Request, server: Server<undefined>) => Response | Promise<Response>;
  tls: TlsPair;
  logger: Logger;
}

export function startServers(o: ServersOptions) {
  const common = { hostname: o.hostname ?? "0.0.0.0", fetch: o.fetch, idleTimeout: 30, maxRequestBodySize: 1 << 20,
    error: (e: Error) => { o.logger.error("unhandled request error", { error: e.message }); return new Response("Internal error", { status: 500 }); } };
  const http = Bun.serve({ ...common, port: o.httpPort });
  const listen = (pair: TlsPair, port: number) =>
    Bun.serve({ ...common, port, reusePort: true, tls: { key: pair.keyPem, cert: pair.chainPem } });
  let https = listen(o.tls, o.httpsPort);
  const httpsPort = https.port!;
  let swapping: Promise<void> = Promise.resolve();

  return {
    httpPort: http.port!,
    httpsPort,
    /** Serve a new pair from now on; connections on the old listener finish normally. */
    swap(pair: TlsPair): Promise<void> {
      swapping = swapping.then(async () => {
        const next = listen(pair, httpsPort);
        const old = https;
        https = next;
        await old.stop(false);
        o.logger.info("https certificate swapped", { port: httpsPort });
      }).catch((e) => { o.logger.error("https swap failed; still serving the previous certificate", { error: (e as Error).message }); });
      return swapping;
    },
    async stop(force = false) { await Promise.all([http.stop(force), https.stop(force)]); },
  };
}
export type Servers = ReturnType<typeof startServers>;
