/** One JSON request over HTTPS to a bench's server on loopback (an agent of the caller's: keep-alive, CA). */
import https from "node:https";

export type JsonCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; json: any }>;

export function jsonCaller(port: () => number, agent: https.Agent): JsonCall {
  return (method, path, body, headers = {}) => {
    const data = body === undefined ? "" : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port: port(), method, path, agent, headers: { ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}), ...headers } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
      });
      req.on("error", reject);
      req.end(data);
    });
  };
}
