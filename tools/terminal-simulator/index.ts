/**
 * A payment terminal test double: the Adyen local Terminal API (nexo JSON, NexoBlob +
 * SecurityTrailer) over TLS on 127.0.0.1, with a ledger of its own so tests can prove that
 * nothing was charged twice. It can be told, per payment, to approve, decline, answer late,
 * drop the reply after charging, lose the request, answer Busy or fail the crypto, and it can
 * be switched to present another certificate.
 */
import type { Server } from "bun";
import type { Pem } from "./certs";
import { simDecrypt, simEncrypt, type SimKey } from "./nexo-node-crypto";

export type Behaviour =
  | "approve"
  | "decline"
  | "late"               // stays in progress for lateMs, then charges and answers
  | "drop-after-charge"  // charges, then the reply is lost (the connection stays silent)
  | "drop-before-charge" // the request is lost: nothing charged, no reply
  | "busy"
  | "crypto-fail";

export type Category = "Payment" | "Reversal";
export type Chooser = (category: Category, n: number) => Behaviour;

export interface SimulatorOptions {
  poiid: string;
  key: SimKey;
  cert: Pem;
  behaviour?: Behaviour | Chooser;
  lateMs?: number;
  processingMs?: number;
  port?: number;
}

export interface LedgerEntry {
  saleId: string;
  serviceId: string;
  saleTransactionId: string;
  amount: number;
  currency: string;
  state: "in_progress" | "approved" | "declined" | "aborted";
  poiTransactionId?: string;
  reversed: boolean;
  header: Record<string, unknown>;
  response?: Record<string, unknown>;
}

/** Card data a real terminal returns and that the box must never log or keep. */
export const SIM_CARD = {
  holder: "JANE Q CARDHOLDER",
  alias: "M469509594859802",
  expiry: "0330",
  maskedPan: "411111…1111",
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface TerminalSimulator {
  address: string;   // "127.0.0.1:<port>"
  port: number;
  ledger: Map<string, LedgerEntry>;
  /** SaleTransactionIDs charged (approved and not reversed) more than once. */
  doubleCharges(): string[];
  approved(): LedgerEntry[];
  counts: Record<string, number>;
  setBehaviour(b: Behaviour | Chooser): void;
  presentCertificate(cert: Pem): Promise<void>;
  /** Stops listening (connections refused) but keeps the ledger, as a terminal that reboots. */
  goOffline(): Promise<void>;
  comeOnline(): void;
  stop(): Promise<void>;
}

export async function startTerminalSimulator(opts: SimulatorOptions): Promise<TerminalSimulator> {
  const key = opts.key;
  let choose: Chooser = typeof opts.behaviour === "function" ? opts.behaviour : () => (opts.behaviour as Behaviour) ?? "approve";
  const lateMs = opts.lateMs ?? 3000;
  const processingMs = opts.processingMs ?? 0;
  const ledger = new Map<string, LedgerEntry>();
  const reversals = new Map<string, { response: Record<string, unknown>; header: Record<string, unknown> }>();
  const counts: Record<string, number> = {};
  let seq = 0, paymentNo = 0, reversalNo = 0;
  let current: { entry: LedgerEntry; abort: () => void } | null = null;
  const hanging = new Set<() => void>();
  let stopped = false;

  const reply = (header: any, body: Record<string, unknown>) =>
    new Response(simEncrypt("SaleToPOIResponse", { MessageHeader: { ...header, MessageType: "Response" }, ...body }, key), {
      headers: { "content-type": "application/json" },
    });
  const failure = (cond: string) => ({ Response: { Result: "Failure", ErrorCondition: cond } });
  /** The reply is lost: the connection stays silent until the client gives up. */
  const hang = (req: Request) => new Promise<Response>((resolve) => {
    const done = () => { hanging.delete(done); resolve(new Response(null, { status: 204 })); };
    hanging.add(done);
    req.signal.addEventListener("abort", done);
    if (stopped) done();
  });

  async function payment(req: Request, header: any, body: any): Promise<Response> {
    const n = ++paymentNo;
    if (current) return reply(header, { PaymentResponse: failure("Busy") });
    const b = choose("Payment", n);
    if (b === "busy") return reply(header, { PaymentResponse: failure("Busy") });
    if (b === "crypto-fail") return Response.json({ errors: ["Nexo Service: crypto error (3)"] });
    if (b === "drop-before-charge") return hang(req);
    const amounts = body?.PaymentTransaction?.AmountsReq ?? {};
    const entry: LedgerEntry = {
      saleId: header.SaleID, serviceId: header.ServiceID,
      saleTransactionId: body?.SaleData?.SaleTransactionID?.TransactionID ?? "",
      amount: amounts.RequestedAmount, currency: amounts.Currency, state: "in_progress", reversed: false, header,
    };
    ledger.set(`${header.SaleID}/${header.ServiceID}`, entry);
    let aborted = false;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, b === "late" ? lateMs : processingMs);
      current = { entry, abort: () => { aborted = true; clearTimeout(t); resolve(); } };
    });
    current = null;
    const now = new Date().toISOString();
    if (aborted) {
      entry.state = "aborted";
      entry.response = { ...failure("Aborted"), POIData: { POITransactionID: { TransactionID: `ab${++seq}`, TimeStamp: now } } };
    } else if (b === "decline") {
      entry.state = "declined";
      entry.response = {
        Response: { Result: "Failure", ErrorCondition: "Refusal", AdditionalResponse: `refusalReason=Not%20enough%20balance&cardHolderName=${encodeURIComponent(SIM_CARD.holder)}&expiryYear=2030` },
        POIData: { POITransactionID: { TransactionID: `dc${++seq}`, TimeStamp: now } },
      };
    } else {
      entry.state = "approved";
      entry.poiTransactionId = `${opts.poiid.slice(-4)}T${Date.now().toString(36)}${++seq}`;
      entry.response = {
        Response: {
          Result: "Success",
          AdditionalResponse: new URLSearchParams({
            pspReference: `PSP${seq}`, authCode: "123456", cardHolderName: SIM_CARD.holder, expiryMonth: "03", expiryYear: "2030",
            cardBin: "411111", cardSummary: "1111", alias: SIM_CARD.alias, paymentMethod: "visa",
          }).toString(),
        },
        POIData: { POITransactionID: { TransactionID: entry.poiTransactionId, TimeStamp: now } },
        PaymentResult: {
          PaymentInstrumentData: { PaymentInstrumentType: "Card", CardData: { MaskedPAN: SIM_CARD.maskedPan, PaymentBrand: "visa", SensitiveCardData: { ExpiryDate: SIM_CARD.expiry } } },
          AmountsResp: { AuthorizedAmount: entry.amount, Currency: entry.currency },
        },
        PaymentReceipt: [{ DocumentQualifier: "CashierReceipt", OutputContent: { OutputText: [{ Text: `name=${encodeURIComponent(SIM_CARD.holder)}` }] } }],
      };
    }
    if (b === "drop-after-charge") return hang(req);
    return reply(header, { PaymentResponse: entry.response });
  }

  function transactionStatus(header: any, body: any): Response {
    const ref = body?.MessageReference ?? {};
    const k = `${ref.SaleID ?? header.SaleID}/${ref.ServiceID}`;
    if (ref.MessageCategory === "Reversal") {
      const r = reversals.get(k);
      if (!r) return reply(header, { TransactionStatusResponse: failure("NotFound") });
      return reply(header, { TransactionStatusResponse: { Response: { Result: "Success" }, RepeatedMessageResponse: {
        MessageHeader: { ...r.header, MessageType: "Response" }, RepeatedResponseMessageBody: { ReversalResponse: r.response } } } });
    }
    const e = ledger.get(k);
    if (!e) return reply(header, { TransactionStatusResponse: failure("NotFound") });
    if (e.state === "in_progress") return reply(header, { TransactionStatusResponse: failure("InProgress") });
    return reply(header, { TransactionStatusResponse: { Response: { Result: "Success" }, RepeatedMessageResponse: {
      MessageHeader: { ...e.header, MessageType: "Response" }, RepeatedResponseMessageBody: { PaymentResponse: e.response } } } });
  }

  async function reversal(req: Request, header: any, body: any): Promise<Response> {
    const n = ++reversalNo;
    if (current) return reply(header, { ReversalResponse: failure("Busy") });
    const b = choose("Reversal", n);
    if (b === "busy") return reply(header, { ReversalResponse: failure("Busy") });
    if (b === "crypto-fail") return Response.json({ errors: ["Nexo Service: crypto error (3)"] });
    if (b === "drop-before-charge") return hang(req);
    const id = body?.OriginalPOITransaction?.POITransactionID?.TransactionID;
    const e = [...ledger.values()].find((x) => x.poiTransactionId === id);
    let response: Record<string, unknown>;
    if (!e || e.state !== "approved") response = failure("NotFound");
    else if (e.reversed) response = failure("NotAllowed");
    else {
      e.reversed = true;
      response = { Response: { Result: "Success" }, POIData: { POITransactionID: { TransactionID: `rv${++seq}`, TimeStamp: new Date().toISOString() } }, ReversedAmount: e.amount };
    }
    reversals.set(`${header.SaleID}/${header.ServiceID}`, { response, header });
    if (b === "drop-after-charge") return hang(req);
    return reply(header, { ReversalResponse: response });
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (req.method !== "POST" || url.pathname !== "/nexo") return new Response("not found", { status: 404 });
    const clear = simDecrypt(await req.text(), key);
    const msg = clear?.SaleToPOIRequest;
    if (!msg) { counts.cryptoError = (counts.cryptoError ?? 0) + 1; return Response.json({ errors: ["Nexo Service: crypto error (3)"] }); }
    const header = msg.MessageHeader ?? {};
    const cat = String(header.MessageCategory);
    counts[cat] = (counts[cat] ?? 0) + 1;
    if (header.POIID !== opts.poiid) return reply(header, { [`${cat}Response`]: failure("MessageFormat") });
    switch (cat) {
      case "Payment": return payment(req, header, msg.PaymentRequest);
      case "TransactionStatus": return transactionStatus(header, msg.TransactionStatusRequest);
      case "Reversal": return reversal(req, header, msg.ReversalRequest);
      case "Abort": {
        const ref = msg.AbortRequest?.MessageReference ?? {};
        if (current && current.entry.serviceId === ref.ServiceID) current.abort();
        return new Response("", { status: 200 });
      }
      case "Diagnosis":
        return reply(header, { DiagnosisResponse: { Response: { Result: "Success" }, POIStatus: { GlobalStatus: "OK", CommunicationOKFlag: true } } });
      default:
        return reply(header, { [`${cat}Response`]: failure("MessageFormat") });
    }
  }

  const listen = (cert: Pem, port: number): Server<undefined> =>
    Bun.serve({ hostname: "127.0.0.1", port, tls: { cert: cert.certPem, key: cert.keyPem }, fetch: handle, idleTimeout: 0 });
  let currentCert = opts.cert;
  let server: Server<undefined> | null = listen(opts.cert, opts.port ?? 0);
  const port = server.port!;

  return {
    address: `127.0.0.1:${port}`,
    port,
    ledger,
    counts,
    approved: () => [...ledger.values()].filter((e) => e.state === "approved" && !e.reversed),
    doubleCharges() {
      const seen = new Map<string, number>();
      for (const e of ledger.values()) if (e.state === "approved" && !e.reversed) seen.set(e.saleTransactionId, (seen.get(e.saleTransactionId) ?? 0) + 1);
      return [...seen].filter(([, c]) => c > 1).map(([id]) => id);
    },
    setBehaviour(b) { choose = typeof b === "function" ? b : () => b; },
    async presentCertificate(cert) {
      currentCert = cert;
      await server?.stop(true);
      server = listen(cert, port);
    },
    async goOffline() { await server?.stop(true); server = null; },
    comeOnline() { server ??= listen(currentCert, port); },
    async stop() {
      stopped = true;
      for (const done of [...hanging]) done();
      current?.abort();
      await server?.stop(true);
      server = null;
    },
  };
}
