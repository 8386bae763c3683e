// The reference the issue names: a bare hono app on Bun over HTTPS, answering the same JSON.
// Usage: bare-hono PORT CERT KEY BODYFILE
import { Hono } from "hono";
const [port, cert, key, bodyFile] = process.argv.slice(2);
const body = await Bun.file(bodyFile!).text();
const app = new Hono();
app.get("/api/status", (c) => c.body(body, 200, { "content-type": "application/json" }));
Bun.serve({ port: Number(port), hostname: "127.0.0.1", tls: { cert: await Bun.file(cert!).text(), key: await Bun.file(key!).text() }, fetch: app.fetch });
