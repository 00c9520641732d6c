// A token bucket for the signal route: `perSecond` signals a second sustained, bursts of up to
// `burst`. A script gone wrong (a loop posting signals) is refused with 429 long before it can
// flood the engine's inbox or the venue's order rate limits.
//
// Invariants: the bucket never holds more than `burst` tokens nor fewer than zero; time comes from
// the injected clock (tests pass their own); a refusal says how long until a token is free.

export type Taken = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export class RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly nowMs: () => number;
  private tokens: number;
  private refilledMs: number;

  constructor(options: { readonly perSecond: number; readonly burst?: number; readonly nowMs: () => number }) {
    if (!(options.perSecond > 0)) throw new Error('rate limit: perSecond must be positive');
    this.perSecond = options.perSecond;
    this.burst = Math.max(1, options.burst ?? options.perSecond);
    this.nowMs = options.nowMs;
    this.tokens = this.burst;
    this.refilledMs = this.nowMs();
  }

  take(): Taken {
    const nowMs = this.nowMs();
    const elapsedMs = Math.max(0, nowMs - this.refilledMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.perSecond) / 1_000);
    this.refilledMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1_000) / this.perSecond) };
  }
}
