// A position's protection plan: what an open request (a strategy, a signal, the operator) asks
// for beyond the stop-loss, and the same plan resolved against the instrument and the entry into
// ticks and lots, as the intent keeps it.
//
//   - take-profit ladder: reduce-only limit orders, each a share of the size, exact to the lot;
//   - breakeven: after the first target fills, the stop moves to the entry plus fees;
//   - trailing stop: once the price reaches the activation, the stop follows the best price at the
//     callback distance, only ever tightening; `bot` amends the venue's stop (rate-limited, one
//     amend in flight; with a minimum move, only in steps of at least that much), `venue` hands the
//     trailing to the venue (Bybit's trading-stop);
//   - aged position: past `maxAgeMs`, a reduce-only limit exit at breakeven (fees included); after
//     `graceMs` more, its price steps toward the market every `stepEveryMs`; at `hardLimitMs` of age,
//     a market close.
//
// Requests carry prices as decimal text and distances as percents (or as price distances), like
// the rest of an open request; resolution happens in the step that accepts the request, with the
// instrument and the reference price of that moment, so a journal replay resolves it the same way.

import type { Instrument, Parsed } from '../instrument.ts';
import { lotsToQty, priceToTicks, priceToTicksRounded, ticksToNumber, ticksToPrice } from '../instrument.ts';
import type { Side, TriggerBy } from '../types.ts';

/** A price, or a distance in percent from the entry (a stop-loss, a take-profit). */
export type PriceRequest = { readonly price: string } | { readonly percent: number };

/** A distance: a percent of the price it is measured from, or a price difference ("25.5"). */
export type DistanceRequest = { readonly percent: number } | { readonly price: string };

export type LadderRungRequest = {
  /** The rung's limit price, or its distance in percent from the entry. */
  readonly target: PriceRequest;
  /** Its share of the position, in percent; the shares sum to at most 100. */
  readonly sizePercent: number;
};

export type TrailingMode = 'bot' | 'venue';

export type TrailingRequest = {
  readonly mode: TrailingMode;
  /** Start trailing when the price reaches this (a price, or percent in profit from the entry); null: at once. */
  readonly activation: PriceRequest | null;
  readonly callback: DistanceRequest;
  /** `bot` mode: at most one change of the stop per this interval; ticks in between coalesce. */
  readonly amendEveryMs: number;
  /**
   * `bot` mode: the stop moves only when the level tightens it by at least this much (a percent of
   * the best price, or a price distance); absent or null: by any tick.
   */
  readonly minMove?: DistanceRequest | null;
};

export type AgedRequest = {
  readonly maxAgeMs: number;
  readonly graceMs: number;
  readonly step: DistanceRequest;
  readonly stepEveryMs: number;
  readonly hardLimitMs: number;
};

/** What an open request may ask for beyond its stop-loss and single take-profit. */
export type ProtectionRequest = {
  /** Which price triggers the stop: the venue's mark price or its last trade (default: the engine's setting). */
  readonly stopTriggerBy?: TriggerBy;
  /** Replaces the request's single take-profit when given (the two are exclusive). */
  readonly ladder?: readonly LadderRungRequest[];
  readonly breakevenAfterFirstTarget?: boolean;
  readonly trailing?: TrailingRequest | null;
  readonly aged?: AgedRequest | null;
};

export type LadderRung = { readonly priceTicks: number; readonly lots: number };

/** A distance in ticks, or in millionths of the price it is measured from (exact integer math). */
export type Distance = { readonly kind: 'ticks'; readonly ticks: number } | { readonly kind: 'ppm'; readonly ppm: number };

export type TrailingPlan = {
  readonly mode: TrailingMode;
  readonly activationTicks: number | null;
  readonly callback: Distance;
  readonly amendEveryMs: number;
  /** The least a move of the stop may tighten it by (measured from the best price); null: a tick. */
  readonly minMove: Distance | null;
};

export type AgedPlan = {
  readonly maxAgeMs: number;
  readonly graceMs: number;
  readonly step: Distance;
  readonly stepEveryMs: number;
  readonly hardLimitMs: number;
};

/** The plan as the intent keeps it: ticks and lots, checked against the instrument. */
export type IntentPlan = {
  readonly ladder: readonly LadderRung[];
  readonly breakevenAfterFirstTarget: boolean;
  readonly trailing: TrailingPlan | null;
  readonly aged: AgedPlan | null;
};

export const emptyPlan: IntentPlan = { ladder: [], breakevenAfterFirstTarget: false, trailing: null, aged: null };

const fail = (reason: string): { readonly ok: false; readonly reason: string } => ({ ok: false, reason });

/** Ticks of a distance measured from `fromTicks`, at least one. */
export function distanceTicks(distance: Distance, fromTicks: number): number {
  return Math.max(1, distance.kind === 'ticks' ? distance.ticks : Math.floor((fromTicks * distance.ppm) / 1_000_000));
}

export const breakevenNeedsBotTrailing = 'breakevenAfterFirstTarget needs trailing mode bot: a stop the venue trails is the venue\'s to move';

/** Resolves a distance; `what` names the field in a rejection. */
export function resolveDistance(instrument: Instrument, request: DistanceRequest, what: string): Parsed<Distance> {
  if ('percent' in request) {
    if (!(request.percent > 0 && request.percent < 100)) return fail(`${what} percent must be in (0, 100): ${request.percent}`);
    return { ok: true, value: { kind: 'ppm', ppm: Math.max(1, Math.round(request.percent * 10_000)) } };
  }
  const parsed = priceToTicks(instrument, request.price);
  if (!parsed.ok) return fail(`${what}: ${parsed.reason}`);
  if (parsed.value <= 0) return fail(`${what} must be a positive price distance`);
  return { ok: true, value: { kind: 'ticks', ticks: parsed.value } };
}

/**
 * A price on one side of an entry: the loss side (a stop-loss: below a long's entry) or the profit
 * side (a take-profit, a trailing activation: above it). Given as a price, or as a percent from the
 * entry, rounded toward the entry: a stop may trigger a tick early, never a tick late. `what` names
 * the field in a rejection.
 */
export function sideTicks(instrument: Instrument, side: Side, referenceTicks: number, request: PriceRequest, what: string, lossSide: boolean, percentMax = 100): Parsed<number> {
  const below = lossSide === (side === 'buy');
  let ticks: number;
  if ('price' in request) {
    const parsed = priceToTicks(instrument, request.price);
    if (!parsed.ok) return fail(`${what}: ${parsed.reason}`);
    ticks = parsed.value;
  } else {
    if (!(request.percent > 0 && request.percent < percentMax)) return fail(`${what} percent must be in (0, ${percentMax}): ${request.percent}`);
    const reference = ticksToNumber(instrument, referenceTicks);
    const price = reference * (below ? 1 - request.percent / 100 : 1 + request.percent / 100);
    ticks = priceToTicksRounded(instrument, price, below ? 'ceil' : 'floor');
  }
  const valid = below ? ticks > 0 && ticks < referenceTicks : ticks > referenceTicks;
  if (!valid) {
    return fail(`${what} ${ticksToPrice(instrument, ticks)} must be ${below ? 'below' : 'above'} the ${side === 'buy' ? 'long' : 'short'} entry ${ticksToPrice(instrument, referenceTicks)}`);
  }
  return { ok: true, value: ticks };
}

/** A target or an activation: the profit side, any percent below 1,000. */
function profitSideTicks(instrument: Instrument, side: Side, referenceTicks: number, request: PriceRequest, what: string): Parsed<number> {
  return sideTicks(instrument, side, referenceTicks, request, what, false, 1_000);
}

/**
 * Splits `sizeLots` into the ladder's rungs, exact to the lot: each rung gets the floor of its
 * share, and when the shares sum to 100 % the last rung takes the remainder, so the ladder closes
 * the whole position. A rung below the instrument's minimum is refused, not silently merged.
 */
export function ladderLots(instrument: Instrument, sizeLots: number, sharesPercent: readonly number[]): Parsed<readonly number[]> {
  const totalPercent = sharesPercent.reduce((sum, share) => sum + share, 0);
  if (totalPercent > 100 + 1e-9) return fail(`ladder sizes sum to ${totalPercent}%, more than 100%`);
  const whole = Math.abs(totalPercent - 100) < 1e-9;
  const lots = sharesPercent.map((share) => Math.floor((sizeLots * Math.round(share * 10_000)) / 1_000_000));
  if (whole && lots.length > 0) lots[lots.length - 1] = sizeLots - lots.slice(0, -1).reduce((sum, value) => sum + value, 0);
  for (const [index, rungLots] of lots.entries()) {
    if (rungLots < instrument.minLots) {
      return fail(`ladder rung ${index + 1} would be ${lotsToQty(instrument, rungLots)}, below the minimum ${lotsToQty(instrument, instrument.minLots)}`);
    }
  }
  return { ok: true, value: lots };
}

/**
 * The ladder's rungs over what the entry actually filled, when that is less than it asked for (a
 * limit entry cancelled part-way): each rung keeps its share of the planned size, rounded down, and
 * when the rungs covered the whole plan the last takes the remainder, so they close exactly what
 * filled. A rung that comes out below the instrument's minimum gives its lots to the next one out
 * (the last to the nearest kept one before it); a zero is a rung not placed. All zero: the fill is
 * too small for any rung (the stop still covers it).
 */
export function ladderLotsFilled(filledLots: number, plannedLots: number, rungs: readonly LadderRung[], minLots: number): number[] {
  const lots = rungs.map((rung) => shareOf(filledLots, rung.lots, plannedLots));
  const plannedTotal = rungs.reduce((sum, rung) => sum + rung.lots, 0);
  if (plannedTotal === plannedLots && lots.length > 0) lots[lots.length - 1] = filledLots - lots.slice(0, -1).reduce((sum, value) => sum + value, 0);
  let carry = 0;
  for (const [index, rungLots] of lots.entries()) {
    carry += rungLots;
    lots[index] = carry >= minLots ? carry : 0;
    if (carry >= minLots) carry = 0;
  }
  const kept = lots.findLastIndex((rungLots) => rungLots > 0);
  if (carry > 0 && kept >= 0) lots[kept] = (lots[kept] ?? 0) + carry;
  return lots;
}

/** floor(a · b / c) without losing precision past 2^53. */
function shareOf(a: number, b: number, c: number): number {
  const product = a * b;
  return Number.isSafeInteger(product) ? Math.floor(product / c) : Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

export type PlanInput = {
  readonly instrument: Instrument;
  readonly side: Side;
  /** The entry's limit price, or the market price when the entry is at market. */
  readonly referenceTicks: number;
  readonly sizeLots: number;
  readonly request: ProtectionRequest;
};

export function resolvePlan({ instrument, side, referenceTicks, sizeLots, request }: PlanInput): Parsed<IntentPlan> {
  const rungs: LadderRung[] = [];
  const ladder = request.ladder ?? [];
  if (ladder.length > 0) {
    for (const [index, rung] of ladder.entries()) {
      if (!(rung.sizePercent > 0 && rung.sizePercent <= 100)) return fail(`ladder rung ${index + 1}: size percent must be in (0, 100]: ${rung.sizePercent}`);
    }
    const lots = ladderLots(instrument, sizeLots, ladder.map((rung) => rung.sizePercent));
    if (!lots.ok) return lots;
    let previousTicks = referenceTicks;
    for (const [index, rung] of ladder.entries()) {
      const target = profitSideTicks(instrument, side, referenceTicks, rung.target, `ladder rung ${index + 1} target`);
      if (!target.ok) return target;
      const beyond = side === 'buy' ? target.value > previousTicks : target.value < previousTicks;
      if (!beyond) return fail(`ladder rung ${index + 1} target ${ticksToPrice(instrument, target.value)} must be further from the entry than the rung before it`);
      previousTicks = target.value;
      rungs.push({ priceTicks: target.value, lots: lots.value[index] ?? 0 });
    }
  }
  let trailing: TrailingPlan | null = null;
  if (request.trailing !== undefined && request.trailing !== null) {
    const { mode, activation, callback, amendEveryMs } = request.trailing;
    const distance = resolveDistance(instrument, callback, 'trailing callback');
    if (!distance.ok) return distance;
    let minMove: Distance | null = null;
    if (request.trailing.minMove !== undefined && request.trailing.minMove !== null) {
      // The venue moves its own trailing stop tick by tick: a minimum move is the bot's to keep.
      if (mode === 'venue') return fail('trailing minMove applies to mode bot: the venue moves its own trailing stop');
      const resolved = resolveDistance(instrument, request.trailing.minMove, 'trailing minMove');
      if (!resolved.ok) return resolved;
      // At the entry, as the two are measured from the best price alike.
      const [minMoveTicks, callbackTicks] = [distanceTicks(resolved.value, referenceTicks), distanceTicks(distance.value, referenceTicks)];
      if (minMoveTicks >= callbackTicks) {
        return fail(`trailing minMove must be less than the callback distance (at ${ticksToPrice(instrument, referenceTicks)}: ` +
          `${ticksToPrice(instrument, minMoveTicks)} against ${ticksToPrice(instrument, callbackTicks)})`);
      }
      minMove = resolved.value;
    }
    let activationTicks: number | null = null;
    if (activation !== null) {
      const parsed = profitSideTicks(instrument, side, referenceTicks, activation, 'trailing activation');
      if (!parsed.ok) return parsed;
      activationTicks = parsed.value;
    }
    if (!(Number.isSafeInteger(amendEveryMs) && amendEveryMs >= 0)) return fail(`trailing amendEveryMs must be a whole number of ms >= 0: ${amendEveryMs}`);
    trailing = { mode, activationTicks, callback: distance.value, amendEveryMs, minMove };
  }
  let aged: AgedPlan | null = null;
  if (request.aged !== undefined && request.aged !== null) {
    const { maxAgeMs, graceMs, step, stepEveryMs, hardLimitMs } = request.aged;
    const resolvedStep = resolveDistance(instrument, step, 'aged step');
    if (!resolvedStep.ok) return resolvedStep;
    for (const [name, value] of [['maxAgeMs', maxAgeMs], ['graceMs', graceMs], ['stepEveryMs', stepEveryMs], ['hardLimitMs', hardLimitMs]] as const) {
      if (!(Number.isSafeInteger(value) && value >= 0)) return fail(`aged ${name} must be a whole number of ms >= 0: ${value}`);
    }
    if (stepEveryMs === 0) return fail('aged stepEveryMs must be above 0');
    if (hardLimitMs <= maxAgeMs) return fail(`aged hardLimitMs (${hardLimitMs}) must be above maxAgeMs (${maxAgeMs})`);
    aged = { maxAgeMs, graceMs, step: resolvedStep.value, stepEveryMs, hardLimitMs };
  }
  // The venue owns the level of a stop it trails: a breakeven set over it could put back a looser one.
  if (request.breakevenAfterFirstTarget === true && trailing?.mode === 'venue') return fail(breakevenNeedsBotTrailing);
  return { ok: true, value: { ladder: rungs, breakevenAfterFirstTarget: request.breakevenAfterFirstTarget ?? false, trailing, aged } };
}
