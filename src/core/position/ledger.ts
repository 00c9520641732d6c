// Exact position arithmetic for one-way mode, shared by the engine and the simulated venue so
// both book a fill the same way.
//
// A position is a signed size in lots and the cost of that open size in tick-lots (price ticks
// times lots, always >= 0). The average entry is cost / |size|, kept exactly as that ratio.
// Reducing removes cost in proportion, rounded half-even to a whole tick-lot (the one rounding
// step); realized PnL is exit value minus removed cost, in tick-lots. A fill larger than the
// position flips it: the whole position closes and the remainder opens at the fill price.
//
// Invariants: size 0 <=> cost 0; cost only grows by price x lots added; realized PnL + remaining
// cost accounts for every tick-lot paid or received.

import { assertSafeInteger, fail } from '../assert.ts';
import { mulDivRoundHalfEven } from '../money.ts';

export type Amounts = { readonly sizeLots: number; readonly costTicksLots: number };

export type FillEffect = Amounts & {
  readonly realizedTicksLots: number;
  readonly closedLots: number;
  readonly openedLots: number;
};

export const flat: Amounts = { sizeLots: 0, costTicksLots: 0 };

/** Books a fill of `signedLots` (positive buys, negative sells) at `priceTicks`. */
export function applyFill(amounts: Amounts, signedLots: number, priceTicks: number): FillEffect {
  if (!Number.isSafeInteger(signedLots) || signedLots === 0) fail(`fill lots must be a non-zero integer: ${signedLots}`);
  if (!Number.isSafeInteger(priceTicks) || priceTicks <= 0) fail(`fill price must be positive ticks: ${priceTicks}`);
  const { sizeLots, costTicksLots } = amounts;
  const lots = Math.abs(signedLots);
  if (sizeLots === 0 || Math.sign(sizeLots) === Math.sign(signedLots)) {
    const cost = assertSafeInteger(costTicksLots + priceTicks * lots, 'position cost');
    return { sizeLots: sizeLots + signedLots, costTicksLots: cost, realizedTicksLots: 0, closedLots: 0, openedLots: lots };
  }
  const held = Math.abs(sizeLots);
  const closedLots = Math.min(lots, held);
  const costRemoved = closedLots === held ? costTicksLots : mulDivRoundHalfEven(costTicksLots, closedLots, held);
  const exitValue = priceTicks * closedLots;
  const realizedTicksLots = sizeLots > 0 ? exitValue - costRemoved : costRemoved - exitValue;
  const openedLots = lots - closedLots;
  const remainingCost = openedLots > 0 ? priceTicks * openedLots : costTicksLots - costRemoved;
  return {
    sizeLots: sizeLots + signedLots,
    costTicksLots: assertSafeInteger(remainingCost, 'position cost'),
    realizedTicksLots: assertSafeInteger(realizedTicksLots, 'realized PnL'),
    closedLots,
    openedLots,
  };
}

/** Average entry in ticks (a float, for display and percent calculations only). */
export function averageEntryTicks(amounts: Amounts): number | null {
  return amounts.sizeLots === 0 ? null : amounts.costTicksLots / Math.abs(amounts.sizeLots);
}
