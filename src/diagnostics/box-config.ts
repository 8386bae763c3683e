/**
 * The configuration `iotbox diagnose` diagnoses with: the box's config.json, with <boot>/iotbox.conf
 * applied on top when the runtime has not imported that file yet (a fresh box whose runtime never
 * ran, or a card just edited). Read only: the command changes neither file (the runtime's start
 * imports iotbox.conf, hashes the admin password and removes the secrets).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { boxHostName } from "../cert/x509";
import { applyBootConf, MAX_BOOT_CONF_BYTES, parseBootConf } from "../config/boot-conf";
import { defaultConfig, type BoxConfig } from "../config/schema";
import { decodeConfig } from "../config/decode";
import { bootConfigPath, dataFiles, type HostPaths } from "../host/paths";

export interface DiagnosisConfig { config: BoxConfig; from: string[]; problems: string[] }

export function readConfigForDiagnosis(paths: Pick<HostPaths, "dataDir" | "bootDir">): DiagnosisConfig {
  const files = dataFiles({ ...paths, sysfs: "/sys" });
  const from: string[] = [];
  let config = defaultConfig("unknown");
  const problems: string[] = [];
  if (existsSync(files.config)) {
    try {
      const raw = JSON.parse(readFileSync(files.config, "utf8")) as { boxId?: unknown };
      const d = decodeConfig(raw, defaultConfig(typeof raw?.boxId === "string" ? raw.boxId : "unknown"));
      config = d.config; problems.push(...d.problems); from.push(files.config);
    } catch (e) { problems.push(`${files.config} could not be read: ${(e as Error).message}`); }
  }
  const conf = bootConfigPath({ ...paths, sysfs: "/sys" });
  try {
    if (existsSync(conf) && statSync(conf).size <= MAX_BOOT_CONF_BYTES) {
      const bytes = readFileSync(conf);
      const hash = createHash("sha256").update(bytes).digest("hex");
      if (config.bootImport?.fileHash !== hash) {
        const r = applyBootConf(parseBootConf(bytes).lines, config);
        config = r.config;
        problems.push(...r.problems);
        from.push(`${conf} (not imported yet)`);
      }
    }
  } catch (e) { problems.push(`iotbox.conf could not be read: ${(e as Error).message}`); }
  return { config, from, problems };
}

/** The box's HTTPS name (the certificate's own boxHostName) once it has a certificate. */
export function boxNameFor(cfg: BoxConfig, ip: string | null, haveCertificate: boolean): string | null {
  return haveCertificate && cfg.subjectCn && ip ? boxHostName(cfg.subjectCn, ip) : null;
}
