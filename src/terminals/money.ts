/**
 * Amounts cross the POS API in minor units (integers) and the nexo wire in major units
 * (RequestedAmount 12.34). Only currencies with a known exponent are accepted.
 */
export const CURRENCY_EXPONENT: Readonly<Record<string, number>> = Object.freeze({
  EUR: 2, USD: 2, GBP: 2, CHF: 2, SEK: 2, NOK: 2, DKK: 2, PLN: 2, CZK: 2, HUF: 2, RON: 2, BGN: 2,
  AUD: 2, CAD: 2, NZD: 2, HKD: 2, SGD: 2, MXN: 2, BRL: 2, ZAR: 2, AED: 2, ILS: 2, TRY: 2, INR: 2,
  MYR: 2, THB: 2, PHP: 2, CNY: 2, TWD: 2, SAR: 2, QAR: 2, EGP: 2, MAD: 2,
  JPY: 0, KRW: 0, ISK: 0, VND: 0, IDR: 0, CLP: 0,
  BHD: 3, KWD: 3, JOD: 3, OMR: 3, TND: 3,
});

/** The largest amount a single payment may ask for, in minor units (999 999.99 for 2-decimal currencies). */
export const MAX_AMOUNT_MINOR = 99_999_999;

export const isCurrency = (c: unknown): c is string => typeof c === "string" && Object.hasOwn(CURRENCY_EXPONENT, c);

export function toMajor(minor: number, currency: string): number {
  const e = CURRENCY_EXPONENT[currency]!;
  return Number((minor / 10 ** e).toFixed(e));
}

export function toMinor(major: number, currency: string): number {
  const e = CURRENCY_EXPONENT[currency]!;
  return Math.round(major * 10 ** e);
}
