// The Bybit v5 REST envelope and the venue's error vocabulary, for the emulator: every reply is
// HTTP 200 with `{retCode, retMsg, result, retExtInfo, time}`, as Bybit answers, and a refusal
// carries Bybit's own code and text so a real client (ccxt) maps it to the exception it maps on
// the live venue.
//
// Why an exception type here: a request handler reads a dozen parameters, each of which can be
// refused, and a refusal ends the request; `RequestError` is thrown by the parameter readers and
// caught at one place (the router), like DecodeError in the project's decoders. Nothing else is
// thrown on purpose.
//
// Invariants: retCode 0 only with retMsg "OK"; every code used by the emulator is in `retCodes`;
// a SimVenue rejection maps to exactly one Bybit code (`rejectionReply`).

import type { RejectCode } from '../core/events.ts';
import { assertNever } from '../core/assert.ts';
import type { BybitItem, BybitReply } from '../venues/bybit/encode.ts';

/** The Bybit codes the emulator answers with, and their texts where Bybit's text is fixed. */
export const retCodes = {
  ok: 0,
  params: 10001, // parameter errors, unknown symbol ("Not supported symbols")
  timestamp: 10002,
  apiKey: 10003,
  sign: 10004,
  tooManyVisits: 10006,
  serverError: 10016,
  orderNotFound: 110001,
  priceInvalid: 110003,
  insufficientBalance: 110007,
  reduceOnly: 110017,
  leverageNotModified: 110043,
  duplicateLinkId: 110072,
  expectRising: 110092,
  expectFalling: 110093,
  minNotional: 110094,
  notModified: 34040, // trading-stop that changes nothing
} as const;

export type Outcome = { readonly retCode: number; readonly retMsg: string; readonly result: BybitItem };

export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly retCode: number;

  constructor(retCode: number, retMsg: string) {
    super(retMsg);
    this.retCode = retCode;
  }
}

export function success(result: BybitItem): Outcome {
  return { retCode: retCodes.ok, retMsg: 'OK', result };
}

export function refusal(retCode: number, retMsg: string): Outcome {
  return { retCode, retMsg, result: {} };
}

export function refuse(retCode: number, retMsg: string): never {
  throw new RequestError(retCode, retMsg);
}

/** A parameter error (10001), the code Bybit uses for every malformed or missing parameter. */
export function badParam(retMsg: string): never {
  throw new RequestError(retCodes.params, retMsg);
}

export function envelope(outcome: Outcome, timeMs: number): BybitReply {
  return { retCode: outcome.retCode, retMsg: outcome.retMsg, result: outcome.result, retExtInfo: {}, time: timeMs };
}

/**
 * A SimVenue rejection as Bybit answers it. The venue's 'invalid' covers every parameter and
 * state rule Bybit answers with 10001 (its text is kept: it says which rule). A trigger already
 * crossed is 110092 for an order that waits for a rise, 110093 for one that waits for a fall.
 */
export function rejectionOutcome(code: RejectCode, reason: string): Outcome {
  switch (code) {
    case 'invalid': return refusal(retCodes.params, reason);
    case 'insufficient-funds': return refusal(retCodes.insufficientBalance, 'ab not enough for new order');
    case 'reduce-only': return refusal(retCodes.reduceOnly, 'Reduce-only rule not satisfied');
    case 'trigger-crossed': return refusal(reason.startsWith('expect Rising') ? retCodes.expectRising : retCodes.expectFalling, reason);
    case 'duplicate-id': return refusal(retCodes.duplicateLinkId, 'OrderLinkedID is duplicate');
    case 'rate-limited': return refusal(retCodes.tooManyVisits, 'Too many visits!');
    case 'not-found': return refusal(retCodes.orderNotFound, 'order not exists or too late to cancel');
    case 'other':
    case 'not-sent': return refusal(retCodes.serverError, reason);
    default: return assertNever(code);
  }
}
