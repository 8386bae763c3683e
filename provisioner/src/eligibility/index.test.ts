import { describe, expect, test } from "bun:test";
import { checkEligibility, hashEnterpriseCode, type DatabaseRecord } from ".";

const good: DatabaseRecord = { uuid: "u1", enterpriseCodeHash: hashEnterpriseCode("CODE"), kind: "production", subscription: "in_progress", iotBoxLines: 1 };

describe("eligibility", () => {
  test("a production database with a running subscription and an IoT box line is eligible", () => {
    expect(checkEligibility(good, "CODE")).toEqual({ ok: true });
  });
  test("each failed check is named (for the log)", () => {
    expect(checkEligibility(null, "CODE")).toEqual({ ok: false, failed: "unknown_database" });
    expect(checkEligibility(good, "code")).toEqual({ ok: false, failed: "wrong_enterprise_code" });
    for (const kind of ["copy", "duplicate", "test", "development"] as const) expect(checkEligibility({ ...good, kind }, "CODE")).toEqual({ ok: false, failed: "not_production" });
    expect(checkEligibility({ ...good, subscription: "closed" }, "CODE")).toEqual({ ok: false, failed: "subscription_not_in_progress" });
    expect(checkEligibility({ ...good, iotBoxLines: 0 }, "CODE")).toEqual({ ok: false, failed: "no_iot_box_line" });
  });
});
