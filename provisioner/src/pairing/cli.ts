// `iotbox-provisioner pairing claim`: the database side's claim from a shell (an operator, or a
// database's own job), straight on the provisioner's database. Prints what happened; exit 1 when
// no box is waiting with the code, 2 for a usage error.
import { createLogger } from "../../../src/log";
import { parseOptions, UsageError, usage, type OptionSpec } from "../cli/args";
import { RpcError } from "../rpc";
import type { Store } from "../store";
import { createPairingService } from "./service";
import { pairingStore } from "./store";

export const CLAIM: OptionSpec[] = [
  { flag: "db", env: "IOTBOX_PROVISIONER_DB", default: "sqlite:/var/lib/iotbox-provisioner/provisioner.db", help: "sqlite:PATH or postgres://…" },
  { flag: "code", env: "IOTBOX_PAIRING_CODE", help: "the code the box shows (ABCD-EFGH)" },
  { flag: "url", env: "IOTBOX_PAIRING_URL", help: "the database's URL" },
  { flag: "token", env: "IOTBOX_PAIRING_TOKEN", help: "the database's IoT token" },
  { flag: "db-uuid", env: "IOTBOX_DB_UUID", help: "the database's UUID" },
  { flag: "enterprise-code", env: "IOTBOX_ENTERPRISE_CODE", help: "its contract code (checked against the registered hash)" },
];
export const PAIRING_HELP = `  iotbox-provisioner pairing claim [options]\n${usage(CLAIM)}`;

export async function pairingCommand(argv: string[], openStore: (url: string) => Store): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== "claim") throw new UsageError("pairing claim --code C --url U --token T --db-uuid D --enterprise-code E");
  const o = parseOptions(rest, process.env, CLAIM);
  for (const f of ["code", "url", "token", "db-uuid", "enterprise-code"]) if (!o[f]) throw new UsageError(`--${f} is required`);
  const store = openStore(o.db!);
  await store.migrate();
  const pairings = pairingStore(store.driver);
  await pairings.migrate();
  const logger = createLogger({ level: "warn", write: (l) => process.stderr.write(l + "\n") });
  logger.redact(o.token);
  logger.redact(o["enterprise-code"]);
  try {
    const out = await createPairingService({ store: pairings, databases: store, logger })
      .claim({ pairing_code: o.code, url: o.url, token: o.token, db_uuid: o["db-uuid"], enterprise_code: o["enterprise-code"] });
    console.log(`claimed: box ${out.serial_number} will connect to ${new URL(o.url!).host} at its next poll`);
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    console.error(`iotbox-provisioner: ${e.message}`);
    process.exitCode = 1;
  } finally { await store.close(); }
}
