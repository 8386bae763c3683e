/**
 * A bundle host on 127.0.0.1 written over raw TCP, so a test decides exactly what goes on the
 * wire: cut the connection after N body bytes, ignore Range (answer 200 with everything), send
 * more than the file, answer another range.
 */
import { createServer, type Socket } from "node:net";

export interface Behaviour {
  /** Body bytes sent per response before the socket is destroyed (per request index, or the same for all). */
  cutAfter?: number | ((request: number) => number | null);
  ignoreRange?: boolean;
  /** Bytes appended to what the file holds (a server that sends more than it announced). */
  extra?: Uint8Array;
  /** Answer a range that starts elsewhere. */
  wrongRange?: boolean;
}

export interface BundleHost { url: (path?: string) => string; requests: Array<{ range: string | null }>; close: () => Promise<void>; set: (b: Behaviour) => void; file: Uint8Array }

export async function startBundleHost(file: Uint8Array, initial: Behaviour = {}): Promise<BundleHost> {
  let b = initial;
  const requests: Array<{ range: string | null }> = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let head = "";
    sock.on("data", (chunk) => {
      if (head.includes("\r\n\r\n")) return;
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const range = /\r\nrange:\s*bytes=(\d+)-\r\n/i.exec(head);
      const index = requests.push({ range: range ? `bytes=${range[1]}-` : null }) - 1;
      const body = Buffer.concat([Buffer.from(file), Buffer.from(b.extra ?? new Uint8Array())]);
      let start = range && !b.ignoreRange ? Number(range[1]) : 0;
      let status = "200 OK", extraHeaders = "";
      if (range && !b.ignoreRange) {
        if (start >= file.length) { sock.end("HTTP/1.1 416 Range Not Satisfiable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"); return; }
        const shown = b.wrongRange ? Math.max(0, start - 1) : start;
        start = shown;
        status = "206 Partial Content";
        extraHeaders = `content-range: bytes ${shown}-${file.length - 1}/${file.length}\r\n`;
      }
      const part = body.subarray(start);
      sock.write(`HTTP/1.1 ${status}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${part.length}\r\n${extraHeaders}accept-ranges: bytes\r\nconnection: close\r\n\r\n`);
      const cut = typeof b.cutAfter === "function" ? b.cutAfter(index) : b.cutAfter ?? null;
      // `cut` bytes, a pause (as on a line that goes dead), then FIN: Bun's fetch drops a body
      // chunk that arrives together with the close, and a reset makes the kernel drop unread bytes.
      if (cut !== null && cut < part.length) { sock.write(part.subarray(0, cut)); setTimeout(() => sock.end(), 30); return; }
      sock.end(part);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: (path = "/iot/updates/files/bundle.raucb") => `http://127.0.0.1:${port}${path}`,
    requests, file,
    set: (x) => { b = x; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
