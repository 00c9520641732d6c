// The delivery schedule between the venue and the bot, per channel: REST requests and replies,
// the private stream, the public stream. Each channel has a latency range (uniform jitter inside
// it); faults are optional and seeded: duplicates and reordering on the private stream, REST
// requests lost on the way in or replies lost on the way out (the caller then sees a timeout
// and cannot know whether the venue acted), streams that drop or go silent, and snapshots whose
// replies arrive late, older than stream events already received.

import type { Rng } from './rng.ts';

export type LatencyMs = { readonly min: number; readonly max: number };

export type NetworkConfig = {
  readonly restRequest: LatencyMs;
  readonly restReply: LatencyMs;
  readonly privateStream: LatencyMs;
  readonly publicStream: LatencyMs;
  /** Opening a stream: connect, authenticate, subscribe. */
  readonly streamSetup: LatencyMs;
  /** A REST call with no reply within this time is reported to the bot as an unknown outcome. */
  readonly restTimeoutMs: number;
  readonly faults: NetworkFaults;
};

export type NetworkFaults = {
  /** Chance a private message is delivered twice (the copy later). */
  readonly duplicateChance: number;
  /** Chance a private message is held back, so later messages overtake it. */
  readonly reorderChance: number;
  readonly reorderDelayMs: LatencyMs;
  /** Chance a REST request never reaches the venue (the bot sees a timeout). */
  readonly requestLostChance: number;
  /** Chance the venue acts on a request but its reply is lost (the bot sees a timeout). */
  readonly replyLostChance: number;
  /** Mean time between stream faults on each stream; 0 for none. */
  readonly streamFaultEveryMs: number;
  /** Share of stream faults that are silent stalls (the rest close the connection). */
  readonly stallShare: number;
  /** Chance a snapshot page's reply is held back, so stream events overtake it. */
  readonly staleSnapshotChance: number;
  readonly staleSnapshotDelayMs: LatencyMs;
  /**
   * Chance a REST request meets a server error (Bybit's 5xx): the venue may or may not have acted
   * (half the time it did), and the bot hears at once that the outcome is unknown.
   */
  readonly serverErrorChance: number;
  /**
   * Chance the venue refuses a request for its rate (10006, 429) without acting: the adapter waits
   * as told and sends the same request again, so the bot sees a late answer.
   */
  readonly rateLimitChance: number;
  readonly rateLimitWaitMs: LatencyMs;
};

export const noFaults: NetworkFaults = {
  duplicateChance: 0, reorderChance: 0, reorderDelayMs: { min: 0, max: 0 }, requestLostChance: 0, replyLostChance: 0,
  streamFaultEveryMs: 0, stallShare: 0, staleSnapshotChance: 0, staleSnapshotDelayMs: { min: 0, max: 0 },
  serverErrorChance: 0, rateLimitChance: 0, rateLimitWaitMs: { min: 0, max: 0 },
};

export type FaultCounts = {
  duplicated: number;
  reordered: number;
  requestsLost: number;
  repliesLost: number;
  streamResets: number;
  streamStalls: number;
  staleSnapshots: number;
  /** Stream messages sent while their connection was down or silent: lost on the wire. */
  lostOnWire: number;
  /** Requests answered with a server error (their outcome unknown), and of those, the ones the venue had acted on. */
  serverErrors: number;
  serverErrorsActed: number;
  /** Requests the venue refused for their rate and the adapter sent again after waiting. */
  rateLimited: number;
};

export class Network {
  config: NetworkConfig;
  readonly counts: FaultCounts = {
    duplicated: 0, reordered: 0, requestsLost: 0, repliesLost: 0, streamResets: 0, streamStalls: 0, staleSnapshots: 0, lostOnWire: 0,
    serverErrors: 0, serverErrorsActed: 0, rateLimited: 0,
  };
  private readonly rng: Rng;

  constructor(config: NetworkConfig, rng: Rng) {
    this.config = config;
    this.rng = rng;
  }

  heal(): void {
    this.config = { ...this.config, faults: noFaults };
  }

  latency(range: LatencyMs): number {
    return this.rng.int(range.min, range.max);
  }

  /** Delivery delays for one private-stream message: one entry per copy delivered. */
  privateDelays(): number[] {
    const { faults, privateStream } = this.config;
    let delay = this.latency(privateStream);
    if (faults.reorderChance > 0 && this.rng.chance(faults.reorderChance)) {
      delay += this.latency(faults.reorderDelayMs);
      this.counts.reordered += 1;
    }
    if (faults.duplicateChance > 0 && this.rng.chance(faults.duplicateChance)) {
      this.counts.duplicated += 1;
      return [delay, delay + this.latency(privateStream) + 1];
    }
    return [delay];
  }

  requestLost(): boolean {
    const lost = this.rng.chance(this.config.faults.requestLostChance);
    if (lost) this.counts.requestsLost += 1;
    return lost;
  }

  /** Extra delay for a snapshot page's reply, or 0. */
  staleSnapshotDelay(): number {
    const { staleSnapshotChance, staleSnapshotDelayMs } = this.config.faults;
    if (staleSnapshotChance <= 0 || !this.rng.chance(staleSnapshotChance)) return 0;
    this.counts.staleSnapshots += 1;
    return this.latency(staleSnapshotDelayMs);
  }

  /** When the next stream fault happens after `fromMs`, or null if faults are off. */
  nextStreamFaultAt(fromMs: number): number | null {
    const everyMs = this.config.faults.streamFaultEveryMs;
    if (everyMs <= 0) return null;
    return fromMs + Math.max(1, Math.round(-Math.log(1 - this.rng.next()) * everyMs));
  }

  streamFaultIsStall(): boolean {
    return this.rng.chance(this.config.faults.stallShare);
  }

  /** A server error for this request: null if none, else whether the venue acted on it first. */
  serverError(): { readonly acted: boolean } | null {
    const { serverErrorChance } = this.config.faults;
    if (serverErrorChance <= 0 || !this.rng.chance(serverErrorChance)) return null;
    const acted = this.rng.chance(0.5);
    this.counts.serverErrors += 1;
    if (acted) this.counts.serverErrorsActed += 1;
    return { acted };
  }

  /** How long the adapter waits before sending a rate-limited request again, or null if it was not limited. */
  rateLimitWait(): number | null {
    const { rateLimitChance, rateLimitWaitMs } = this.config.faults;
    if (rateLimitChance <= 0 || !this.rng.chance(rateLimitChance)) return null;
    this.counts.rateLimited += 1;
    return this.latency(rateLimitWaitMs);
  }

  replyLost(): boolean {
    const lost = this.rng.chance(this.config.faults.replyLostChance);
    if (lost) this.counts.repliesLost += 1;
    return lost;
  }
}
