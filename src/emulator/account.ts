// The emulator's account beside the simulated venue: the latest position report of every symbol
// (what Bybit's position/list answers even for a flat symbol), the leverage per symbol, and the
// margin it implies: initial margin of positions and open orders, the balance still available,
// and Bybit's "ab not enough for new order" check (110007) before a create reaches the venue.
//
// Margin is simplified (isolated per order, no fees reserved, no maintenance margin): an order
// needs notional / leverage for the part of it that adds to the position, and what is available is
// equity less the margin of positions (at the mark) and of open orders that add to them. It is
// computed in bigint, so an absurd order is refused here instead of overflowing the venue's
// safe-integer money.
//
// Invariants: leverage is a whole number of hundredths in [1, 100]; a position report is only ever
// replaced by a later venue fact for the same symbol.

import type { OrderReport, PositionReport, WalletReport } from '../core/events.ts';
import type { Instrument } from '../core/instrument.ts';
import type { Side } from '../core/types.ts';
import { sideSign } from '../core/types.ts';

/** Leverage in hundredths: 10x = 1000. */
export const leverageDefaultCenti = 1000;
export const leverageMaxCenti = 10_000;

export type MarginView = {
  readonly positionImE8: bigint;
  readonly orderImE8: bigint;
  readonly availableE8: bigint;
};

export class Account {
  private readonly instruments: ReadonlyMap<string, Instrument>;
  private readonly positions = new Map<string, PositionReport>();
  private readonly leverages = new Map<string, number>();

  constructor(instruments: ReadonlyMap<string, Instrument>) {
    this.instruments = instruments;
  }

  onPosition(report: PositionReport): void {
    this.positions.set(report.symbol, report);
  }

  /** The latest report; a symbol never traded is flat with seq 0 (the venue's own starting seq). */
  position(symbol: string): PositionReport {
    return this.positions.get(symbol) ?? { symbol, sizeLots: 0, entryPrice: '0', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 0, venueUpdatedMs: 0 };
  }

  leverageCenti(symbol: string): number {
    return this.leverages.get(symbol) ?? leverageDefaultCenti;
  }

  setLeverageCenti(symbol: string, centi: number): void {
    this.leverages.set(symbol, centi);
  }

  /** Initial margin of a notional at the symbol's leverage, rounded up. */
  marginE8(symbol: string, notionalE8: bigint): bigint {
    const centi = BigInt(this.leverageCenti(symbol));
    return (notionalE8 * 100n + centi - 1n) / centi;
  }

  margin(wallet: WalletReport, markTicksOf: (symbol: string) => number | null, openOrders: readonly OrderReport[]): MarginView {
    let positionImE8 = 0n;
    for (const [symbol, report] of this.positions) {
      const markTicks = markTicksOf(symbol);
      if (report.sizeLots === 0 || markTicks === null) continue;
      positionImE8 += this.marginE8(symbol, this.notionalE8(symbol, markTicks, Math.abs(report.sizeLots)));
    }
    let orderImE8 = 0n;
    for (const order of openOrders) {
      const priceTicks = order.priceTicks ?? order.triggerTicks ?? markTicksOf(order.symbol);
      const addingLots = this.addingLots(order.symbol, order.side, order.sizeLots - order.filledLots);
      if (order.reduceOnly || priceTicks === null || addingLots === 0) continue;
      orderImE8 += this.marginE8(order.symbol, this.notionalE8(order.symbol, priceTicks, addingLots));
    }
    return { positionImE8, orderImE8, availableE8: BigInt(wallet.equityE8) - positionImE8 - orderImE8 };
  }

  /** The lots of an order of `side` that would add to the position rather than reduce it. */
  addingLots(symbol: string, side: Side, lots: number): number {
    const positionLots = this.position(symbol).sizeLots;
    const reducible = Math.sign(positionLots) === -sideSign(side) ? Math.abs(positionLots) : 0;
    return Math.max(0, lots - reducible);
  }

  notionalE8(symbol: string, priceTicks: number, lots: number): bigint {
    const instrument = this.instruments.get(symbol);
    if (instrument === undefined) return 0n;
    return BigInt(priceTicks) * BigInt(lots) * BigInt(instrument.tickLotE8);
  }
}
