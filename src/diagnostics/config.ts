/**
 * Targets from the configuration keys the runtime passes through (iotbox.conf, settings):
 * diag_public_resolvers ("ip[:port],…"), diag_connectivity_url, diag_canary_name.
 */
import type { DiagnosticsTargets } from "./plan";

export const DEFAULT_PUBLIC_RESOLVERS = ["1.1.1.1", "9.9.9.9"];
export const DEFAULT_CONNECTIVITY_URL = "http://connectivitycheck.gstatic.com/generate_204";

export function targetsFromConfig(conf: Record<string, string | undefined>, base: { provisioningUrl: string; zone: string; boxName?: string; expectedIp?: string }): DiagnosticsTargets {
  const list = (s: string | undefined) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean);
  const resolvers = list(conf.diag_public_resolvers);
  return {
    publicResolvers: resolvers.length ? resolvers : DEFAULT_PUBLIC_RESOLVERS,
    provisioningUrl: base.provisioningUrl,
    connectivityUrl: conf.diag_connectivity_url?.trim() || DEFAULT_CONNECTIVITY_URL,
    canaryName: conf.diag_canary_name?.trim() || `10-0-0-1.${base.zone}`,
    ...(base.boxName ? { boxName: base.boxName } : {}),
    ...(base.expectedIp ? { expectedIp: base.expectedIp } : {}),
  };
}
