// Command-line options, each with an environment variable as fallback. Pure: argv and env in.
export interface OptionSpec { flag: string; env: string; default?: string; help: string }

export class UsageError extends Error {}

export function parseOptions(argv: string[], env: Record<string, string | undefined>, specs: OptionSpec[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    const flag = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const spec = byFlag.get(flag);
    if (!spec) throw new UsageError(`unknown option --${flag}`);
    let v: string | undefined = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`--${flag} needs a value`);
    out[flag] = v;
  }
  for (const s of specs) if (out[s.flag] === undefined) out[s.flag] = env[s.env] ?? s.default;
  return out;
}

export function usage(specs: OptionSpec[]): string {
  return specs.map((s) => `  --${s.flag.padEnd(20)} ${s.help} (env ${s.env}${s.default !== undefined ? `, default ${s.default}` : ""})`).join("\n");
}

export function intOption(opts: Record<string, string | undefined>, flag: string, min: number, max: number): number {
  const raw = opts[flag];
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}`);
  return n;
}
