// Bybit's per-UID, per-endpoint rate limits, for the emulator: a rolling one-second window per
// (api key, endpoint), as Bybit documents it (a request counts against the limit for the second
// after it, not until a fixed window ends), the three X-Bapi-Limit* headers on every response of a
// limited endpoint, and 10006 "Too many visits!" while the last second is spent. The reset time is
// when the oldest request in the window leaves it once the window is spent, and now otherwise
// (Bybit: "otherwise, this is just the current timestamp").
//
// The documented limits for linear contracts (UTA): order create, amend, cancel and cancel-all
// 10/s; order realtime and history, execution list, position list and wallet balance 50/s;
// trading-stop and set-leverage 10/s. Public market endpoints are limited per IP, not per UID,
// and carry no headers.
//
// Invariants: time is the server's clock passed in; a window holds at most its limit's request
// times, and there is one per (key, endpoint) pair, so memory is bounded by keys x endpoints x
// limit; a refused request does not count.

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

export class RateLimiter {
  private readonly limits: EndpointLimits;
  /** The times of the requests taken in the last second, oldest first, by (key, endpoint). */
  private readonly windows = new Map<string, number[]>();

  constructor(limits: EndpointLimits) {
    for (const [path, perSecond] of Object.entries(limits)) assert(Number.isSafeInteger(perSecond) && perSecond > 0, `rate limit of ${path}: ${perSecond}`);
    this.limits = limits;
  }

  /** Counts one request; null when the endpoint has no limit. */
  take(apiKey: string, path: string, nowMs: number): LimitVerdict | null {
    const limit = this.limits[path];
    if (limit === undefined) return null;
    const key = `${apiKey} ${path}`;
    let times = this.windows.get(key);
    if (times === undefined || (times.at(-1) ?? nowMs) > nowMs) {
      times = []; // first of its kind, or the clock went back (a test's): counted afresh
      this.windows.set(key, times);
    }
    while (times.length > 0 && (times[0] ?? nowMs) <= nowMs - limitWindowMs) times.shift();
    const allowed = times.length < limit;
    if (allowed) times.push(nowMs);
    const spent = times.length >= limit;
    return {
      allowed,
      headers: {
        'X-Bapi-Limit': String(limit),
        'X-Bapi-Limit-Status': String(limit - times.length),
        'X-Bapi-Limit-Reset-Timestamp': String(spent ? (times[0] ?? nowMs) + limitWindowMs : nowMs),
      },
    };
  }
}
