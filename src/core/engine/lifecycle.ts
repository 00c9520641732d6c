// The startup lifecycle, and its return after every reconnect: load -> connect -> snapshot ->
// reconcile -> trade. Streams first, snapshot after: an event that happens between the two is in
// the stream, and the snapshot is merged with it by venue time and sequence (reconcile.ts), so
// nothing falls in a gap. Writes that must be observed (entries, take-profits) wait for `trading`;
// protective orders (stops, exits, cancels) never wait.
//
// Invariants: a snapshot is requested only while the private stream is up; `trading` is entered
// only by reconciling a snapshot requested after the private stream last came up; losing the
// private stream leaves `trading` at once.

import type { EventOf, StreamName } from '../events.ts';
import type { Instrument } from '../instrument.ts';
import { limitChanges } from '../instrument.ts';
import { effectiveSizeLots, rebased } from '../position/position.ts';
import { reconcile } from '../reconcile/reconcile.ts';
import type { EngineState, Lifecycle, TimerPurpose } from '../state.ts';
import { forgetSettled } from './retention.ts';
import type { Ctx } from './context.ts';
import { notify, putOrder, startTimer } from './context.ts';
import { closeDueDelistings, onDelistingRead } from './delisting.ts';
import { clearCancelRequest, onAmendUnknown, onSubmitUnknown } from '../order/order.ts';
import { onSnapshotMerged, requestSnapshot } from './snapshots.ts';
import { evaluateSymbol } from './protect.ts';
import { markPositionStopUnknown } from './guard.ts';

export function onEngineStarted(ctx: Ctx): void {
  const { state } = ctx;
  state.startedMs = ctx.atMs;
  // Client order ids of this run start above every id an earlier run can have made (ids carry
  // the sequence, and time only moves on), so a restart without a journal never reuses one.
  state.intentSeq = Math.max(state.intentSeq, ctx.atMs);
  state.streams.private = 'down';
  state.streams.public = 'down';
  state.snapshot = null;
  state.reconciledSinceStart = false;
  state.recheckWantedSinceMs = null; // the startup snapshot is a fresh look
  resumeInFlight(ctx);
  enter(ctx, { phase: 'connecting', sinceMs: ctx.atMs }, 'connecting the private and public streams; no orders until they are up and reconciled');
  // Said at every start, as when it was first seen: whoever starts the bot should hear of it.
  for (const instrument of state.instruments.values()) {
    if (instrument.delistMs !== undefined) onDelistingRead(ctx, instrument);
  }
}

/**
 * State restored from the journal of a process that died: the replies that process waited for
 * will never come, and its timers died with it. An order whose create was sent (or was about to
 * be: it was journaled first) has an unknown outcome, settled by the startup snapshot or by asking
 * the venue by client order id, never by sending it again; a cancel in flight may be sent again
 * once the order is seen live. Timers are armed again for when they were due; snapshot timers are
 * dropped, the startup snapshot replaces them.
 */
function resumeInFlight(ctx: Ctx): void {
  const { state } = ctx;
  let inFlight = 0;
  for (const order of [...state.orders.values()]) {
    let next = order.cancelRequestedMs === null ? order : clearCancelRequest(order);
    if (next.status === 'submitted') {
      next = onSubmitUnknown(next, ctx.atMs);
      inFlight += 1;
    }
    // An amend with no reply: asked for before anything else is changed on that order.
    if (next.amending !== null && !next.amending.unknown) {
      // Asked for once it can no longer land (see receiveWindowMs).
      const askAtMs = next.amending.sentMs + state.config.receiveWindowMs;
      next = onAmendUnknown(next);
      startTimer(ctx, { kind: 'query-order', orderKey: next.key }, Math.max(0, askAtMs - ctx.atMs));
    }
    if (next !== order) putOrder(ctx, next);
  }
  // A position-stop change with no reply: settled once it can no longer land (guard.ts).
  for (const intentId of [...state.positionStopOwners.values()]) {
    const intent = state.intents.get(intentId);
    if (intent?.guard.positionStop != null) markPositionStopUnknown(ctx, intent, 'a position-stop change had no reply before the restart');
  }
  state.periodicTimerId = null;
  for (const [timerId, timer] of [...state.timers]) {
    if (timer.kind === 'reconcile' || timer.kind === 'snapshot-retry' || isSettledByStartup(ctx, timer)) state.timers.delete(timerId);
    else ctx.out.push({ type: 'StartTimer', timerId, fireAtMs: Math.max(timer.fireAtMs, ctx.atMs) });
  }
  if (inFlight > 0) {
    notify(ctx, 'warn', 'restart-in-flight', null, `restarted with ${inFlight} order(s) whose create had no reply: their outcome is settled by the startup snapshot and by client order id, never by sending them again`);
  }
}

/**
 * The deadline of a stop whose create had no reply before the restart: it fell due, as a rule,
 * while the bot was down, and would close at once a position whose stop most likely works. The
 * startup snapshot settles that stop instead: listed, it works; not listed, it is replaced at once
 * with a deadline of its own (reconcile.ts). The bound on the time without a stop then runs from
 * when the bot can see the venue again, as it must for anything the venue did while it was down.
 */
function isSettledByStartup(ctx: Ctx, timer: TimerPurpose): boolean {
  if (timer.kind !== 'stop-deadline') return false;
  return ctx.state.orders.get(timer.orderKey)?.status === 'unknown';
}

export function onStreamConnected(ctx: Ctx, event: EventOf<'StreamConnected'>): void {
  const { state } = ctx;
  state.streams[event.stream] = 'up';
  notify(ctx, 'info', 'stream-up', null, `${event.stream} stream subscribed`);
  if (event.stream === 'public') {
    for (const market of state.markets.values()) market.fresh = false;
    return;
  }
  // Whatever happened while it was down is in a snapshot taken from now on, never in one before.
  enter(ctx, { phase: 'snapshotting', sinceMs: ctx.atMs }, 'private stream up: fetching a snapshot of positions, open orders and fills');
  requestSnapshot(ctx, state.reconciledSinceStart ? 'reconnect' : 'startup', 0);
}

export function onStreamDisconnected(ctx: Ctx, event: EventOf<'StreamDisconnected'>): void {
  const { state } = ctx;
  const wasUp = state.streams[event.stream] === 'up';
  state.streams[event.stream] = 'down';
  if (!wasUp) return;
  // A warning, not an alarm: a drop is routine, and the reconnect's snapshot heals what it hid. The
  // stream supervisor (src/shell/streams.ts) raises the alarm when reconnecting keeps failing.
  notify(ctx, 'warn', 'stream-down', null, `${event.stream} stream down (${event.reason})${consequence(event.stream)}`);
  if (event.stream !== 'private') return;
  state.snapshot = null; // one taken before the reconnect cannot stand in for one after it
  enter(ctx, { phase: 'connecting', sinceMs: ctx.atMs }, 'reconnecting the private stream; entries refused meanwhile');
}

function consequence(stream: StreamName): string {
  return stream === 'private' ? ': new entries refused until it is back and reconciled; stops and exits still go out' : ': market entries refused until prices are live again';
}

export function onSnapshotReceived(ctx: Ctx, event: EventOf<'SnapshotReceived'>): void {
  const { state } = ctx;
  const awaited = state.snapshot?.snapshotId === event.snapshotId ? state.snapshot : null;
  // Any snapshot's facts are merged (they are venue facts like any other); only the awaited one
  // moves the lifecycle on.
  reconcile(ctx, event, awaited?.reason ?? 'periodic');
  forgetSettled(ctx);
  closeDueDelistings(ctx);
  if (awaited === null) return;
  state.snapshot = null;
  if (state.streams.private === 'up' && state.lifecycle.phase !== 'trading') {
    enter(ctx, { phase: 'trading', sinceMs: ctx.atMs }, `reconciled (${awaited.reason}): trading`);
    for (const symbol of [...state.activeIntentBySymbol.keys()]) evaluateSymbol(ctx, symbol);
  }
  if (awaited.reason !== 'recheck') state.periodicTimerId = startTimer(ctx, { kind: 'reconcile' }, state.config.reconcileEveryMs);
  onSnapshotMerged(ctx, awaited.requestedMs);
  if (state.suspectedMismatches.size > 0) startTimer(ctx, { kind: 'snapshot-retry', reason: 'recheck', attempt: 0 }, state.config.mismatchRecheckMs);
}

export function onSnapshotFailed(ctx: Ctx, event: EventOf<'SnapshotFailed'>): void {
  const awaited = ctx.state.snapshot;
  if (awaited?.snapshotId !== event.snapshotId) return;
  const { snapshotRetryMs, snapshotRetryMsMax } = ctx.state.config;
  const delayMs = Math.min(snapshotRetryMsMax, snapshotRetryMs * 2 ** awaited.attempt);
  notify(ctx, 'warn', 'snapshot-failed', null, `snapshot failed (${event.reason}); asking again in ${delayMs} ms`);
  ctx.state.snapshot = null;
  startTimer(ctx, { kind: 'snapshot-retry', reason: awaited.reason, attempt: awaited.attempt + 1 }, delayMs);
}

function enter(ctx: Ctx, lifecycle: Lifecycle, text: string): void {
  ctx.state.lifecycle = lifecycle;
  notify(ctx, 'info', 'phase', null, `phase ${lifecycle.phase}: ${text}`);
}

/**
 * The venue's instruments, loaded at a start (a change while the bot runs stops it: see
 * src/shell/instrument-watch.ts). A symbol whose tick or lot changed since the state's were
 * loaded keeps nothing in the old units, which the new grid would misread: its prices go (its
 * next ticker brings them), its position's fill memory is rebased on the totals as they stand,
 * and its settled records, kept for the retention, are forgotten now (the ledger has them, written
 * in the units they were made in). Under live records the change cannot be taken in: the old grid
 * stays, and the alarm says so (the runtime refuses such a start before it gets here).
 */
export function onInstrumentsLoaded(ctx: Ctx, event: EventOf<'InstrumentsLoaded'>): void {
  const { state } = ctx;
  const changes = gridChanges(state, event.instruments);
  const refused = new Set(changes.flatMap((change) => (change.live ? [change.symbol] : [])));
  const replaced: { readonly known: Instrument; readonly loaded: Instrument }[] = [];
  for (const instrument of event.instruments) {
    if (refused.has(instrument.symbol)) continue;
    const known = state.instruments.get(instrument.symbol);
    if (known !== undefined) replaced.push({ known, loaded: instrument });
    state.instruments.set(instrument.symbol, instrument);
  }
  notify(ctx, 'info', 'instruments-loaded', null, `${event.instruments.length} instrument(s) loaded`);
  // (A symbol loaded for the first time has its delisting said by the start: onEngineStarted.)
  for (const { known, loaded } of replaced) {
    const limits = limitChanges(known, loaded);
    if (limits.length > 0) notify(ctx, 'info', 'instrument-changed', loaded.symbol, `the venue has changed ${loaded.symbol}'s ${limits.join(', ')}: taken in`);
    if (loaded.delistMs !== undefined && loaded.delistMs !== known.delistMs) onDelistingRead(ctx, loaded);
    if (loaded.delistMs === undefined && known.delistMs !== undefined) {
      notify(ctx, 'info', 'delisting', loaded.symbol, `the venue lists ${loaded.symbol} as trading again, with no delisting: entries taken again`);
    }
  }
  for (const change of changes) {
    if (change.live) {
      notify(ctx, 'alarm', 'grid-changed', change.symbol, `the venue has changed ${change.text} under a position or orders held in the old units: kept the old grid`);
      continue;
    }
    state.markets.delete(change.symbol);
    for (const position of state.positions.values()) {
      // Not a ledger change (its totals stand): no record.
      if (position.symbol === change.symbol) state.positions.set(position.key, rebased(position));
    }
    forgetSettled(ctx, change.symbol);
    notify(ctx, 'info', 'grid-changed', change.symbol, `the venue has changed ${change.text}; nothing was open there: its history in the old units forgotten (the ledger keeps it)`);
  }
}

/** A symbol whose tick or lot the venue has changed from the one the state holds. */
export type GridChange = {
  readonly symbol: string;
  /** `SOLUSDT tick 0.001 -> 0.01`, with the lot's change too if it changed. */
  readonly text: string;
  /** The state holds something live there: a position, an order not yet settled, an active intent. */
  readonly live: boolean;
};

/**
 * What the venue has changed since the state's instruments were loaded (at the start, against the
 * journal's; while running, against those the bot runs on). The state keeps a symbol's prices and
 * sizes as integers of its tick and lot, and the new instrument would read them as other prices
 * and sizes (a stop at 140.00 in 0.01 ticks is 14000 ticks: 14.000 in 0.001 ticks): a change under
 * live records cannot be taken in. A symbol with only history (closed trades kept for the
 * retention) is not live: nothing acts on it, and it is forgotten (onInstrumentsLoaded).
 */
export function gridChanges(state: EngineState, loaded: readonly Instrument[]): GridChange[] {
  const changes: GridChange[] = [];
  for (const instrument of loaded) {
    const known = state.instruments.get(instrument.symbol);
    if (known === undefined) continue;
    const tickChanged = Number(known.tickSize) !== Number(instrument.tickSize);
    const lotChanged = Number(known.lotSize) !== Number(instrument.lotSize);
    if (!tickChanged && !lotChanged) continue;
    const { symbol } = instrument;
    const positionOpen = [...state.positions.values()].some((position) => position.symbol === symbol && effectiveSizeLots(position) !== 0);
    const live = positionOpen || state.activeIntentBySymbol.has(symbol) || (state.unsettledOrders.get(symbol)?.size ?? 0) > 0;
    const what = [tickChanged ? `tick ${known.tickSize} -> ${instrument.tickSize}` : '', lotChanged ? `lot ${known.lotSize} -> ${instrument.lotSize}` : ''].filter((part) => part !== '');
    changes.push({ symbol, text: `${symbol} ${what.join(', ')}`, live });
  }
  return changes;
}
