// The order in which Vigil's requests go to Bybit, and how fast.
//
// Bybit limits every endpoint on its own, per UID and rolling second: order create, amend and
// cancel and position trading-stop 10/s each for linear; the order and list reads 50/s (see
// ../shared/notes/ccxt-bybit.md, and the emulator's limits.ts). Each endpoint here has a window of
// its own, a little under Bybit's: a burst of one kind of request never holds back another. That
// matters for protection: two hundred trailing stops tightening in one move of the market fill the
// amend endpoint's second twenty times over, and the stop of a position that has just filled (a
// create) must not wait behind them.
//
// Within an endpoint, waiting requests go by priority, then in the order they came: protection
// first (a stop, an exit, a cancel, a change of a working stop), then reads, then new risk
// (entries). A request the venue refused for its rate was not executed: it goes back to the head of
// its lane after a pause that doubles with each refusal.
//
// Invariants: no endpoint is sent more than its limit in any second; a request waits only while its
// endpoint's second is full or one of higher priority on the same endpoint waits; every request
// pushed runs (a refused one again) unless the venue refuses it for its rate forever.

import type { LiveVenueDeps } from '../port.ts';

export type Endpoint = 'create' | 'amend' | 'trading-stop' | 'cancel' | 'query' | 'list';

/** Bybit's documented limits per endpoint and UID, per second; Vigil stays a little under. */
export const limitsPerSecond: Readonly<Record<Endpoint, number>> = { create: 9, amend: 9, 'trading-stop': 9, cancel: 9, query: 45, list: 45 };

/** 0: protection; 1: reads; 2: new risk. */
export type Priority = 0 | 1 | 2;

export type Queued = {
  readonly endpoint: Endpoint;
  readonly priority: Priority;
  readonly run: () => Promise<void>;
  attempts: number;
  /** When it last joined its lane (set by the queue). */
  queuedMs?: number;
};

const windowMs = 1_000;
const rateLimitRetryMs = 250;
const rateLimitRetryMsMax = 5_000;

export class RequestQueue {
  private readonly waiting: Queued[][] = [[], [], []];
  /** When each endpoint's requests in the last second went out, oldest first. */
  private readonly sent = new Map<Endpoint, number[]>();
  private readonly deps: Pick<LiveVenueDeps, 'clock' | 'log' | 'onRateLimitWait' | 'onQueueWait'>;
  /** The earliest wake-up armed (Infinity: none): an earlier one is armed as well, never instead of a later. */
  private wakeAtMs = Infinity;
  rateLimitWaits = 0;

  constructor(deps: Pick<LiveVenueDeps, 'clock' | 'log' | 'onRateLimitWait' | 'onQueueWait'>) {
    this.deps = deps;
  }

  push(item: Queued): void {
    item.queuedMs = this.deps.clock.nowMs();
    this.waiting[item.priority]?.push(item);
    this.pump();
  }

  /** Puts a request the venue refused for its rate back at the head of its lane, after a pause. */
  retry(item: Queued): void {
    this.rateLimitWaits += 1;
    item.attempts += 1;
    const delayMs = Math.min(rateLimitRetryMsMax, rateLimitRetryMs * 2 ** Math.min(item.attempts - 1, 5));
    this.deps.log(`bybit: rate limited (${item.endpoint}); trying again in ${delayMs} ms (attempt ${item.attempts + 1})`);
    this.deps.onRateLimitWait?.(item.endpoint, delayMs);
    this.deps.clock.schedule(this.deps.clock.nowMs() + delayMs, () => {
      item.queuedMs = this.deps.clock.nowMs();
      this.waiting[item.priority]?.unshift(item);
      this.pump();
    });
  }

  /** Requests waiting, on every endpoint. */
  get size(): number {
    return this.waiting.reduce((sum, lane) => sum + lane.length, 0);
  }

  private pump(): void {
    const nowMs = this.deps.clock.nowMs();
    let earliestMs = Infinity;
    for (const lane of this.waiting) {
      for (let i = 0; i < lane.length; ) {
        const item = lane[i] as Queued;
        const freeAtMs = this.freeAtMs(item.endpoint, nowMs);
        if (freeAtMs > nowMs) {
          earliestMs = Math.min(earliestMs, freeAtMs);
          i += 1;
          continue;
        }
        lane.splice(i, 1);
        const times = this.sent.get(item.endpoint);
        if (times === undefined) this.sent.set(item.endpoint, [nowMs]);
        else times.push(nowMs);
        const waitedMs = nowMs - (item.queuedMs ?? nowMs);
        if (waitedMs > 0) this.deps.onQueueWait?.(item.endpoint, waitedMs);
        void item.run();
      }
    }
    // A request that can go sooner than the wake-up armed (another endpoint's second ends first)
    // gets its own: it must not wait for a busier endpoint's.
    if (earliestMs < this.wakeAtMs) {
      this.wakeAtMs = earliestMs;
      this.deps.clock.schedule(earliestMs, () => {
        if (this.wakeAtMs === earliestMs) this.wakeAtMs = Infinity;
        this.pump();
      });
    }
  }

  /** When the next request to the endpoint fits in its one-second window. */
  private freeAtMs(endpoint: Endpoint, nowMs: number): number {
    const times = this.sent.get(endpoint) ?? [];
    while (times.length > 0 && (times[0] ?? 0) <= nowMs - windowMs) times.shift();
    return times.length < limitsPerSecond[endpoint] ? nowMs : (times[0] ?? nowMs) + windowMs;
  }
}
