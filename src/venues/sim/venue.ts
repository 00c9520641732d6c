// The simulated venue: an in-process, deterministic matching engine for USDT-linear perpetuals in
// one-way mode (Bybit semantics), which emits what Bybit would push on its streams, synchronously
// and in venue order. Time arrives as `nowMs`; randomness comes only from the configured rng.
//
// Order of facts (chosen to match Bybit, which pushes the order before the execution):
//  - one match = the order's report after the match, then its fills (one seq), then one position
//    report with the same seq; a market or marketable limit order therefore shows no `new`;
//  - a stop-market, or a close the venue makes from a position's stop-loss / take-profit, reports
//    `new` when it fires, then its match;
//  - `setPrice` emits the ticker first, then moves the position's trailing stop (one position report
//    when that moves its stop-loss), then checks the position-level stop-loss / take-profit, then
//    the working orders of the symbol in acceptance order;
//  - `amendOrder` (Bybit order/amend) emits the amended order's report (same ids, same status); a
//    limit amended to a marketable price then executes at once as a taker, as a create would;
//  - after a match that leaves the position flat or on the other side, the venue cancels the
//    working reduce-only orders that can no longer reduce it;
//  - `setPositionProtection` (Bybit trading-stop) emits one position report with the current seq.
// `emit` runs synchronously inside the call that caused the fact and must not call back into the
// venue (asserted): a caller that reacts to facts schedules its reaction for later.
//
// Invariants: venue order ids (`o<n>`) and execution ids (`x<n>`) count up from 1; every fill is
// booked through the core's `applyFill`; a rejected request emits nothing; a client order id is
// accepted at most once; every create and every amend is in its log with its result.

import { assert } from '../../core/assert.ts';
import type { Fill, OrderReport, PositionReport, Ticker, WalletReport } from '../../core/events.ts';
import { e8PerUnit } from '../../core/money.ts';
import type { VenueOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import type { Liquidity, OrderSpec } from '../../core/types.ts';
import { sideSign } from '../../core/types.ts';
import type { PositionBook } from './book.ts';
import { bookMatch, emptyBook, positionReportOf, simPositionOf, trailed, withAttached, withProtectionChange } from './book.ts';
import {
  fillsOf, isLimitTouched, isMarketable, isStopReached, positionTriggerHit, priceBy, reducibleLots, splitLots, takerFillTicks,
} from './matching.ts';
import type { PositionTriggerKind, SimOrder } from './orders.ts';
import {
  amended, amendedSpec, cancelled, currentSpec, isWorking, newSimOrder, remainingLots, reportOf, triggered, truncatedTo, withFilled,
} from './orders.ts';
import type {
  AmendRecord, AmendResult, CancelResult, OrderAmendment, OrderRef, Prices, ProtectionChange, ProtectionResult, Rejection, SimPosition, SimTrailing,
  SimVenueConfig, Submission, SubmitResult, VenueFact,
} from './types.ts';
import { OrderStore } from './store.ts';
import { validateAmend, validateProtectionChange, validateSubmit } from './validate.ts';

export type {
  AmendRecord, AmendResult, CancelResult, OrderAmendment, OrderRef, Prices, ProtectionChange, ProtectionResult, SimPosition, SimTrailing,
  SimVenueConfig, Submission, SubmitResult, TrailingSpec, VenueFact,
} from './types.ts';

const nothingToReduceReason = 'reduce-only order has no position to reduce';
const defaultStartingBalanceE8 = 10_000 * e8PerUnit;

export class SimVenue {
  private readonly config: SimVenueConfig;
  private readonly emit: (fact: VenueFact) => void;
  private readonly instruments: Map<string, Instrument>;
  private readonly pricesBySymbol = new Map<string, Prices>();
  private readonly books = new Map<string, PositionBook>();
  private readonly orders = new OrderStore();
  private readonly fillLog: Fill[] = [];
  private readonly submissionLog: Submission[] = [];
  private readonly amendLog: AmendRecord[] = [];
  private executionsCount = 0;
  /** Cancels that arrived after the order had filled (each pushed a second Filled). */
  lateCancelsOfFilled = 0;
  /** Stops the venue fired: stop orders triggered, and positions' own stop-losses and take-profits. */
  triggers = 0;
  /** Executions split into several fills, or a resting limit filled only in part. */
  partialExecutions = 0;
  /** True while the emit handler runs: it must not call back into the venue mid-update. */
  private emitting = false;

  constructor(config: SimVenueConfig, emit: (fact: VenueFact) => void) {
    assertConfig(config);
    this.config = config;
    this.emit = (fact) => {
      this.emitting = true;
      try {
        emit(fact);
      } finally {
        this.emitting = false;
      }
    };
    this.instruments = new Map(config.instruments.map((instrument) => [instrument.symbol, instrument]));
    assert(this.instruments.size === config.instruments.length, 'sim venue: duplicate instrument symbols');
    for (const instrument of config.instruments) this.books.set(instrument.symbol, emptyBook(instrument.symbol));
  }

  submitOrder(nowMs: number, clientOrderId: string | null, spec: OrderSpec): SubmitResult {
    this.assertIdle();
    const rejection = validateSubmit({
      instrument: this.instruments.get(spec.symbol),
      prices: this.pricesBySymbol.get(spec.symbol) ?? null,
      positionLots: this.books.get(spec.symbol)?.sizeLots ?? 0,
      clientOrderIdTaken: clientOrderId !== null && this.orders.hasClientOrderId(clientOrderId),
    }, clientOrderId, spec);
    if (rejection !== null) {
      this.submissionLog.push({ atMs: nowMs, clientOrderId, spec, result: rejection });
      return rejection;
    }
    const order = this.accept(nowMs, clientOrderId, spec, null);
    const result: SubmitResult = { ok: true, venueOrderId: order.venueOrderId };
    this.submissionLog.push({ atMs: nowMs, clientOrderId, spec, result });
    this.onAccepted(nowMs, order);
    return result;
  }

  cancelOrder(nowMs: number, ref: OrderRef): CancelResult {
    this.assertIdle();
    const order = this.orders.find(ref);
    // A cancel that raced the fill: Bybit pushes the order's Filled again as it refuses the cancel,
    // so the stream carries two Filled messages for one order.
    if (order?.status === 'filled') {
      this.lateCancelsOfFilled += 1;
      this.emitReport(order);
    }
    // Bybit 110001: unknown, or finished before the cancel arrived.
    if (order === undefined || !isWorking(order)) return { ok: false, code: 'not-found', reason: 'order not exists or too late to cancel' };
    this.finish(cancelled(order, 'cancelled by user', nowMs));
    return { ok: true };
  }

  /**
   * Bybit `order/amend` of a working order: only the given fields change (validate.ts says which
   * may); the order keeps its ids and status, its update time moves and its report is emitted. A
   * limit amended to a marketable price executes at once as a taker (a post-only one is cancelled
   * instead), as a create would. An amend that changes nothing is accepted and reported all the same.
   */
  amendOrder(nowMs: number, ref: OrderRef, amendment: OrderAmendment): AmendResult {
    this.assertIdle();
    const order = this.orders.find(ref);
    if (order === undefined || !isWorking(order)) {
      // Bybit 110001: unknown, or finished before the amend arrived.
      const result: Rejection = { ok: false, code: 'not-found', reason: 'order not exists or too late to amend' };
      const clientOrderId = order?.clientOrderId ?? ('clientOrderId' in ref ? ref.clientOrderId : null);
      this.amendLog.push({ atMs: nowMs, clientOrderId, venueOrderId: order?.venueOrderId ?? null, before: order === undefined ? null : currentSpec(order), after: null, result });
      return result;
    }
    const before = currentSpec(order);
    const after = amendedSpec(before, amendment);
    const prices = this.pricesBySymbol.get(before.symbol) ?? null;
    const result: AmendResult = validateAmend({ instrument: this.instrumentOf(before.symbol), prices }, before, order.filledLots, amendment, after) ?? { ok: true };
    this.amendLog.push({ atMs: nowMs, clientOrderId: order.clientOrderId, venueOrderId: order.venueOrderId, before, after, result });
    if (!result.ok) return result;
    const next = amended(order, after, nowMs);
    this.orders.put(next);
    this.emitReport(next);
    const { type } = after;
    const crosses = amendment.priceTicks !== undefined && type.kind === 'limit' && prices !== null
      && isMarketable(after.side, type.priceTicks, prices.lastTicks, this.config.spreadTicks);
    if (crosses && type.postOnly) this.finish(cancelled(next, 'post-only order would take liquidity', nowMs));
    else if (crosses) this.executeTaker(nowMs, next);
    return result;
  }

  queryOrder(ref: OrderRef): OrderReport | null {
    const order = this.orders.find(ref);
    return order === undefined ? null : reportOf(order);
  }

  /**
   * Bybit `position/trading-stop`: sets or clears the position-level stop-loss, take-profit and
   * trailing stop (book.ts says how they combine). The trailing follows the last price from now on.
   */
  setPositionProtection(nowMs: number, symbol: string, change: ProtectionChange): ProtectionResult {
    this.assertIdle();
    const book = this.books.get(symbol);
    if (book === undefined) return { ok: false, code: 'invalid', reason: `unknown symbol ${symbol}` };
    const prices = this.pricesBySymbol.get(symbol) ?? null;
    const rejection = validateProtectionChange(book.sizeLots, prices, change);
    if (rejection !== null) return rejection;
    const next = withProtectionChange(book, change, prices?.lastTicks ?? null, nowMs);
    this.books.set(symbol, next);
    this.emit({ kind: 'position', report: positionReportOf(next, this.instrumentOf(symbol)) });
    return { ok: true };
  }

  setPrice(nowMs: number, symbol: string, lastTicks: number, markTicks = lastTicks): void {
    this.assertIdle();
    assert(this.instruments.has(symbol), `sim venue: unknown symbol ${symbol}`);
    assert(Number.isSafeInteger(lastTicks) && lastTicks > 0, `${symbol}: bad last price ${lastTicks}`);
    assert(Number.isSafeInteger(markTicks) && markTicks > 0, `${symbol}: bad mark price ${markTicks}`);
    const prices: Prices = { lastTicks, markTicks };
    this.pricesBySymbol.set(symbol, prices);
    this.emit({ kind: 'ticker', symbol, lastTicks, markTicks, venueMs: nowMs });
    this.followTrailing(nowMs, symbol, lastTicks);
    this.checkPositionTrigger(nowMs, symbol, prices);
    for (const order of this.orders.working(symbol)) this.checkWorkingOrder(nowMs, order.venueOrderId, prices);
  }

  position(symbol: string): SimPosition {
    return simPositionOf(this.bookOf(symbol));
  }

  /** The position's venue-side trailing stop, if one is set. */
  trailing(symbol: string): SimTrailing | null {
    return this.bookOf(symbol).trailing;
  }

  positions(): readonly SimPosition[] {
    return this.config.instruments.map((instrument) => this.position(instrument.symbol));
  }

  /** What Bybit's position/list with settleCoin answers: every position that is not flat. */
  positionReports(): readonly PositionReport[] {
    return this.config.instruments
      .map((instrument) => positionReportOf(this.bookOf(instrument.symbol), instrument))
      .filter((report) => report.sizeLots !== 0);
  }

  /** What Bybit's market/tickers answers: the last and mark price of every instrument that has one. */
  tickers(nowMs: number): readonly Ticker[] {
    return [...this.pricesBySymbol].map(([symbol, prices]) => ({ symbol, lastTicks: prices.lastTicks, markTicks: prices.markTicks, venueMs: nowMs }));
  }

  /**
   * What Bybit's wallet topic and wallet-balance call report for USDT: the balance (the start plus
   * realized PnL less fees; no funding here) and the equity that adds unrealised PnL at the mark.
   */
  wallet(nowMs: number): WalletReport {
    let walletBalanceE8 = this.config.startingBalanceE8 ?? defaultStartingBalanceE8;
    let unrealisedPnlE8 = 0;
    for (const instrument of this.config.instruments) {
      const book = this.bookOf(instrument.symbol);
      walletBalanceE8 += book.realizedPnlE8 - book.feesE8;
      const markTicks = this.pricesBySymbol.get(instrument.symbol)?.markTicks;
      if (book.sizeLots === 0 || markTicks === undefined) continue;
      unrealisedPnlE8 += Math.sign(book.sizeLots) * (markTicks * Math.abs(book.sizeLots) - book.costTicksLots) * instrument.tickLotE8;
    }
    return { coin: 'USDT', walletBalanceE8, equityE8: walletBalanceE8 + unrealisedPnlE8, unrealisedPnlE8, venueMs: nowMs };
  }

  openOrders(): readonly OrderReport[] {
    return this.orders.working().map(reportOf);
  }

  /** Every fill ever, in venue order (a live read-only view). */
  fills(): readonly Fill[] {
    return this.fillLog;
  }

  /** Every create request with its result, accepted or not (a live read-only view). */
  submissions(): readonly Submission[] {
    return this.submissionLog;
  }

  /** Every amend request with its result, applied or not (a live read-only view). */
  amendments(): readonly AmendRecord[] {
    return this.amendLog;
  }

  /** Flat, or a position stop-loss, or working reduce-only closing stops covering the whole size. */
  isProtected(symbol: string): boolean {
    const book = this.bookOf(symbol);
    if (book.sizeLots === 0 || book.stopLoss !== null) return true;
    const closingSide = book.sizeLots > 0 ? 'sell' : 'buy';
    let stopLots = 0;
    for (const order of this.orders.working(symbol)) {
      const { spec } = order;
      const counts = spec.reduceOnly && spec.type.kind === 'stop-market' && spec.side === closingSide;
      if (counts) stopLots += remainingLots(order);
    }
    return stopLots >= Math.abs(book.sizeLots);
  }

  price(symbol: string): Prices | null {
    return this.pricesBySymbol.get(symbol) ?? null;
  }

  private accept(nowMs: number, clientOrderId: string | null, spec: OrderSpec, positionTrigger: PositionTriggerKind | null): SimOrder {
    const order = newSimOrder(this.orders.nextVenueOrderId(), clientOrderId, spec, positionTrigger, nowMs);
    this.orders.add(order);
    return order;
  }

  private onAccepted(nowMs: number, order: SimOrder): void {
    const { type } = order.spec;
    if (type.kind === 'market') {
      this.executeTaker(nowMs, order);
      return;
    }
    const prices = this.pricesBySymbol.get(order.spec.symbol);
    const crosses = type.kind === 'limit' && prices !== undefined && isMarketable(order.spec.side, type.priceTicks, prices.lastTicks, this.config.spreadTicks);
    if (!crosses) {
      this.emitReport(order); // rests: `new` for a limit, `untriggered` for a stop-market
    } else if (type.postOnly) {
      // Bybit accepts the create, then cancels it (EC_PostOnlyWillTakeLiquidity).
      this.finish(cancelled(order, 'post-only order would take liquidity', nowMs));
    } else {
      this.executeTaker(nowMs, order);
    }
  }

  /** The trailing stop sees the last price; a stop-loss it moves is reported like any trading-stop change. */
  private followTrailing(nowMs: number, symbol: string, lastTicks: number): void {
    const book = this.bookOf(symbol);
    const next = trailed(book, lastTicks, nowMs);
    if (next === book) return;
    this.books.set(symbol, next);
    if (next.stopLoss !== book.stopLoss) this.emit({ kind: 'position', report: positionReportOf(next, this.instrumentOf(symbol)) });
  }

  private checkPositionTrigger(nowMs: number, symbol: string, prices: Prices): void {
    const book = this.bookOf(symbol);
    const hit = positionTriggerHit(book, prices);
    if (hit === null) return;
    const side = book.sizeLots > 0 ? 'sell' : 'buy';
    const spec: OrderSpec = { symbol, side, sizeLots: Math.abs(book.sizeLots), reduceOnly: true, type: { kind: 'market' } };
    const order = this.accept(nowMs, null, spec, hit);
    this.triggers += 1;
    this.emitReport(order);
    this.executeTaker(nowMs, order);
  }

  private checkWorkingOrder(nowMs: number, venueOrderId: VenueOrderId, prices: Prices): void {
    const order = this.orders.get(venueOrderId);
    // An earlier match in this same price update may have filled or cancelled it.
    if (order === undefined || !isWorking(order)) return;
    const { type, side } = order.spec;
    if (type.kind === 'limit' && isLimitTouched(side, type.priceTicks, prices.lastTicks)) this.fillResting(nowMs, order, type.priceTicks);
    if (type.kind === 'stop-market' && isStopReached(side, type.triggerTicks, priceBy(prices, type.triggerBy))) this.trigger(nowMs, order);
  }

  private trigger(nowMs: number, order: SimOrder): void {
    if (order.spec.reduceOnly && reducibleLots(order.spec.side, this.bookOf(order.spec.symbol).sizeLots) === 0) {
      this.finish(cancelled(order, nothingToReduceReason, nowMs)); // never fires: there is nothing to close
      return;
    }
    const fired = triggered(order, nowMs);
    this.triggers += 1;
    this.orders.put(fired);
    this.emitReport(fired);
    this.executeTaker(nowMs, fired);
  }

  private executeTaker(nowMs: number, order: SimOrder): void {
    const sized = this.sizedForExecution(nowMs, order);
    if (sized === null) return;
    const prices = this.pricesBySymbol.get(sized.spec.symbol);
    assert(prices !== undefined, `${sized.venueOrderId}: taker execution without a price`);
    const lots = remainingLots(sized);
    const { partialFillChance, fillPartsMax, rng } = this.config;
    const split = lots >= 2 && fillPartsMax >= 2 && partialFillChance > 0 && rng.chance(partialFillChance);
    const partsLots = split ? splitLots(rng, lots, fillPartsMax) : [lots];
    if (partsLots.length > 1) this.partialExecutions += 1;
    this.match(nowMs, sized, partsLots, takerFillTicks(sized, prices.lastTicks, this.config.spreadTicks), 'taker');
  }

  private fillResting(nowMs: number, order: SimOrder, limitTicks: number): void {
    const sized = this.sizedForExecution(nowMs, order);
    if (sized === null) return;
    const lots = remainingLots(sized);
    const { limitPartialChance, rng } = this.config;
    const partial = lots >= 2 && limitPartialChance > 0 && rng.chance(limitPartialChance);
    if (partial) this.partialExecutions += 1;
    this.match(nowMs, sized, [partial ? rng.int(1, lots - 1) : lots], limitTicks, 'maker');
  }

  /** Caps a reduce-only order to the position it can reduce, or cancels it if there is none. */
  private sizedForExecution(nowMs: number, order: SimOrder): SimOrder | null {
    if (!order.spec.reduceOnly) return order;
    const reducible = reducibleLots(order.spec.side, this.bookOf(order.spec.symbol).sizeLots);
    if (reducible === 0) {
      this.finish(cancelled(order, nothingToReduceReason, nowMs));
      return null;
    }
    return remainingLots(order) > reducible ? truncatedTo(order, order.filledLots + reducible) : order;
  }

  private match(nowMs: number, order: SimOrder, partsLots: readonly number[], priceTicks: number, liquidity: Liquidity): void {
    const { symbol, side } = order.spec;
    const instrument = this.instrumentOf(symbol);
    const book = this.bookOf(symbol);
    const fills = fillsOf({
      order, instrument, partsLots, priceTicks, liquidity, nowMs, seq: book.seq + 1, firstExecution: this.executionsCount + 1,
      feeRateE8: liquidity === 'maker' ? this.config.makerFeeRateE8 : this.config.takerFeeRateE8,
    });
    this.executionsCount += fills.length;
    const nextOrder = withFilled(order, partsLots.reduce((sum, lots) => sum + lots, 0), nowMs);
    let nextBook = bookMatch(book, instrument, fills, nowMs);
    // Attached TP/SL goes onto the position atomically with each fill that leaves the position on
    // the entry's side: the first fill arms it, and a remainder filling after the stop closed the
    // first part (which cleared it) arms it again.
    const { stopLoss, takeProfit } = order.spec;
    if ((stopLoss !== undefined || takeProfit !== undefined) && Math.sign(nextBook.sizeLots) === sideSign(side)) {
      nextBook = withAttached(nextBook, stopLoss, takeProfit);
    }
    this.orders.put(nextOrder);
    this.books.set(symbol, nextBook);
    this.fillLog.push(...fills);
    this.emitReport(nextOrder);
    for (const fill of fills) this.emit({ kind: 'fill', fill });
    this.emit({ kind: 'position', report: positionReportOf(nextBook, instrument) });
    this.emit({ kind: 'wallet', report: this.wallet(nowMs) });
    if (Math.sign(nextBook.sizeLots) !== Math.sign(book.sizeLots)) this.cancelStaleReduceOnly(nowMs, symbol, nextBook.sizeLots);
  }

  /** Bybit cancels reduce-only orders that can no longer reduce once the position closes. */
  private cancelStaleReduceOnly(nowMs: number, symbol: string, positionLots: number): void {
    const stale = this.orders.working(symbol).filter((order) => order.spec.reduceOnly && reducibleLots(order.spec.side, positionLots) === 0);
    for (const order of stale) this.finish(cancelled(order, 'reduce-only order cancelled: position closed', nowMs));
  }

  private finish(order: SimOrder): void {
    this.orders.put(order);
    this.emitReport(order);
  }

  private emitReport(order: SimOrder): void {
    this.emit({ kind: 'order', report: reportOf(order) });
  }

  private assertIdle(): void {
    assert(!this.emitting, 'sim venue: the emit handler called back into the venue; deliver facts later instead');
  }

  /**
   * The venue changes an instrument's limits (Bybit moves maxMktOrderQty now and then): orders
   * are judged by the new ones from now on; what rests on the book stays.
   */
  changeInstrument(instrument: Instrument): void {
    assert(this.instruments.has(instrument.symbol), `sim venue: unknown symbol ${instrument.symbol}`);
    this.instruments.set(instrument.symbol, instrument);
  }

  private instrumentOf(symbol: string): Instrument {
    const instrument = this.instruments.get(symbol);
    assert(instrument !== undefined, `sim venue: unknown symbol ${symbol}`);
    return instrument;
  }

  private bookOf(symbol: string): PositionBook {
    const book = this.books.get(symbol);
    assert(book !== undefined, `sim venue: unknown symbol ${symbol}`);
    return book;
  }
}

function assertConfig(config: SimVenueConfig): void {
  const { makerFeeRateE8, takerFeeRateE8, spreadTicks, partialFillChance, fillPartsMax, limitPartialChance } = config;
  assert(Number.isSafeInteger(makerFeeRateE8) && Number.isSafeInteger(takerFeeRateE8), 'sim venue: fee rates must be integers in 1e-8');
  assert(Number.isSafeInteger(spreadTicks) && spreadTicks >= 0, `sim venue: bad spreadTicks ${spreadTicks}`);
  assert(Number.isSafeInteger(fillPartsMax) && fillPartsMax >= 1, `sim venue: bad fillPartsMax ${fillPartsMax}`);
  for (const chance of [partialFillChance, limitPartialChance]) assert(chance >= 0 && chance <= 1, `sim venue: bad probability ${chance}`);
}
