// Forgetting what has settled. The state would otherwise hold every order and intent the bot ever
// made, and every execution id it booked: a bot that runs for months would grow without bound, its
// journal snapshots with it, and every scan of its orders would slow down. After each
// reconciliation, what has settled is retired: still known, in the second tier of the state's maps,
// off the way of the lookups every ticker makes (core/tiered-map.ts). Most of it was retired as it
// settled (putIntent, putOrderUnrecorded); the sweep catches an order its intent no longer names,
// and what a snapshot from before the tiers held. And past the retention:
//
//   - an intent done longer than `retainSettledMs` ago is forgotten with its orders, once every
//     one of those orders has finished with its fills booked and nothing waits on it (a timer, an
//     unanswered change of the position's stop);
//   - an order of no intent we hold (someone else's, or history a snapshot showed) is forgotten
//     the same retention after it settled (seed 143013: a manual order resting for two minutes,
//     ended by a snapshot, was forgotten as it ended; an older snapshot arriving after listed it
//     open, and it came back as live);
//   - an execution id is forgotten once its fill is older than the fills cursor (the newest fill
//     or snapshot read) less the cold-start lookback and the retention: a day and an hour by
//     default, far beyond what a snapshot asked for from then on reaches (the cursor less the
//     overlap). An execution older than that is taken as booked (venue.ts, isBooked): a snapshot
//     asked for earlier, from further back (one a reconnect superseded, its reply late), may list
//     it again, and neither it nor a late duplicate from the stream books it twice.
//
// The ledger keeps all of it. A late report of a forgotten order (an hour late: not seen in
// practice) is kept as history again, as any finished order the state does not know (restore.ts).

import type { IntentId } from '../ids.ts';
import type { OrderKey } from '../order/order.ts';
import { venueOrderIdOf } from '../order/order.ts';
import type { Ctx } from './context.ts';

/** `now`: a symbol whose settled records go now, however recent (its instrument's grid changed). */
export function forgetSettled(ctx: Ctx, now: string | null = null): void {
  const { state } = ctx;
  const { retainSettledMs, fillsOverlapMs, coldStartLookbackMs } = state.config;
  const retainedFromMs = ctx.atMs - retainSettledMs;
  const horizonOf = (symbol: string): number => (symbol === now ? Infinity : retainedFromMs);

  // What something still waits on: timers, and changes of a position's stop not yet answered.
  const waitedOn = new Set<IntentId | OrderKey>(state.positionStopOwners.values());
  for (const timer of state.timers.values()) {
    if ('intentId' in timer) waitedOn.add(timer.intentId);
    if ('orderKey' in timer) waitedOn.add(timer.orderKey);
  }
  const unsettled = (key: OrderKey, symbol: string): boolean => state.unsettledOrders.get(symbol)?.has(key) === true || waitedOn.has(key);

  // An intent done with nothing waiting on it and every one of its orders settled has settled, by
  // when it was done.
  const settledIntents = new Map<IntentId, { readonly atMs: number; readonly symbol: string }>();
  for (const intent of state.intents.values()) {
    if (intent.phase.name === 'done' && !waitedOn.has(intent.id)) settledIntents.set(intent.id, { atMs: intent.phase.atMs, symbol: intent.symbol });
  }
  for (const order of state.orders.values()) {
    if (order.intentId !== null && settledIntents.has(order.intentId) && unsettled(order.key, order.spec.symbol)) settledIntents.delete(order.intentId);
  }

  // What has settled is retired (most of it is already); past the retention, forgotten.
  let orders = 0;
  for (const order of [...state.orders.values()]) {
    const { intentId } = order;
    const ofIntent = intentId !== null && state.intents.has(intentId);
    const settledMs = ofIntent
      ? settledIntents.get(intentId)?.atMs
      : unsettled(order.key, order.spec.symbol) ? undefined : (state.orderSettledMs.get(order.key) ?? Math.max(order.createdMs, order.venueUpdatedMs));
    if (settledMs === undefined) continue;
    if (settledMs > horizonOf(order.spec.symbol)) {
      state.orders.retire(order.key);
      continue;
    }
    state.orders.delete(order.key);
    state.orderSettledMs.delete(order.key);
    const venueOrderId = venueOrderIdOf(order);
    if (venueOrderId !== null && state.orderKeyByVenueId.get(venueOrderId) === order.key) state.orderKeyByVenueId.delete(venueOrderId);
    state.notFoundAnswers.delete(order.key);
    orders += 1;
  }
  let intents = 0;
  for (const [intentId, settled] of settledIntents) {
    if (settled.atMs > horizonOf(settled.symbol)) {
      state.intents.retire(intentId);
      continue;
    }
    state.intents.delete(intentId);
    intents += 1;
  }

  let fillIds = 0;
  // (Execution ids carry no price: a grid change leaves them to the retention.)
  const fillsFromMs = state.fillCursorMs - Math.max(fillsOverlapMs, coldStartLookbackMs) - retainSettledMs;
  if (fillsFromMs > state.fillIdsFromMs) {
    for (const [executionId, venueMs] of state.fillIds) {
      if (venueMs >= fillsFromMs) continue;
      state.fillIds.delete(executionId);
      fillIds += 1;
    }
    state.fillIdsFromMs = fillsFromMs;
  }

  state.counters.intentsForgotten += intents;
  state.counters.ordersForgotten += orders;
  state.counters.fillIdsForgotten += fillIds;
}
