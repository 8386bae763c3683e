/**
 * Stand-alone entry for `iotbox diagnose` outside the runtime (and inside a test's network
 * namespace): targets from --target-* options, the rest as in diagnoseCommand.
 *   bun src/diagnostics/cli.ts --targets '{"publicResolvers":[…],…}' [--json] [--watch] …
 */
import { diagnoseCommand } from "./command";
import type { Schedule } from "./daemon";
import type { DiagnosticsTargets } from "./plan";

const argv = process.argv.slice(2);
const i = argv.indexOf("--targets");
if (i < 0 || !argv[i + 1]) { console.error("usage: cli.ts --targets JSON [diagnose options]"); process.exit(2); }
let targets: DiagnosticsTargets;
try { targets = JSON.parse(argv[i + 1]!); } catch { console.error("--targets: not valid JSON"); process.exit(2); }
argv.splice(i, 2);
// --schedule JSON: overrides of the daemon's schedule (the lab's matrix opens the page more often
// than once per 30 s); with --watch, stdin lines "visit" / "cert-failed" are the runtime's triggers.
const j = argv.indexOf("--schedule");
let schedule: Partial<Schedule> | undefined;
if (j >= 0) { try { schedule = JSON.parse(argv[j + 1] ?? ""); } catch { console.error("--schedule: not valid JSON"); process.exit(2); } argv.splice(j, 2); }
async function* lines(): AsyncIterable<string> {
  let buf = "";
  for await (const chunk of process.stdin) {
    buf += chunk.toString();
    let k;
    while ((k = buf.indexOf("\n")) >= 0) { yield buf.slice(0, k); buf = buf.slice(k + 1); }
  }
}
process.exit(await diagnoseCommand(argv, targets, {
  out: (s) => process.stdout.write(s + "\n"), err: (s) => process.stderr.write(s + "\n"), schedule, commands: lines(),
}));
