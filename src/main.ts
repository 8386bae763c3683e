// Composition root: placeholder until the runtime lands.
import { VERSION } from "./version";
const [cmd] = process.argv.slice(2);
if (cmd === "version" || cmd === "--version") { console.log(VERSION); process.exit(0); }
console.error("usage: iotbox serve|status|cert|diagnose|version");
process.exit(2);
