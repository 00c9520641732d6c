// The emulated Bybit account: the simulated venue (ground truth for orders, fills, positions and
// money), the public order registry and the account beside it, and the pushes the venue's facts
// make, encoded as Bybit v5 messages.
//
// Facts arrive synchronously inside a venue call; they are translated into public terms at once
// (the registry and the account must be current before the call returns) and queued. `drain`
// then turns the queue into messages, consecutive facts of one topic in one message (one match's
// fills are one execution message, a cancel-all's cancels one order message), in venue order:
// order before execution before position before wallet, as Bybit sends them. The caller drains
// after every venue call and before the REST reply it makes, so pushes always leave first.
//
// Invariants: every call that changes the venue goes through `act`, which drains nothing itself
// but settles the registry's expectations; the queue is empty between requests once drained; `cs` of a symbol's
// tickers counts up by one per price; message ids are unique except for deliberate duplicates.

import { assert } from '../core/assert.ts';
import type { Fill, OrderReport, PositionReport } from '../core/events.ts';
import type { Instrument } from '../core/instrument.ts';
import { notionalE8 } from '../core/instrument.ts';
import type { BybitItem, BybitPrivateMessage, BybitTickerMessage } from '../venues/bybit/encode.ts';
import type { SimVenueConfig, VenueFact } from '../venues/sim/venue.ts';
import { SimVenue } from '../venues/sim/venue.ts';
import { isOpenStatus } from '../venues/bybit/vocabulary.ts';
import { Account } from './account.ts';
import { OrderRegistry } from './orders.ts';
import type { PositionContext, Quote } from './shapes.ts';
import { fillItem, orderItem, positionItem, tickerItem, walletItem } from './shapes.ts';

export type PrivateTopic = 'order' | 'execution' | 'position' | 'wallet';
export const privateTopics: readonly PrivateTopic[] = ['order', 'execution', 'position', 'wallet'];

export type Push =
  | { readonly stream: 'private'; readonly topic: PrivateTopic; readonly message: BybitPrivateMessage }
  | { readonly stream: 'public'; readonly topic: string; readonly message: BybitTickerMessage };

/** A translated fact waiting to be pushed, its item built when the fact happened. */
type Queued =
  | { readonly topic: PrivateTopic; readonly item: BybitItem; readonly symbol: string | null; readonly seq: number }
  | { readonly topic: 'ticker'; readonly symbol: string; readonly data: BybitItem; readonly cs: number };

export class Exchange {
  readonly venue: SimVenue;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly orders = new OrderRegistry();
  readonly account: Account;
  private readonly config: SimVenueConfig;
  private queue: Queued[] = [];
  private messagesCount = 0;
  private readonly tickerSeqs = new Map<string, number>();
  private readonly relisted = new Map<string, Instrument>();
  private readonly unlisted = new Set<string>();

  constructor(config: SimVenueConfig) {
    this.config = config;
    this.instruments = new Map(config.instruments.map((instrument) => [instrument.symbol, instrument]));
    this.account = new Account(this.instruments);
    this.venue = new SimVenue(config, (fact) => this.onFact(fact));
  }

  /** Runs one venue call; whatever the registry was told to expect is settled after it. */
  act<T>(call: (venue: SimVenue) => T): T {
    try {
      return call(this.venue);
    } finally {
      this.orders.settle();
    }
  }

  /** Bybit pushes a position message after every order create, amend and cancel, even when nothing filled. */
  pushPosition(symbol: string): void {
    if (this.queue.some((queued) => queued.topic === 'position' && queued.symbol === symbol)) return;
    const report = this.account.position(symbol);
    this.queue.push({ topic: 'position', item: this.positionItem(report), symbol, seq: report.seq });
  }

  /** The instruments as instruments-info lists them: as traded, unless relisted or no longer listed. */
  listedInstruments(): Instrument[] {
    return [...this.instruments.values()].filter((traded) => !this.unlisted.has(traded.symbol)).map((traded) => this.relisted.get(traded.symbol) ?? traded);
  }

  /** Lists the symbol as trading no more (delisted, or suspended): instruments-info leaves it out, as Bybit's does by default. Only the listing changes. */
  unlist(symbol: string): void {
    assert(this.instruments.has(symbol), `emulator: unknown symbol ${symbol}`);
    this.unlisted.add(symbol);
  }

  /**
   * Lists an instrument with another tick or lot (or limits, or a delisting announced) from now on, as Bybit does on an announced change.
   * Only the listing changes: the book and the account keep the grid they started on, so this shows
   * what a client reading the instruments sees of a change, not trading across it.
   */
  relist(instrument: Instrument): void {
    assert(this.instruments.has(instrument.symbol), `emulator: unknown symbol ${instrument.symbol}`);
    this.relisted.set(instrument.symbol, instrument);
  }

  instrument(symbol: string): Instrument {
    const instrument = this.instruments.get(symbol);
    assert(instrument !== undefined, `emulator: unknown symbol ${symbol}`);
    return instrument;
  }

  quote(symbol: string): Quote | null {
    const prices = this.venue.price(symbol);
    return prices === null ? null : { lastTicks: prices.lastTicks, markTicks: prices.markTicks, spreadTicks: this.config.spreadTicks };
  }

  markTicks(symbol: string): number | null {
    return this.venue.price(symbol)?.markTicks ?? null;
  }

  feeRateE8(fill: Fill): number {
    return fill.liquidity === 'maker' ? this.config.makerFeeRateE8 : this.config.takerFeeRateE8;
  }

  /** Every open order in public terms, oldest first. */
  openOrders(): readonly OrderReport[] {
    return this.orders.all().map((order) => order.report).filter((report) => isOpenStatus(report.status));
  }

  positionContext(report: PositionReport): PositionContext {
    const markTicks = this.markTicks(report.symbol);
    const leverageCenti = this.account.leverageCenti(report.symbol);
    const imE8 = markTicks === null ? 0n : this.account.marginE8(report.symbol, this.account.notionalE8(report.symbol, markTicks, Math.abs(report.sizeLots)));
    // The venue's trailing stop now (a report is made and read at once: the venue has not moved since).
    const trailingDistanceTicks = report.sizeLots === 0 ? null : this.venue.trailing(report.symbol)?.distanceTicks ?? null;
    return { leverageCenti, markTicks, imE8, trailingDistanceTicks };
  }

  unrealisedPnlE8(symbol: string): number {
    const position = this.venue.position(symbol);
    const markTicks = this.markTicks(symbol);
    if (position.sizeLots === 0 || markTicks === null) return 0;
    return Math.sign(position.sizeLots) * (markTicks * Math.abs(position.sizeLots) - position.costTicksLots) * this.instrument(symbol).tickLotE8;
  }

  positionItem(report: PositionReport): BybitItem {
    return positionItem(report, this.instrument(report.symbol), this.positionContext(report), this.unrealisedPnlE8(report.symbol));
  }

  walletItem(nowMs: number): BybitItem {
    const wallet = this.venue.wallet(nowMs);
    return walletItem(wallet, this.account.margin(wallet, (symbol) => this.markTicks(symbol), this.openOrders()));
  }

  tickerSnapshot(symbol: string, nowMs: number): BybitTickerMessage {
    const data = tickerItem(this.instrument(symbol), this.quote(symbol));
    return { topic: `tickers.${symbol}`, type: 'snapshot', data, cs: this.tickerSeqs.get(symbol) ?? 0, ts: nowMs };
  }

  /** The queued facts as Bybit messages, in venue order; the queue is empty after. */
  drain(nowMs: number): Push[] {
    const queue = this.queue;
    this.queue = [];
    const pushes: Push[] = [];
    let index = 0;
    while (index < queue.length) {
      const first = queue[index];
      assert(first !== undefined, 'emulator: queue index out of range');
      if (first.topic === 'ticker') {
        pushes.push({ stream: 'public', topic: `tickers.${first.symbol}`, message: { topic: `tickers.${first.symbol}`, type: 'delta', data: first.data, cs: first.cs, ts: nowMs } });
        index += 1;
        continue;
      }
      const data: BybitItem[] = [];
      let end = index;
      for (let next = queue[end]; next !== undefined && next.topic === first.topic; next = queue[end]) {
        if ('item' in next) data.push(next.item);
        end += 1;
      }
      pushes.push({ stream: 'private', topic: first.topic, message: { id: this.messageId(first), topic: first.topic, creationTime: nowMs, data } });
      index = end;
    }
    return pushes;
  }

  private onFact(fact: VenueFact): void {
    switch (fact.kind) {
      case 'order': {
        const order = this.orders.onReport(fact.report);
        this.queue.push({ topic: 'order', item: orderItem(order, this.instrument(order.report.symbol)), symbol: order.report.symbol, seq: 0 });
        return;
      }
      case 'fill': {
        const instrument = this.instrument(fact.fill.symbol);
        const fill = this.orders.onFill(fact.fill, notionalE8(instrument, fact.fill.priceTicks, fact.fill.lots));
        const item = fillItem(fill, instrument, this.orders.find({ orderId: fill.venueOrderId }), this.feeRateE8(fill));
        this.queue.push({ topic: 'execution', item, symbol: fill.symbol, seq: fill.seq });
        return;
      }
      case 'position':
        this.account.onPosition(fact.report);
        this.queue.push({ topic: 'position', item: this.positionItem(fact.report), symbol: fact.report.symbol, seq: fact.report.seq });
        return;
      case 'wallet': {
        const wallet = fact.report;
        const item = walletItem(wallet, this.account.margin(wallet, (symbol) => this.markTicks(symbol), this.openOrders()));
        this.queue.push({ topic: 'wallet', item, symbol: null, seq: 0 });
        return;
      }
      case 'ticker': {
        const cs = (this.tickerSeqs.get(fact.symbol) ?? 0) + 1;
        this.tickerSeqs.set(fact.symbol, cs);
        const quote: Quote = { lastTicks: fact.lastTicks, markTicks: fact.markTicks, spreadTicks: this.config.spreadTicks };
        this.queue.push({ topic: 'ticker', symbol: fact.symbol, data: tickerDelta(tickerItem(this.instrument(fact.symbol), quote)), cs });
        return;
      }
    }
  }

  /** Bybit's execution message id embeds the cross sequence (`<n>_<symbol>_<seq>`); others are opaque. */
  private messageId(first: Queued): string {
    const number = this.nextMessageNumber();
    return first.topic === 'execution' ? `${number}_${first.symbol ?? ''}_${first.seq}` : `${number}-${first.topic}`;
  }

  private nextMessageNumber(): number {
    this.messagesCount += 1;
    return this.messagesCount;
  }
}

/** A delta carries only what changes: the prices and the touch. */
function tickerDelta(full: BybitItem): BybitItem {
  const data: BybitItem = {};
  for (const key of ['symbol', 'lastPrice', 'markPrice', 'indexPrice', 'bid1Price', 'ask1Price'] as const) {
    const value = full[key];
    if (value !== undefined) data[key] = value;
  }
  return data;
}
