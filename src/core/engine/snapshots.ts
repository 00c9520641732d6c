// Asking the venue for a snapshot: the one place a FetchSnapshot is made, so that at most one is
// awaited at a time and none is asked for while the private stream is down (one taken then could
// not be merged with the stream: see lifecycle.ts).

import type { SnapshotReason } from '../state.ts';
import type { Ctx } from './context.ts';
import { nextSeq } from './context.ts';

/** The periodic reconciliation, and retries: only while the private stream is up and nothing is awaited. */
export function onSnapshotTimer(ctx: Ctx, reason: SnapshotReason, attempt: number): void {
  const { state } = ctx;
  if (state.streams.private !== 'up' || state.snapshot !== null) return;
  if (reason === 'periodic' && state.lifecycle.phase !== 'trading') return;
  requestSnapshot(ctx, reason, attempt);
}

/**
 * A snapshot to check our view against. Now, if the stream is up and none is awaited; otherwise
 * the wish is kept until a snapshot asked for from now on has been merged (one already on its way
 * may have read the venue before the doubt arose), so a recheck is never lost.
 */
export function recheckSoon(ctx: Ctx): void {
  const { state } = ctx;
  if (state.streams.private === 'up' && state.snapshot === null) {
    requestSnapshot(ctx, 'recheck', 0);
    return;
  }
  state.recheckWantedSinceMs ??= ctx.atMs;
}

/** After a snapshot is merged: a recheck wished for since before it was asked for is still owed. */
export function onSnapshotMerged(ctx: Ctx, requestedMs: number): void {
  const wantedSinceMs = ctx.state.recheckWantedSinceMs;
  if (wantedSinceMs === null) return;
  ctx.state.recheckWantedSinceMs = null;
  if (requestedMs < wantedSinceMs) recheckSoon(ctx);
}

export function requestSnapshot(ctx: Ctx, reason: SnapshotReason, attempt: number): void {
  const { state } = ctx;
  const snapshotId = nextSeq(ctx);
  state.snapshot = { snapshotId, requestedMs: ctx.atMs, reason, attempt };
  // This one reads the venue after every fact seen so far: it answers any recheck wished for.
  state.recheckWantedSinceMs = null;
  const { fillsOverlapMs, coldStartLookbackMs } = state.config;
  // From a little before what is known: the newest fill or snapshot read of this run, or, at a
  // start, of the run the journal restored (however long ago: a stop that filled while the bot was
  // down is booked as it filled). With nothing known (a cold start), from well before the start.
  const fillsSinceMs = state.fillCursorMs > 0 ? state.fillCursorMs - fillsOverlapMs : (state.startedMs ?? ctx.atMs) - coldStartLookbackMs;
  ctx.out.push({ type: 'FetchSnapshot', commandId: nextSeq(ctx), snapshotId, fillsSinceMs });
}
