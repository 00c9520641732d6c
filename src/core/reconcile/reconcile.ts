// Reconciliation: a snapshot of the venue (every open position, every open order, the fills since
// a little before the newest one known) merged into state, with every difference classified and
// healed, each class counted (all should stay at zero) and said in one log line.
//
//  1. Snapshot facts are merged like stream facts, by venue time and sequence: an older snapshot
//     never overwrites newer stream state (order.ts, position.ts).
//  2. Missed fill: in the snapshot, not in state. Booked (deduplicated by execution id).
//  3. Our order unknown to state: restored to its intent by client order id (restore.ts), or an
//     orphan if no live intent wants it (cancelled). Foreign order: left alone unless configured.
//  4. Our live order missing from the open orders although it existed before the snapshot was
//     asked for: it ended unseen; asked for by client order id (vanished). An order in `unknown`
//     found in the snapshot is resolved by it.
//  5. A position missing from the snapshot was flat when the positions were read: applied if we
//     knew nothing newer.
//  6. Size mismatch: the venue's size is not what the fills add up to. Checked again at the next
//     snapshot; if it persists, a synthetic fill with a deterministic id books the difference (the
//     venue wins; a replay deduplicates it).
//  7. Unknown positions are adopted and positions without a stop get one: the same protection
//     every position gets, run once for every symbol after everything is merged.

import type { EventOf, Fill, PositionReport } from '../events.ts';
import type { ExecutionId, VenueOrderId } from '../ids.ts';
import { priceToTicksRounded } from '../instrument.ts';
import { isLive, onNoLongerOpen } from '../order/order.ts';
import { effectiveSizeLots } from '../position/position.ts';
import type { ReconcileCounts, SnapshotReason } from '../state.ts';
import { zeroReconcileCounts } from '../state.ts';
import type { Ctx } from '../engine/context.ts';
import { instrumentOf, notify, queryOrder } from '../engine/context.ts';
import { requestCancel, updateOrder } from '../engine/orders.ts';
import { evaluateSymbol, replaceUnlistedExit, replaceUnlistedStop } from '../engine/protect.ts';
import { applyFill, applyFunding, applyOrderReport, applyPositionReport, applyTicker, applyWallet, isBooked } from '../engine/venue.ts';
import { putIntent } from '../engine/intents.ts';
import { planRestored, recordFinishedFromFill } from './restore.ts';

type Snapshot = EventOf<'SnapshotReceived'>;

export function reconcile(ctx: Ctx, snapshot: Snapshot, reason: SnapshotReason): void {
  const { state } = ctx;
  const before = { ...state.reconcile };
  // When a superseded snapshot arrives (asked for before a reconnect), its facts still count, but
  // not knowing when it was asked for, nothing is concluded from what it lacks.
  const requestedMs = state.snapshot?.snapshotId === snapshot.snapshotId ? state.snapshot.requestedMs : null;
  const symbols = new Set<string>();
  for (const ticker of snapshot.tickers) applyTicker(ctx, ticker);
  if (snapshot.wallet !== null) applyWallet(ctx, snapshot.wallet);
  const open = mergeOrders(ctx, snapshot, symbols);
  mergeFills(ctx, snapshot, symbols);
  // After the fills: an order that is no longer open may have filled in them.
  if (requestedMs !== null) settleVanishedOrders(ctx, open, requestedMs, symbols);
  mergePositions(ctx, snapshot, symbols);
  if (requestedMs !== null) checkSizes(ctx, snapshot, symbols, requestedMs);
  countUnprotected(ctx, snapshot, symbols);
  // The intents restored since the start take their symbol's plan, now that their positions are known.
  if (!state.reconciledSinceStart) planRestoredIntents(ctx, symbols);
  // Adoption is allowed from here on (until the first reconciliation, a position might be one of
  // ours that the snapshot's orders would restore).
  state.reconciledSinceStart = true;
  for (const symbol of symbols) {
    const position = state.positions.get(state.positionKeys.get(symbol) ?? '');
    const open = position !== undefined && effectiveSizeLots(position) !== 0;
    if (open && !state.activeIntentBySymbol.has(symbol)) state.reconcile.unknownPositions += 1;
    evaluateSymbol(ctx, symbol);
  }
  state.reconcile.runs += 1;
  report(ctx, reason, before, snapshot);
}

/** Applies the snapshot's open orders; returns their venue ids. */
function mergeOrders(ctx: Ctx, snapshot: Snapshot, symbols: Set<string>): ReadonlySet<VenueOrderId> {
  const { state } = ctx;
  const open = new Set<VenueOrderId>();
  for (const report of snapshot.openOrders) {
    open.add(report.venueOrderId);
    symbols.add(report.symbol);
    const known = (report.clientOrderId !== null && state.orders.has(report.clientOrderId)) || state.orderKeyByVenueId.has(report.venueOrderId);
    const before = known ? state.orders.get(state.orderKeyByVenueId.get(report.venueOrderId) ?? report.clientOrderId ?? '') : undefined;
    const order = applyOrderReport(ctx, report);
    if (before?.status === 'unknown') state.reconcile.unknownOrdersResolved += 1;
    if (!known && order.role === 'external') {
      state.reconcile.foreignOrders += 1;
      if (state.config.foreignOrders === 'cancel') requestCancel(ctx, order);
    }
  }
  return open;
}

/** Live orders that existed before the snapshot was asked for and are not among its open orders. */
function settleVanishedOrders(ctx: Ctx, open: ReadonlySet<VenueOrderId>, requestedMs: number, symbols: Set<string>): void {
  const { state } = ctx;
  for (const order of state.orders.values()) {
    // Sent after the snapshot was asked for (seed 58318: a stop sent on the fill while a recheck
    // was on its way was taken for vanished and replaced; the first stop's refusal, the market
    // past it, then closed nothing), or not ours and first seen after: the snapshot cannot list it.
    if (!isLive(order) || (order.sentMs ?? order.createdMs) >= requestedMs) continue;
    const venueOrderId = 'venueOrderId' in order ? order.venueOrderId : null;
    if (venueOrderId !== null && open.has(venueOrderId)) continue;
    if (order.intentId === null) {
      // Not ours (someone else's, or the venue's own TP/SL) and no longer open: it ended while its
      // last report was lost or never came (often it was seen only through a fill). Nothing of
      // ours depends on how it ended, so there is nothing to ask the venue.
      updateOrder(ctx, order, onNoLongerOpen(order));
      continue;
    }
    // It existed before the snapshot was asked for and is not open now: it ended unseen (or never
    // reached the venue). Only the venue can say which.
    state.reconcile.vanishedOrders += 1;
    symbols.add(order.spec.symbol);
    queryOrder(ctx, order);
    // Our stop is not among the open orders, or a create went unanswered before this snapshot was
    // asked for: protect now, ask after (a second reduce-only order never closes more).
    if (order.role === 'stop') replaceUnlistedStop(ctx, order);
    if (order.role === 'exit' && order.status === 'unknown' && order.sinceMs <= requestedMs) replaceUnlistedExit(ctx, order);
  }
}

function mergeFills(ctx: Ctx, snapshot: Snapshot, symbols: Set<string>): void {
  const { state } = ctx;
  // Oldest first, as they happened (Bybit lists executions newest first): more missed fills than
  // the ledger's replay window would otherwise be booked out of order.
  const fills = [...snapshot.fills].sort((a, b) => a.venueMs - b.venueMs || a.seq - b.seq);
  for (const fill of fills) {
    if (isBooked(state, fill.executionId, fill.venueMs)) continue;
    state.reconcile.missedFills += 1;
    symbols.add(fill.symbol);
    // An order known neither to state nor among the open orders just merged is over: recorded as
    // history rather than asked about one by one.
    if (!state.orderKeyByVenueId.has(fill.venueOrderId)) recordFinishedFromFill(ctx, fill);
    applyFill(ctx, fill);
  }
  for (const funding of snapshot.funding ?? []) applyFunding(ctx, funding);
  // The venue's fills up to its read are known now (one it lists late falls in the next fetch's
  // overlap): the cursor moves on without a fill too, so that a bot idle for weeks does not read
  // the weeks again, seven days a request, at every reconciliation.
  state.fillCursorMs = Math.max(state.fillCursorMs, snapshot.positionsVenueMs);
}

function mergePositions(ctx: Ctx, snapshot: Snapshot, symbols: Set<string>): void {
  const { state } = ctx;
  const reported = new Set<string>();
  for (const report of snapshot.positions) {
    reported.add(report.symbol);
    symbols.add(report.symbol);
    applyPositionReport(ctx, report);
  }
  for (const position of state.positions.values()) {
    if (reported.has(position.symbol)) continue;
    symbols.add(position.symbol);
    const venue = position.venue;
    // Missing from the snapshot: flat when the positions were read. Applied only if the newest we
    // know predates that read (a stream report from after it stands).
    if (venue === null || venue.sizeLots === 0 || venue.venueUpdatedMs >= snapshot.positionsVenueMs) continue;
    const flat: PositionReport = { ...venue, symbol: position.symbol, sizeLots: 0, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: snapshot.positionsVenueMs };
    applyPositionReport(ctx, flat);
  }
}

/**
 * A size the booked fills do not explain, seen twice, is booked as a synthetic fill. The second
 * sighting must come from a snapshot asked for after the first: one already on its way could not
 * list the fill that was missing (seed 55804: a stale snapshot and a reconnect's, both asked for
 * before an exit filled, confirmed each other 21 ms apart while the exit's fill was on its way,
 * and it was booked twice). Only the awaited snapshot is asked (see `reconcile`).
 */
function checkSizes(ctx: Ctx, snapshot: Snapshot, symbols: Set<string>, requestedMs: number): void {
  const { state } = ctx;
  for (const symbol of symbols) {
    const position = state.positions.get(state.positionKeys.get(symbol) ?? '');
    const venue = position?.venue ?? null;
    if (position === undefined || venue === null || venue.seq < position.lastFillSeq) {
      state.suspectedMismatches.delete(symbol);
      continue;
    }
    const diffLots = venue.sizeLots - position.sizeLots;
    if (diffLots === 0) {
      state.suspectedMismatches.delete(symbol);
      continue;
    }
    const suspected = state.suspectedMismatches.get(symbol);
    if (suspected?.diffLots !== diffLots || suspected.venueSeq !== venue.seq) {
      state.suspectedMismatches.set(symbol, { diffLots, venueSeq: venue.seq, suspectedMs: ctx.atMs });
      continue;
    }
    if (requestedMs < suspected.suspectedMs) continue; // asked for before the suspicion: no second sighting
    state.suspectedMismatches.delete(symbol);
    bookSynthetic(ctx, symbol, diffLots, venue.seq, venue.entryPrice, snapshot.positionsVenueMs);
  }
}

function bookSynthetic(ctx: Ctx, symbol: string, diffLots: number, seq: number, entryPrice: string, venueMs: number): void {
  const instrument = instrumentOf(ctx, symbol);
  if (instrument === undefined) return;
  const market = ctx.state.markets.get(symbol);
  const entry = Number(entryPrice);
  // Opening size is booked at the venue's average entry, closing size at the market: the best
  // prices known; the difference from the true ones is what the missing fills would have said.
  const priceTicks = diffLots > 0 === (entry > 0)
    ? priceToTicksRounded(instrument, entry, 'nearest')
    : market?.markTicks ?? market?.lastTicks ?? priceToTicksRounded(instrument, Math.max(entry, 0), 'nearest');
  if (priceTicks <= 0) return;
  ctx.state.reconcile.sizeMismatches += 1;
  const fill: Fill = {
    symbol, executionId: `synthetic-${symbol}-${seq}-${diffLots}` as ExecutionId, venueOrderId: `synthetic-${symbol}` as VenueOrderId,
    clientOrderId: null, side: diffLots > 0 ? 'buy' : 'sell', priceTicks, lots: Math.abs(diffLots), feeE8: 0, liquidity: 'taker', venueMs, seq, positionTrigger: null,
  };
  notify(ctx, 'alarm', 'size-mismatch', symbol, `the venue's size differs from the fills by ${diffLots} lots at two reconciliations: booked a synthetic fill (${fill.executionId})`);
  applyFill(ctx, fill);
}

function countUnprotected(ctx: Ctx, snapshot: Snapshot, symbols: Set<string>): void {
  for (const report of snapshot.positions) {
    if (report.sizeLots === 0 || report.stopLossTicks !== null) continue;
    const closing = report.sizeLots > 0 ? 'sell' : 'buy';
    const coveredLots = snapshot.openOrders
      .filter((order) => order.symbol === report.symbol && order.reduceOnly && order.orderKind === 'stop-market' && order.side === closing)
      .reduce((sum, order) => sum + order.sizeLots - order.filledLots, 0);
    if (coveredLots >= Math.abs(report.sizeLots)) continue;
    ctx.state.reconcile.positionsWithoutStop += 1;
    symbols.add(report.symbol);
  }
}

function report(ctx: Ctx, reason: SnapshotReason, before: ReconcileCounts, snapshot: Snapshot): void {
  const now = ctx.state.reconcile;
  const found = (Object.keys(now) as (keyof ReconcileCounts)[])
    .filter((key) => key !== 'runs' && now[key] !== before[key])
    .map((key) => `${key} ${now[key] - before[key]}`);
  const what = `${snapshot.positions.length} positions, ${snapshot.openOrders.length} open orders, ${snapshot.fills.length} fills`;
  notify(ctx, found.length === 0 ? 'info' : 'warn', 'reconciled', null,
    `reconciled (${reason}) with ${what}: ${found.length === 0 ? 'no drift' : found.join(', ')}`, diffCounts(now, before));
}

function diffCounts(now: ReconcileCounts, before: ReconcileCounts): Record<string, number> {
  const diff = zeroReconcileCounts();
  for (const key of Object.keys(diff) as (keyof ReconcileCounts)[]) diff[key] = now[key] - before[key];
  return diff;
}

/**
 * Every intent restored since the start (by this snapshot, or by a report before it) gets its plan
 * and is evaluated. One an earlier run restored and planned (and the journal kept) keeps its plan.
 */
function planRestoredIntents(ctx: Ctx, symbols: Set<string>): void {
  for (const intentId of ctx.state.activeIntentBySymbol.values()) {
    const intent = ctx.state.intents.get(intentId);
    if (intent?.kind !== 'restored') continue;
    symbols.add(intent.symbol);
    const { trailing, aged, breakevenAfterFirstTarget } = intent.plan;
    if (trailing !== null || aged !== null || breakevenAfterFirstTarget) continue;
    const planned = planRestored(ctx, intent);
    if (planned !== intent) putIntent(ctx, planned);
  }
}
