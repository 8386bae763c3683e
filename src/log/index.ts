/**
 * Structured logs: one JSON object a line, with a level. Secrets never reach a line:
 * values under secret-looking keys are replaced, and known secret values are scrubbed
 * from every string (redact.add registers them).
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word|phrase)?|secret|token|private_?key|enterprise_?code|authorization|cookie|csrf|key_?pem/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  setLevel(level: Level): void;
  level(): Level;
  /** Register a secret value: it is replaced by "[redacted]" wherever it appears. */
  redact(value: string | undefined | null): void;
  /** The last lines kept in memory (already redacted), for the log download. */
  recent(): string[];
}

export interface LoggerOptions {
  level?: Level;
  write?: (line: string) => void;
  keep?: number;
  now?: () => Date;
}

export function isLevel(x: unknown): x is Level {
  return x === "debug" || x === "info" || x === "warn" || x === "error";
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const keep = opts.keep ?? 2000;
  const now = opts.now ?? (() => new Date());
  const secrets = new Set<string>();
  const ring: string[] = [];
  let level: Level = opts.level ?? "info";

  const scrub = (v: unknown, key = ""): unknown => {
    if (key && SECRET_KEY.test(key) && v !== null && v !== undefined && v !== "") return "[redacted]";
    if (typeof v === "string") {
      let s = v;
      for (const secret of secrets) if (secret.length >= 4) s = s.split(secret).join("[redacted]");
      return s.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, "[redacted private key]");
    }
    if (v instanceof Error) return scrub(v.message);
    if (Array.isArray(v)) return v.map((x) => scrub(x));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = scrub(x, k);
      return out;
    }
    return v;
  };

  const make = (base: Record<string, unknown>): Logger => {
    const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
      if (ORDER[lvl] < ORDER[level]) return;
      const rec = scrub({ ts: now().toISOString(), level: lvl, msg, ...base, ...fields }) as Record<string, unknown>;
      const line = JSON.stringify(rec);
      ring.push(line);
      if (ring.length > keep) ring.splice(0, ring.length - keep);
      write(line);
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (f) => make({ ...base, ...f }),
      setLevel: (l) => { level = l; },
      level: () => level,
      redact: (s) => { if (s) secrets.add(s); },
      recent: () => ring.slice(),
    };
  };
  return make({});
}

/** A logger that drops everything: for tests that do not look at logs. */
export const silentLogger = (): Logger => createLogger({ write: () => {}, level: "error" });
