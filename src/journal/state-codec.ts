// The engine's state as a journal snapshot: plain JSON, every map as a list of entries in its
// insertion order (which the engine relies on: the oldest remembered request id is dropped first).
// The configuration is not part of it: it comes from the configuration file of the process that
// loads the snapshot, as it would after a replay from the first event.
//
// Invariants: decode(encode(state)) has the same stateDigest as state and encodes to the same
// text; a snapshot written by another format version is not decoded (the journal replays instead).

import type { Instrument } from '../core/instrument.ts';
import type { Intent } from '../core/intent/intent.ts';
import type { Order } from '../core/order/order.ts';
import type { Position } from '../core/position/position.ts';
import type { EngineConfig, EngineState, Market, PendingTimer, RequestMemory, SuspectedMismatch } from '../core/state.ts';
import { createEngineState } from '../core/state.ts';
import { indexUnsettled } from '../core/engine/context.ts';
import { indexPositionStop } from '../core/engine/intents.ts';

/** Bumped whenever the shape of EngineState changes: older snapshots are then ignored, not misread. */
export const stateFormat = 17;

type Entries<V> = (readonly [string, V])[];

/** Every field of EngineState but the configuration, with maps as entry lists. */
type EncodedState = {
  readonly format: number;
  readonly seq: number;
  readonly intentSeq: number;
  readonly instruments: Instrument[];
  /** `fresh` is absent in snapshots written before it. */
  readonly markets: Entries<Omit<Market, 'fresh'> & { readonly fresh?: boolean }>;
  readonly wallet: EngineState['wallet'];
  /** Live orders, then the retired ones (the last `retiredOrders`; absent in snapshots before the tiers: none). */
  readonly orders: Order[];
  readonly retiredOrders?: number;
  readonly orderKeyByVenueId: Entries<string>;
  readonly fillIds: Entries<number>;
  readonly fillIdsFromMs: number;
  readonly orderSettledMs: Entries<number>;
  readonly positions: Position[];
  readonly intents: Intent[];
  readonly retiredIntents?: number;
  readonly activeIntentBySymbol: Entries<string>;
  readonly requests: Entries<RequestMemory>;
  readonly timers: (readonly [number, PendingTimer])[];
  readonly notFoundAnswers: Entries<number>;
  readonly counters: EngineState['counters'];
  readonly lifecycle: EngineState['lifecycle'];
  readonly streams: EngineState['streams'];
  readonly snapshot: EngineState['snapshot'];
  readonly reconciledSinceStart: boolean;
  readonly startedMs: number | null;
  readonly fillCursorMs: number;
  readonly periodicTimerId: number | null;
  readonly suspectedMismatches: Entries<SuspectedMismatch>;
  readonly recheckWantedSinceMs: number | null;
  readonly reconcile: EngineState['reconcile'];
};

/**
 * Each record's JSON, kept while the record lives. Orders, intents and positions are immutable
 * records replaced whole (see core/state.ts), so one unchanged since the last snapshot is not
 * serialized again: most of a snapshot is trades that settled within the retention window.
 */
const recordJson = new WeakMap<object, string>();

function jsonOf(record: object): string {
  let text = recordJson.get(record);
  if (text === undefined) {
    text = JSON.stringify(record);
    recordJson.set(record, text);
  }
  return text;
}

function listJson(records: Iterable<object>): string {
  return `[${Array.from(records, jsonOf).join(',')}]`;
}

type Records = 'orders' | 'positions' | 'intents';

export function encodeState(state: EngineState): string {
  const rest: Omit<EncodedState, Records> = {
    format: stateFormat,
    seq: state.seq,
    intentSeq: state.intentSeq,
    instruments: [...state.instruments.values()],
    markets: [...state.markets],
    wallet: state.wallet,
    orderKeyByVenueId: [...state.orderKeyByVenueId],
    fillIds: [...state.fillIds],
    fillIdsFromMs: state.fillIdsFromMs,
    orderSettledMs: [...state.orderSettledMs],
    activeIntentBySymbol: [...state.activeIntentBySymbol],
    requests: [...state.requests],
    timers: [...state.timers],
    notFoundAnswers: [...state.notFoundAnswers],
    counters: state.counters,
    lifecycle: state.lifecycle,
    streams: state.streams,
    snapshot: state.snapshot,
    reconciledSinceStart: state.reconciledSinceStart,
    startedMs: state.startedMs,
    fillCursorMs: state.fillCursorMs,
    periodicTimerId: state.periodicTimerId,
    suspectedMismatches: [...state.suspectedMismatches],
    recheckWantedSinceMs: state.recheckWantedSinceMs,
    reconcile: state.reconcile,
    retiredOrders: state.orders.retiredSize,
    retiredIntents: state.intents.retiredSize,
  };
  // The record lists go last, each record's JSON as it was cached.
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"orders":${listJson(state.orders.values())},"positions":${listJson(state.positions.values())},"intents":${listJson(state.intents.values())}}`;
}

export class SnapshotFormatError extends Error {}

/** The state a snapshot holds, under the given configuration. */
export function decodeState(text: string, config: Partial<EngineConfig>): EngineState {
  const encoded = JSON.parse(text) as EncodedState;
  if (encoded.format !== stateFormat) throw new SnapshotFormatError(`snapshot format ${String(encoded.format)}, this build reads ${stateFormat}`);
  const state = createEngineState(config);
  for (const instrument of encoded.instruments) state.instruments.set(instrument.symbol, instrument);
  // A snapshot from before `fresh` (undefined): not fresh, as after any start.
  for (const [symbol, market] of encoded.markets) state.markets.set(symbol, { ...market, fresh: market.fresh === true });
  const liveOrders = encoded.orders.length - (encoded.retiredOrders ?? 0);
  encoded.orders.forEach((order, index) => {
    if (index < liveOrders) state.orders.set(order.key, order);
    else state.orders.setRetired(order.key, order);
    indexUnsettled(state.unsettledOrders, order);
  });
  fill(state.orderKeyByVenueId as Map<string, string>, encoded.orderKeyByVenueId);
  fill(state.fillIds as Map<string, number>, encoded.fillIds);
  fill(state.orderSettledMs, encoded.orderSettledMs);
  for (const position of encoded.positions) {
    state.positions.set(position.key, position);
    state.positionKeys.set(position.symbol, position.key);
  }
  const liveIntents = encoded.intents.length - (encoded.retiredIntents ?? 0);
  encoded.intents.forEach((intent, index) => {
    if (index < liveIntents) state.intents.set(intent.id, intent);
    else state.intents.setRetired(intent.id, intent);
    indexPositionStop(state.positionStopOwners, intent);
  });
  fill(state.activeIntentBySymbol as Map<string, string>, encoded.activeIntentBySymbol);
  fill(state.requests, encoded.requests);
  for (const [timerId, timer] of encoded.timers) state.timers.set(timerId, timer);
  fill(state.notFoundAnswers, encoded.notFoundAnswers);
  fill(state.suspectedMismatches, encoded.suspectedMismatches);
  Object.assign(state.counters, encoded.counters);
  Object.assign(state.reconcile, encoded.reconcile);
  Object.assign(state.streams, encoded.streams);
  state.seq = encoded.seq;
  state.intentSeq = encoded.intentSeq;
  state.wallet = encoded.wallet;
  state.lifecycle = encoded.lifecycle;
  state.snapshot = encoded.snapshot;
  state.reconciledSinceStart = encoded.reconciledSinceStart;
  state.startedMs = encoded.startedMs;
  state.fillCursorMs = encoded.fillCursorMs;
  state.fillIdsFromMs = encoded.fillIdsFromMs;
  state.periodicTimerId = encoded.periodicTimerId;
  state.recheckWantedSinceMs = encoded.recheckWantedSinceMs;
  return state;
}

function fill<V>(map: Map<string, V>, entries: Entries<V>): void {
  for (const [key, value] of entries) map.set(key, value);
}
