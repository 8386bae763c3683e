/**
 * nexo request builders and reply readers (pure: no I/O). Replies are reduced to the few
 * fields the box keeps; card data, receipts and sensitive AdditionalResponse keys never leave
 * this file (see the note's PCI list).
 */
import { toMajor, toMinor } from "./money";

export type Category = "Payment" | "TransactionStatus" | "Abort" | "Diagnosis" | "Reversal";

export interface Route { saleId: string; poiid: string }
export interface MessageRef { category: "Payment" | "Reversal"; saleId: string; serviceId: string }

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** 10 random alphanumerics: nexo allows 1-10 and wants it unique per POIID for 48 h. */
export function newServiceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let s = "";
  for (const b of bytes) s += ALNUM[b % 62];
  return s;
}

export function header(category: Category, serviceId: string, r: Route) {
  return { ProtocolVersion: "3.0", MessageClass: "Service", MessageCategory: category, MessageType: "Request", ServiceID: serviceId, SaleID: r.saleId, POIID: r.poiid };
}

const wrap = (category: Category, serviceId: string, r: Route, body: Record<string, unknown>) => ({
  SaleToPOIRequest: { MessageHeader: header(category, serviceId, r), ...body },
});

export function paymentRequest(r: Route, serviceId: string, p: { transactionId: string; timeStamp: string; amountMinor: number; currency: string }) {
  return wrap("Payment", serviceId, r, {
    PaymentRequest: {
      SaleData: { SaleTransactionID: { TransactionID: p.transactionId, TimeStamp: p.timeStamp } },
      PaymentTransaction: { AmountsReq: { Currency: p.currency, RequestedAmount: toMajor(p.amountMinor, p.currency) } },
    },
  });
}

export const transactionStatusRequest = (r: Route, serviceId: string, ref: MessageRef) =>
  wrap("TransactionStatus", serviceId, r, {
    TransactionStatusRequest: { MessageReference: { MessageCategory: ref.category, SaleID: ref.saleId, ServiceID: ref.serviceId } },
  });

export const abortRequest = (r: Route, serviceId: string, ref: MessageRef) =>
  wrap("Abort", serviceId, r, {
    AbortRequest: { AbortReason: "MerchantAbort", MessageReference: { MessageCategory: ref.category, SaleID: ref.saleId, ServiceID: ref.serviceId } },
  });

export const diagnosisRequest = (r: Route, serviceId: string) =>
  wrap("Diagnosis", serviceId, r, { DiagnosisRequest: { HostDiagnosisFlag: false } });

export type ReversalReason = "CustCancel" | "Malfunction" | "MerchantCancel" | "Unable2Compl";
export const reversalRequest = (r: Route, serviceId: string, original: { transactionId: string; timeStamp: string }, reason: ReversalReason) =>
  wrap("Reversal", serviceId, r, {
    ReversalRequest: {
      OriginalPOITransaction: { POITransactionID: { TransactionID: original.transactionId, TimeStamp: original.timeStamp } },
      ReversalReason: reason,
    },
  });

/** What the box keeps of a Payment reply: nothing a PCI assessor would object to. */
export interface PaymentOutcome {
  result: "Success" | "Partial" | "Failure";
  errorCondition?: string;
  poiTransaction?: { transactionId: string; timeStamp: string };
  authorizedMinor?: number;
  brand?: string;
  cardLast4?: string;
  pspReference?: string;
  refusalReason?: string;
}

const KEEP_ADDITIONAL = ["pspReference", "refusalReason"] as const;

function readAdditional(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof raw !== "string" || raw.length > 20_000) return out;
  let params: URLSearchParams;
  try {
    // Terminals send it URL-encoded, or as (base64) JSON; only allow-listed keys survive.
    const t = raw.trim();
    if (!t.startsWith("{") && t.includes("=") && !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) params = new URLSearchParams(t);
    else {
      const obj = JSON.parse(t.startsWith("{") ? t : Buffer.from(t, "base64").toString("utf8"));
      params = new URLSearchParams(Object.entries(obj?.additionalData ?? obj ?? {}).map(([k, v]) => [k, String(v)]));
    }
  } catch { return out; }
  for (const k of KEEP_ADDITIONAL) { const v = params.get(k); if (v) out[k] = v.slice(0, 200); }
  return out;
}

const RESULTS = new Set(["Success", "Partial", "Failure"]);

export function readResponse(r: any): { result: PaymentOutcome["result"]; errorCondition?: string } | null {
  if (!r || !RESULTS.has(r.Result)) return null;
  return { result: r.Result, ...(typeof r.ErrorCondition === "string" ? { errorCondition: r.ErrorCondition.slice(0, 40) } : {}) };
}

export function readPaymentResponse(p: any, currency: string): PaymentOutcome | null {
  const resp = readResponse(p?.Response);
  if (!resp) return null;
  const out: PaymentOutcome = { ...resp, ...readAdditional(p.Response.AdditionalResponse) };
  const id = p.POIData?.POITransactionID;
  if (id && typeof id.TransactionID === "string") out.poiTransaction = { transactionId: id.TransactionID, timeStamp: String(id.TimeStamp ?? "") };
  const pr = p.PaymentResult;
  const auth = pr?.AmountsResp?.AuthorizedAmount;
  if (typeof auth === "number" && pr?.AmountsResp?.Currency === currency) out.authorizedMinor = toMinor(auth, currency);
  const card = pr?.PaymentInstrumentData?.CardData;
  if (typeof card?.PaymentBrand === "string") out.brand = card.PaymentBrand.slice(0, 30);
  const last4 = typeof card?.MaskedPAN === "string" ? card.MaskedPAN.replace(/\D/g, "").slice(-4) : "";
  if (last4.length === 4) out.cardLast4 = last4;
  return out;
}

export type StatusAnswer =
  | { kind: "done"; inner: any }           // the repeated reply of the original message
  | { kind: "in_progress" }
  | { kind: "not_found" }
  | { kind: "retry"; why: string };        // Busy or something unexpected: ask again later

/** Pure decision from a TransactionStatusResponse. */
export function readTransactionStatus(t: any, category: "Payment" | "Reversal"): StatusAnswer {
  const resp = readResponse(t?.Response);
  if (!resp) return { kind: "retry", why: "malformed TransactionStatusResponse" };
  if (resp.result === "Success") {
    const inner = t.RepeatedMessageResponse?.RepeatedResponseMessageBody?.[`${category}Response`];
    return inner ? { kind: "done", inner } : { kind: "retry", why: "Success without a repeated response" };
  }
  if (resp.errorCondition === "InProgress") return { kind: "in_progress" };
  if (resp.errorCondition === "NotFound") return { kind: "not_found" };
  return { kind: "retry", why: resp.errorCondition ?? "Failure" };
}
