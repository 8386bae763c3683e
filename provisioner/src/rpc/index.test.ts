import { describe, expect, test } from "bun:test";
import { parseBody, replyId, RpcError, validateRequest } from ".";

const params = { db_uuid: "u1", enterprise_code: "C" };
const err = (f: () => unknown) => { try { f(); } catch (e) { return e as RpcError; } throw new Error("no error"); };

describe("rpc", () => {
  test("the reference's body and our extensions are read", () => {
    expect(validateRequest({ jsonrpc: "2.0", method: "call", params: { ...params, csr: "-----BEGIN…\r\n", ip: "192.168.1.2", box_id: "abcd1234" } }))
      .toEqual({ id: null, dbUuid: "u1", enterpriseCode: "C", csr: "-----BEGIN…\r\n", ip: "192.168.1.2", boxId: "abcd1234" });
    expect(validateRequest({ params, id: 7 }).id).toBe(7);
  });
  test("malformed bodies get a 400 with a precise sentence", () => {
    expect(err(() => parseBody("{")).rpcCode).toBe(-32700);
    expect(err(() => validateRequest([])).httpStatus).toBe(400);
    expect(err(() => validateRequest({ jsonrpc: "1.0", params })).message).toContain("jsonrpc");
    expect(err(() => validateRequest({ method: "x", params })).rpcCode).toBe(-32601);
    expect(err(() => validateRequest({ params: "x" })).message).toBe("params must be an object.");
    expect(err(() => validateRequest({ params: { enterprise_code: "C" } })).message).toBe("params.db_uuid is required.");
    expect(err(() => validateRequest({ params: { ...params, db_uuid: 5 } })).message).toBe("params.db_uuid must be a string.");
    expect(err(() => validateRequest({ params: { ...params, db_uuid: "a\u0000b" } })).message).toContain("control characters");
    expect(err(() => validateRequest({ params: { ...params, enterprise_code: "a\nb" } })).message).toContain("control characters");
    expect(err(() => validateRequest({ params: { ...params, db_uuid: "x".repeat(200) } })).message).toContain("longer than");
    expect(err(() => validateRequest({ params: { ...params, box_id: "ABC" } })).message).toContain("box_id");
    expect(err(() => validateRequest({ params: { ...params, ip: "1.2.3" } })).message).toContain("params.ip");
    expect(err(() => validateRequest({ params: { ...params, csr: "x\u0007" } })).message).toContain("control characters");
  });
  test("only a string or number id is echoed", () => {
    expect(replyId({ id: "a" })).toBe("a");
    expect(replyId({ id: { x: 1 } })).toBe(null);
    expect(replyId({ id: "\u0000" })).toBe(null);
  });
});
