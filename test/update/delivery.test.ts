// A look at the channel against real HTTP on 127.0.0.1: oversized (declared or streamed), missing,
// failing, unreachable, another device, newer or not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookAtChannel } from "../../src/update/delivery";
import { UpdateError } from "../../src/update/codes";

const running = { version: "0.2.0+g666093c81f", build: 1_764_000_000 };
const manifest = (o: Record<string, unknown> = {}) => JSON.stringify({ channel: "stable", version: "0.3.0+gabc", build: 1_765_000_000, compatible: "iotbox-raspberrypi-arm64", url: "files/b.raucb", size: 100, sha256: "b".repeat(64), ...o });
let answer: () => Response = () => new Response(manifest());
let server: ReturnType<typeof Bun.serve>, base: string;
beforeAll(() => { server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => answer() }); base = `http://127.0.0.1:${server.port}`; });
afterAll(() => server.stop(true));
const code = async (b = base) => { try { await lookAtChannel({ base: b, channel: "stable", running }); return "ok"; } catch (e) { return (e as UpdateError).code; } };

describe("a look at the channel", () => {
  test("newer → available, with the url resolved against the manifest's; the same → up to date", async () => {
    const r = await lookAtChannel({ base, channel: "stable", running });
    expect(r).toMatchObject({ kind: "available", manifest: { version: "0.3.0+gabc", url: `${base}/iot/updates/files/b.raucb` } });
    answer = () => new Response(manifest({ version: running.version, build: running.build }));
    expect((await lookAtChannel({ base, channel: "stable", running })).kind).toBe("up-to-date");
    answer = () => new Response(manifest({ version: "0.1.0" }));
    expect((await lookAtChannel({ base, channel: "stable", running })).kind).toBe("up-to-date");
  });
  test("oversized: declared, or streamed without a length; malformed; another device", async () => {
    answer = () => new Response(manifest({ pad: "x".repeat(200_000) }));
    expect(await code()).toBe("ERR_IOT_UPDATE_MANIFEST");
    answer = () => new Response(new ReadableStream({ start(c) { for (let i = 0; i < 100; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024))); c.close(); } }));
    expect(await code()).toBe("ERR_IOT_UPDATE_MANIFEST");
    answer = () => new Response("{not json");
    expect(await code()).toBe("ERR_IOT_UPDATE_MANIFEST");
    answer = () => new Response(manifest({ sha256: "nope" }));
    expect(await code()).toBe("ERR_IOT_UPDATE_MANIFEST");
    answer = () => new Response(manifest({ compatible: "iotbox-x86_64" }));
    expect(await code()).toBe("ERR_IOT_UPDATE_WRONG_DEVICE");
  });
  test("404 is a manifest problem; 5xx and a closed port are 'unreachable'; plain http elsewhere is refused before asking", async () => {
    answer = () => new Response("no", { status: 404 });
    expect(await code()).toBe("ERR_IOT_UPDATE_MANIFEST");
    answer = () => new Response("down", { status: 503 });
    expect(await code()).toBe("ERR_IOT_UPDATE_UNREACHABLE");
    expect(await code("http://127.0.0.1:1")).toBe("ERR_IOT_UPDATE_UNREACHABLE");
    expect(await code("http://192.0.2.1")).toBe("ERR_IOT_UPDATE_MANIFEST");
  });
});
