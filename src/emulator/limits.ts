// Bybit's per-UID, per-endpoint rate limits, for the emulator: a fixed one-second window per
// (api key, endpoint) that opens with its first request, the three X-Bapi-Limit* headers on every
// response of a limited endpoint, and 10006 "Too many visits!" once the window is spent.
//
// The documented limits for linear contracts (UTA): order create, amend, cancel and cancel-all
// 10/s; order realtime and history, execution list, position list and wallet balance 50/s;
// trading-stop and set-leverage 10/s. Public market endpoints are limited per IP, not per UID,
// and carry no headers.
//
// Invariants: time is the server's clock passed in; the windows held are at most one per
// (key, endpoint) pair, so memory is bounded by keys x endpoints; a refused request does not
// consume the window.

import { assert } from '../core/assert.ts';

/** Requests per second by endpoint path. */
export type EndpointLimits = Readonly<Record<string, number>>;

export const bybitLimits: EndpointLimits = {
  '/v5/order/create': 10,
  '/v5/order/amend': 10,
  '/v5/order/cancel': 10,
  '/v5/order/cancel-all': 10,
  '/v5/order/realtime': 50,
  '/v5/order/history': 50,
  '/v5/execution/list': 50,
  '/v5/position/list': 50,
  '/v5/account/wallet-balance': 50,
  '/v5/position/trading-stop': 10,
  '/v5/position/set-leverage': 10,
};

export const limitWindowMs = 1000;

export type LimitVerdict = {
  readonly allowed: boolean;
  readonly headers: Readonly<Record<string, string>>;
};

type Window = { startMs: number; used: number };

export class RateLimiter {
  private readonly limits: EndpointLimits;
  private readonly windows = new Map<string, Window>();

  constructor(limits: EndpointLimits) {
    for (const [path, perSecond] of Object.entries(limits)) assert(Number.isSafeInteger(perSecond) && perSecond > 0, `rate limit of ${path}: ${perSecond}`);
    this.limits = limits;
  }

  /** Counts one request; null when the endpoint has no limit. */
  take(apiKey: string, path: string, nowMs: number): LimitVerdict | null {
    const limit = this.limits[path];
    if (limit === undefined) return null;
    const key = `${apiKey} ${path}`;
    let window = this.windows.get(key);
    if (window === undefined || nowMs >= window.startMs + limitWindowMs || nowMs < window.startMs) {
      window = { startMs: nowMs, used: 0 };
      this.windows.set(key, window);
    }
    const allowed = window.used < limit;
    if (allowed) window.used += 1;
    return {
      allowed,
      headers: {
        'X-Bapi-Limit': String(limit),
        'X-Bapi-Limit-Status': String(limit - window.used),
        'X-Bapi-Limit-Reset-Timestamp': String(window.startMs + limitWindowMs),
      },
    };
  }
}
