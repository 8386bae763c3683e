/**
 * What really stopped a TCP connection. Bun's `node:net` reports every failed connect as
 * ECONNREFUSED, whether a reset, an ICMP "administratively prohibited" or "network unreachable"
 * came back. After such a failure the probe asks once more through libc (bun:ffi): a
 * non-blocking connect() whose SO_ERROR is the kernel's real errno, and, when the process may
 * open one (root, as the runtime runs), a raw ICMP socket that catches the "destination
 * unreachable" for that very connection: its code and which hop sent it. Only on failure, so a
 * healthy run opens nothing more. Nothing here is loaded before it is called.
 */
import type { ConnectFailure } from "./report";

const AF_INET = 2, SOCK_STREAM = 1, SOCK_RAW = 3, SOCK_NONBLOCK = 0o4000, IPPROTO_ICMP = 1;
const SOL_SOCKET = 1, SO_ERROR = 4, POLLOUT = 4, MSG_DONTWAIT = 0x40, EINPROGRESS = 115;
const ERRNO: Record<number, string> = { 1: "EPERM", 13: "EACCES", 101: "ENETUNREACH", 104: "ECONNRESET", 110: "ETIMEDOUT", 111: "ECONNREFUSED", 113: "EHOSTUNREACH" };
/** ICMP destination-unreachable codes (RFC 792, RFC 1812). */
export const ICMP_UNREACH: Record<number, string> = {
  0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
  9: "network administratively prohibited", 10: "host administratively prohibited", 13: "administratively prohibited",
};

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

function openLibc() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dlopen, FFIType: T, ptr, read } = require("bun:ffi") as typeof import("bun:ffi");
  const lib = dlopen("libc.so.6", {
    socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
    connect: { args: [T.i32, T.ptr, T.u32], returns: T.i32 },
    poll: { args: [T.ptr, T.u64, T.i32], returns: T.i32 },
    getsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.ptr], returns: T.i32 },
    getsockname: { args: [T.i32, T.ptr, T.ptr], returns: T.i32 },
    recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
    close: { args: [T.i32], returns: T.i32 },
    __errno_location: { args: [], returns: T.ptr },
  });
  return { f: lib.symbols, ptr, errno: () => read.i32(lib.symbols.__errno_location()!, 0) };
}

const sockaddr = (ip: string, port: number) => {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint16(0, AF_INET, true);
  new DataView(b.buffer).setUint16(2, port, false);
  ip.split(".").forEach((x, i) => { b[4 + i] = Number(x); });
  return b;
};

/** Read every queued ICMP "destination unreachable" about our connection (ours = our source port to ip:port). */
function icmpFor(l: Libc, raw: number, ip: string, port: number, localPort: number): ConnectFailure["icmp"] {
  const buf = new Uint8Array(1500);
  for (let i = 0; i < 64; i++) {
    const n = Number(l.f.recv(raw, l.ptr(buf), buf.length, MSG_DONTWAIT));
    if (n <= 0) return undefined;
    const ihl = (buf[0]! & 0x0f) * 4;
    const type = buf[ihl]!, code = buf[ihl + 1]!;
    const inner = ihl + 8, innerIhl = (buf[inner]! & 0x0f) * 4;
    if (type !== 3 || n < inner + innerIhl + 4) continue;
    const dst = [...buf.subarray(inner + 16, inner + 20)].join(".");
    const dv = new DataView(buf.buffer);
    if (dst !== ip || dv.getUint16(inner + innerIhl, false) !== localPort || dv.getUint16(inner + innerIhl + 2, false) !== port) continue;
    return { type, code, name: ICMP_UNREACH[code] ?? `code ${code}`, from: [...buf.subarray(12, 16)].join(".") };
  }
  return undefined;
}

/**
 * Connect once more and say what happened: "reset" (a RST answered the SYN), "icmp" (an ICMP
 * unreachable, with its code and sender when it could be read), "timeout", "connected" (the
 * failure did not repeat) or "error" (another errno). null where libc cannot be used (not
 * Linux); the caller then keeps what node:net said.
 */
export async function explainConnect(ip: string, port: number, timeoutMs: number): Promise<ConnectFailure | null> {
  if (libc === undefined) { try { libc = process.platform === "linux" ? openLibc() : null; } catch { libc = null; } }
  const l = libc;
  if (!l || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return null;
  const raw = l.f.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMP); // -1 without CAP_NET_RAW: errno only
  const fd = l.f.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) { if (raw >= 0) l.f.close(raw); return null; }
  const addr = sockaddr(ip, port);
  const pfd = new Uint8Array(8);
  new DataView(pfd.buffer).setInt32(0, fd, true);
  new DataView(pfd.buffer).setInt16(4, POLLOUT, true);
  try {
    let err = 0;
    if (l.f.connect(fd, l.ptr(addr), 16) !== 0) {
      err = l.errno();
      if (err !== EINPROGRESS) return finish(err);
      const deadline = performance.now() + timeoutMs;
      // Poll without blocking the event loop (the web server shares it).
      for (;;) {
        if (l.f.poll(l.ptr(pfd), 1, 0) > 0) break;
        if (performance.now() >= deadline) return { kind: "timeout" };
        await Bun.sleep(20);
      }
      const val = new Int32Array(1), len = new Uint32Array([4]);
      l.f.getsockopt(fd, SOL_SOCKET, SO_ERROR, l.ptr(val), l.ptr(len));
      err = val[0]!;
    }
    return finish(err);
  } finally {
    l.f.close(fd);
    if (raw >= 0) l.f.close(raw);
  }

  function finish(err: number): ConnectFailure {
    if (err === 0) return { kind: "connected" };
    const sa = new Uint8Array(16), len = new Uint32Array([16]);
    l!.f.getsockname(fd, l!.ptr(sa), l!.ptr(len));
    const localPort = new DataView(sa.buffer).getUint16(2, false);
    const icmp = raw >= 0 ? icmpFor(l!, raw, ip, port, localPort) : undefined;
    const errno = ERRNO[err] ?? `errno ${err}`;
    if (icmp) return { kind: "icmp", errno, icmp };
    if (errno === "ECONNREFUSED") return { kind: "reset", errno };
    if (errno === "EHOSTUNREACH" || errno === "ENETUNREACH") return { kind: "icmp", errno };
    return { kind: "error", errno };
  }
}
