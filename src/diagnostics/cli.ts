/**
 * Stand-alone entry for `iotbox diagnose` outside the runtime (and inside a test's network
 * namespace): targets from --target-* options, the rest as in diagnoseCommand.
 *   bun src/diagnostics/cli.ts --targets '{"publicResolvers":[…],…}' [--json] [--watch] …
 */
import { diagnoseCommand } from "./command";
import type { DiagnosticsTargets } from "./plan";

const argv = process.argv.slice(2);
const i = argv.indexOf("--targets");
if (i < 0 || !argv[i + 1]) { console.error("usage: cli.ts --targets JSON [diagnose options]"); process.exit(2); }
let targets: DiagnosticsTargets;
try { targets = JSON.parse(argv[i + 1]!); } catch { console.error("--targets: not valid JSON"); process.exit(2); }
argv.splice(i, 2);
process.exit(await diagnoseCommand(argv, targets));
