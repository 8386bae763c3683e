import { expect, test } from "bun:test";
import { sharedUntilFailure } from "./account";

test("shared set-up: callers arriving together share one attempt; a failure is forgotten so the next call tries again", async () => {
  let attempts = 0;
  let fail = true;
  const get = sharedUntilFailure(async () => { attempts++; await Bun.sleep(10); if (fail) throw new Error("CA down"); return `account ${attempts}`; });
  const first = await Promise.allSettled(Array.from({ length: 20 }, () => get()));
  expect(first.every((r) => r.status === "rejected")).toBe(true);
  expect(attempts).toBe(1);
  fail = false;
  expect(await Promise.all(Array.from({ length: 20 }, () => get()))).toEqual(Array(20).fill("account 2"));
  expect(await get()).toBe("account 2");
  expect(attempts).toBe(2);
});
