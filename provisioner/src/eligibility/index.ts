// Is this database allowed a certificate? Pure: the record (or none) and the code presented.
import { createHash, timingSafeEqual } from "node:crypto";

export const KINDS = ["production", "copy", "duplicate", "test", "development"] as const;
export type DatabaseKind = (typeof KINDS)[number];
export const SUBSCRIPTIONS = ["in_progress", "draft", "paused", "closed", "expired", "cancelled"] as const;
export type SubscriptionState = (typeof SUBSCRIPTIONS)[number];

export interface DatabaseRecord {
  uuid: string;
  enterpriseCodeHash: string; // sha256 hex: the code itself is not stored
  kind: DatabaseKind;
  subscription: SubscriptionState;
  iotBoxLines: number;
}

/** Which check failed: for the service's log only, never for the reply. */
export type Refusal = "unknown_database" | "wrong_enterprise_code" | "not_production" | "subscription_not_in_progress" | "no_iot_box_line";
export type Eligibility = { ok: true } | { ok: false; failed: Refusal };

/** The one sentence every refusal gets, whatever failed. */
export const REFUSAL_SENTENCE = "This database is not eligible for an IoT box certificate, or its credentials are wrong.";

export const hashEnterpriseCode = (code: string) => createHash("sha256").update(code, "utf8").digest("hex");

export function checkEligibility(db: DatabaseRecord | null, enterpriseCode: string): Eligibility {
  if (!db) return { ok: false, failed: "unknown_database" };
  const given = Buffer.from(hashEnterpriseCode(enterpriseCode), "hex");
  const stored = Buffer.from(db.enterpriseCodeHash, "hex");
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return { ok: false, failed: "wrong_enterprise_code" };
  if (db.kind !== "production") return { ok: false, failed: "not_production" };
  if (db.subscription !== "in_progress") return { ok: false, failed: "subscription_not_in_progress" };
  if (!(db.iotBoxLines > 0)) return { ok: false, failed: "no_iot_box_line" };
  return { ok: true };
}
