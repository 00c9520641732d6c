// A symbol the venue winds down. Bybit announces a perpetual's delisting (its `deliveryTime`) days
// ahead, and at that time settles whatever is still open at its own price (an average of the
// index), with the stops and the bot's policies no longer working. So the bot refuses new entries
// there at once (requests.ts), and closes what it holds there at market a while before the end
// (`closeBeforeDelistingMs`, an hour by default; null leaves it to the venue), by the exit every
// other close takes (intents.ts, startExit: never given up on).
//
// The close is a timer for its time, armed when the delisting is first read, at every start, and
// again when the venue moves it. The timer decides from the instrument as it is when it fires (a
// delisting withdrawn or moved later closes nothing), so a stale or repeated one is harmless. A
// position the bot comes to hold there after that time is closed as it is adopted (protect.ts), or
// restored by a reconciliation, when the snapshot is merged. A position kept on watch
// (`externalPositions: watch`) is not the bot's to close: the alarm says so.

import type { Instrument } from '../instrument.ts';
import { delistingCloseMs, delistingText, lotsToQty } from '../instrument.ts';
import type { Intent } from '../intent/intent.ts';
import { effectiveSizeLots } from '../position/position.ts';
import { formatAge } from '../protection/policies.ts';
import { utcMinute } from '../utc.ts';
import type { Ctx } from './context.ts';
import { activeIntentOn, findPosition, instrumentOf, notify, startTimer } from './context.ts';
import { startExit } from './intents.ts';

/**
 * A delisting read (at a start, or announced or moved while running): the alarm, with what the bot
 * holds there and what it will do about it, and the close armed for its time.
 */
export function onDelistingRead(ctx: Ctx, instrument: Instrument): void {
  const { symbol } = instrument;
  const closeMs = delistingCloseMs(instrument, ctx.state.config.closeBeforeDelistingMs);
  const intent = activeIntentOn(ctx, symbol);
  const position = findPosition(ctx, symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  const holding = sizeLots !== 0 ? `the bot holds ${sizeLots > 0 ? 'a long' : 'a short'} of ${lotsToQty(instrument, Math.abs(sizeLots))} there` : intent !== undefined ? 'an entry of the bot\'s is working there' : null;
  const plan = holding === null ? null : closeMs === null
    ? 'what is still open at the delisting the venue settles at its own price (engine.closeBeforeDelistingMinutes: null)'
    : intent?.protection === 'watch'
      ? 'kept on watch (engine.externalPositions: watch), it is not the bot\'s to close: the venue settles what is still open at the delisting'
      : closeMs > ctx.atMs
        ? `the bot closes it at market at ${utcMinute(closeMs)} (${leadText(ctx)}), its protection kept until then`
        : `the bot closes it at market now (${leadText(ctx)})`;
  const open = holding === null ? 'nothing of the bot\'s is open there' : `${holding}; ${plan}`;
  notify(ctx, 'alarm', 'delisting', symbol, `${delistingText(symbol, instrument.delistMs ?? ctx.atMs, ctx.atMs)}: new entries there are refused; ${open}`);
  if (closeMs === null) return;
  // One close timer a symbol: one armed for an earlier reading is dropped (it would decide the same).
  for (const [timerId, timer] of ctx.state.timers) {
    if (timer.kind === 'delisting-close' && timer.symbol === symbol) ctx.state.timers.delete(timerId);
  }
  startTimer(ctx, { kind: 'delisting-close', symbol }, Math.max(0, closeMs - ctx.atMs));
}

/** The close timer fired: close what the bot holds there, if the delisting still stands and its time has come. */
export function onDelistingCloseTimer(ctx: Ctx, symbol: string): void {
  const intent = activeIntentOn(ctx, symbol);
  if (intent !== undefined) closeIfDelistingDue(ctx, intent, true);
}

/**
 * After a snapshot is merged: a position the bot holds on a symbol past its close time (restored
 * by this reconciliation, or one whose exit ended without closing it) is closed now.
 */
export function closeDueDelistings(ctx: Ctx): void {
  for (const instrument of ctx.state.instruments.values()) {
    if (instrument.delistMs === undefined) continue;
    const intent = activeIntentOn(ctx, instrument.symbol);
    if (intent !== undefined) closeIfDelistingDue(ctx, intent, false);
  }
}

/**
 * The intent, exiting if its symbol's delisting close is due (the intent itself otherwise): also
 * asked of a position adopted after that time (protect.ts), which is closed as it is adopted.
 * `alarmIfWatched`: say, once, that a position kept on watch is left to the venue.
 */
export function closeIfDelistingDue(ctx: Ctx, intent: Intent, alarmIfWatched: boolean): Intent {
  const { symbol } = intent;
  const instrument = instrumentOf(ctx, symbol);
  const closeMs = instrument === undefined ? null : delistingCloseMs(instrument, ctx.state.config.closeBeforeDelistingMs);
  if (instrument === undefined || closeMs === null || ctx.atMs < closeMs || intent.phase.name === 'exiting') return intent;
  const delistMs = instrument.delistMs ?? ctx.atMs;
  const delisting = delistingText(symbol, delistMs, ctx.atMs);
  if (intent.protection === 'watch') {
    if (alarmIfWatched) notify(ctx, 'alarm', 'delisting', symbol, `${delisting}: ${intent.id} is kept on watch (engine.externalPositions: watch), not closed by the bot; the venue settles what is still open at the delisting`);
    return intent;
  }
  const away = delistMs > ctx.atMs ? `, ${formatAge(delistMs - ctx.atMs)} away` : '';
  return startExit(ctx, intent, `${delisting}${away} (${leadText(ctx)})`, false);
}

/** The setting that decides the close, as the configuration file names it. */
function leadText(ctx: Ctx): string {
  return `engine.closeBeforeDelistingMinutes: ${(ctx.state.config.closeBeforeDelistingMs ?? 0) / 60_000}`;
}
