// A position per (account, symbol), one-way mode, from two kinds of venue fact:
//  - fills (each execution id once) build the ledger: size, cost, realized PnL and fees;
//  - position reports give the venue's own view: size and the stop it holds.
// Both carry the venue's per-symbol cross sequence. Whichever view has the later sequence is the
// more recent fact about the size; at quiescence the two agree (the simulation checks it).
//
// Average-cost accounting depends on the order of fills, and streams can reorder them: the ledger
// keeps its last `recentFillsMax` fills sorted by venue sequence and, when a fill arrives older
// than the newest one booked, replays that window in sequence order, so the result equals the
// venue's whatever the arrival order.
//
// Invariants: a position report older than the last applied one (by sequence, then update time)
// changes nothing; the ledger only changes through `applyFill`; ledger = base + recent fills
// applied in (sequence, arrival) order.

import type { Fill, PositionReport } from '../events.ts';
import type { ExecutionId } from '../ids.ts';
import type { Instrument } from '../instrument.ts';
import { assertSafeInteger } from '../assert.ts';
import { sideSign } from '../types.ts';
import { applyFill } from './ledger.ts';

export type PositionKey = string;

/** The venue's own view of the position: its last report, minus the symbol the key already says. */
export type VenuePositionView = Omit<PositionReport, 'symbol'>;

/** What the ledger needs of a fill to replay it. */
export type LedgerFill = { readonly seq: number; readonly signedLots: number; readonly priceTicks: number };

/** Reordering on a stream spans a few messages; sixteen fills of slack is generous and cheap to copy. */
export const recentFillsMax = 16;

type LedgerTotals = { readonly sizeLots: number; readonly costTicksLots: number; readonly realizedPnlE8: number };

export type Position = {
  readonly key: PositionKey;
  readonly account: string;
  readonly symbol: string;
  readonly sizeLots: number;
  readonly costTicksLots: number;
  readonly realizedPnlE8: number;
  readonly feesE8: number;
  /** Funding paid (negative: received), E8: not part of realized PnL, which is the fills' alone. */
  readonly fundingE8: number;
  readonly fillCount: number;
  readonly lastFillSeq: number;
  /** The ledger before the oldest of `recentFills`. */
  readonly base: LedgerTotals;
  /** The last fills booked, sorted by venue sequence (ties in arrival order). */
  readonly recentFills: readonly LedgerFill[];
  /** Fills that arrived older than the whole replay window, booked out of order (an anomaly). */
  readonly fillsOutOfWindow: number;
  /** Ledger totals when the ledger last left zero: a round trip's PnL is the difference. */
  readonly realizedAtOpenE8: number;
  readonly feesAtOpenE8: number;
  /** The fill that took the ledger away from zero (or flipped it): names the current round trip. */
  readonly openedBy: ExecutionId | null;
  /**
   * When that fill happened, by the venue's clock (null: no fill of the round trip seen). What a
   * position found on the venue (restored or adopted after a start) counts its age from.
   */
  readonly openedMs: number | null;
  readonly venue: VenuePositionView | null;
};

export function positionKey(account: string, symbol: string): PositionKey {
  return `${account}/${symbol}`;
}

export function newPosition(account: string, symbol: string): Position {
  return {
    key: positionKey(account, symbol), account, symbol, sizeLots: 0, costTicksLots: 0,
    realizedPnlE8: 0, feesE8: 0, fundingE8: 0, fillCount: 0, lastFillSeq: -1, realizedAtOpenE8: 0, feesAtOpenE8: 0, openedBy: null, openedMs: null, venue: null,
    base: { sizeLots: 0, costTicksLots: 0, realizedPnlE8: 0 }, recentFills: [], fillsOutOfWindow: 0,
  };
}

/**
 * The position with its ledger totals as they stand and no fill memory: its fills' prices, in the
 * instrument's old ticks, are gone, and a fill arriving out of order is booked on the totals, as
 * one older than the memory is.
 */
export function rebased(position: Position): Position {
  const { sizeLots, costTicksLots, realizedPnlE8 } = position;
  return { ...position, base: { sizeLots, costTicksLots, realizedPnlE8 }, recentFills: [] };
}

export function bookFill(position: Position, fill: Fill, instrument: Instrument): Position {
  const entry: LedgerFill = { seq: fill.seq, signedLots: sideSign(fill.side) * fill.lots, priceTicks: fill.priceTicks };
  const inOrder = fill.seq >= position.lastFillSeq;
  const oldest = position.recentFills[0];
  const outOfWindow = !inOrder && oldest !== undefined && fill.seq < oldest.seq && position.fillCount > position.recentFills.length;
  let recentFills = insertBySeq(position.recentFills, entry, inOrder || outOfWindow);
  let base = position.base;
  if (recentFills.length > recentFillsMax) {
    const [dropped, ...rest] = recentFills;
    if (dropped !== undefined) base = applyToTotals(base, dropped, instrument);
    recentFills = rest;
  }
  const totals = inOrder || outOfWindow ? applyToTotals(position, entry, instrument) : recentFills.reduce((sum, item) => applyToTotals(sum, item, instrument), base);
  const feesE8 = assertSafeInteger(position.feesE8 + fill.feeE8, 'fees');
  const opened = position.sizeLots === 0;
  const flipped = !opened && totals.sizeLots !== 0 && Math.sign(totals.sizeLots) !== Math.sign(position.sizeLots);
  return {
    ...position,
    ...totals,
    feesE8,
    fillCount: position.fillCount + 1,
    lastFillSeq: Math.max(position.lastFillSeq, fill.seq),
    base,
    recentFills,
    fillsOutOfWindow: position.fillsOutOfWindow + (outOfWindow ? 1 : 0),
    realizedAtOpenE8: opened ? position.realizedPnlE8 : position.realizedAtOpenE8,
    feesAtOpenE8: opened ? position.feesE8 : position.feesAtOpenE8,
    openedBy: opened || flipped ? fill.executionId : position.openedBy,
    openedMs: opened || flipped ? fill.venueMs : position.openedMs,
  };
}

function applyToTotals(totals: LedgerTotals, fill: LedgerFill, instrument: Instrument): LedgerTotals {
  const effect = applyFill(totals, fill.signedLots, fill.priceTicks);
  const realizedPnlE8 = assertSafeInteger(totals.realizedPnlE8 + effect.realizedTicksLots * instrument.tickLotE8, 'realized PnL');
  return { sizeLots: effect.sizeLots, costTicksLots: effect.costTicksLots, realizedPnlE8 };
}

function insertBySeq(fills: readonly LedgerFill[], entry: LedgerFill, atEnd: boolean): LedgerFill[] {
  if (atEnd) return [...fills, entry];
  let index = fills.length;
  while (index > 0 && (fills[index - 1]?.seq ?? -Infinity) > entry.seq) index -= 1;
  return [...fills.slice(0, index), entry, ...fills.slice(index)];
}

/** True if the report is newer than the venue view we hold (sequence first, then update time). */
/**
 * Whether a report is newer than the view held. A tie on both keys (the venue moved the position's
 * own stop, a trailing stop, twice in one millisecond, with no fill between) is decided by arrival
 * on the stream, which delivers one connection's messages in order: `tieWins` for a stream push
 * that says something different. A snapshot never wins a tie.
 */
export function isNewerReport(position: Position, report: PositionReport, tieWins = false): boolean {
  const venue = position.venue;
  if (venue === null) return true;
  if (report.seq !== venue.seq) return report.seq > venue.seq;
  if (report.venueUpdatedMs !== venue.venueUpdatedMs) return report.venueUpdatedMs > venue.venueUpdatedMs;
  return tieWins && (report.stopLossTicks !== venue.stopLossTicks || report.takeProfitTicks !== venue.takeProfitTicks || report.sizeLots !== venue.sizeLots);
}

export function withVenueView(position: Position, report: PositionReport): Position {
  const { sizeLots, entryPrice, stopLossTicks, takeProfitTicks, trailingTicks, seq, venueUpdatedMs } = report;
  return { ...position, venue: { sizeLots, entryPrice, stopLossTicks, takeProfitTicks, trailingTicks, seq, venueUpdatedMs } };
}

/**
 * The best current knowledge of the position's size. Fills sharing a sequence with a position
 * report are already counted in it (simultaneous fills reuse one sequence), so on a tie the
 * venue's view wins; a fill with a later sequence is newer than any report we have.
 */
export function effectiveSizeLots(position: Position): number {
  const venue = position.venue;
  if (venue === null || venue.seq < position.lastFillSeq) return position.sizeLots;
  return venue.sizeLots;
}
