// Field diagnostics: public surface for the runtime. Nothing here connects, reads or spawns at import.
export { createDiagnostics, DEFAULT_SCHEDULE, type Diagnostics, type DiagnosticsOptions, type Schedule } from "./daemon";
export { describe, REGISTRY, CODES, isCode, type Code, type LedClass, type Lang, type Severity } from "./codes";
export { diagnoseCommand, formatReport } from "./command";
export { targetsFromConfig, DEFAULT_PUBLIC_RESOLVERS, DEFAULT_CONNECTIVITY_URL } from "./config";
export { primaryCause, type ActiveCode } from "./health";
export { makePlan, type DiagnosticsTargets, type Plan } from "./plan";
export { hostIO, type HostIOOptions, type ProbeIO } from "./probes";
export type { Report, ProbeResult, ProbeId, Observations } from "./report";
