// Helpers for the simulated venue's tests: a venue on two real-shaped instruments with no partial
// fills, order specs in a line, and the facts it emitted sorted by kind.

import assert from 'node:assert/strict';
import type { Fill, OrderReport, PositionReport } from '../../src/core/events.ts';
import type { VenueOrderId } from '../../src/core/ids.ts';
import type { Instrument, InstrumentSpec } from '../../src/core/instrument.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import type { OrderSpec, Side, Trigger, TriggerBy } from '../../src/core/types.ts';
import { Rng } from '../../src/sim/rng.ts';
import type { SimVenueConfig, SubmitResult, VenueFact } from '../../src/venues/sim/venue.ts';
import { SimVenue } from '../../src/venues/sim/venue.ts';

function instrument(spec: InstrumentSpec): Instrument {
  const parsed = defineInstrument(spec);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** Tick 0.01, lot 0.1 (minimum 1 lot, maximum 797,700 lots). */
export const sol = instrument({ symbol: 'SOLUSDT', tickSize: '0.010', lotSize: '0.1', minQty: '0.1', maxQty: '79770', maxMarketQty: '39885', minNotional: '5' });
/** Tick 0.1, lot 0.001, minimum 0.005 (5 lots). */
export const btc = instrument({ symbol: 'BTCUSDT', tickSize: '0.10', lotSize: '0.001', minQty: '0.005', maxQty: '1190', maxMarketQty: '500', minNotional: '5' });

export type Setup = { readonly venue: SimVenue; readonly take: () => VenueFact[] };

/** A venue with a spread of one tick and no partial fills; `take` empties the facts emitted so far. */
export function setup(overrides: Partial<Omit<SimVenueConfig, 'rng' | 'instruments'>> = {}): Setup {
  const facts: VenueFact[] = [];
  const config: SimVenueConfig = {
    instruments: [sol, btc], makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 1,
    partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0, ...overrides, rng: new Rng(11),
  };
  const venue = new SimVenue(config, (fact) => { facts.push(fact); });
  return { venue, take: () => facts.splice(0) };
}

export function market(symbol: string, side: Side, sizeLots: number, stopLoss?: Trigger): OrderSpec {
  return { symbol, side, sizeLots, reduceOnly: false, type: { kind: 'market' }, ...(stopLoss === undefined ? {} : { stopLoss }) };
}

export function limit(symbol: string, side: Side, sizeLots: number, priceTicks: number, extra: { readonly postOnly?: boolean; readonly reduceOnly?: boolean; readonly stopLoss?: Trigger } = {}): OrderSpec {
  return {
    symbol, side, sizeLots, reduceOnly: extra.reduceOnly ?? false, type: { kind: 'limit', priceTicks, postOnly: extra.postOnly ?? false },
    ...(extra.stopLoss === undefined ? {} : { stopLoss: extra.stopLoss }),
  };
}

export function stop(symbol: string, side: Side, sizeLots: number, triggerTicks: number, triggerBy: TriggerBy = 'last'): OrderSpec {
  return { symbol, side, sizeLots, reduceOnly: true, type: { kind: 'stop-market', triggerTicks, triggerBy } };
}

export function accepted(result: SubmitResult): VenueOrderId {
  if (!result.ok) throw new Error(`rejected: ${result.code} ${result.reason}`);
  return result.venueOrderId;
}

/** The facts' kinds in order, without the wallet push that follows every match. */
export function shape(facts: readonly VenueFact[]): string[] {
  return facts.filter((fact) => fact.kind !== 'wallet').map((fact) => (fact.kind === 'order' ? `order:${fact.report.status}` : fact.kind));
}

export function orders(facts: readonly VenueFact[]): OrderReport[] {
  return facts.flatMap((fact) => (fact.kind === 'order' ? [fact.report] : []));
}

export function fills(facts: readonly VenueFact[]): Fill[] {
  return facts.flatMap((fact) => (fact.kind === 'fill' ? [fact.fill] : []));
}

export function positions(facts: readonly VenueFact[]): PositionReport[] {
  return facts.flatMap((fact) => (fact.kind === 'position' ? [fact.report] : []));
}

export function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1, `expected exactly one item, got ${items.length}`);
  return items[0] as T;
}
