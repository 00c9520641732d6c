// The emulator's public view of orders: every order the client can see, keyed by the Bybit order id
// it was given, with what Bybit reports and the simulated venue does not keep (creation time, time
// in force, trigger direction, the trigger price kinds, cumulative value and fee).
//
// Amend. SimVenue has no amend, so the emulator amends by cancelling the sim order and placing a
// replacement (without a client id: the venue never reuses one) and keeps the public order as it
// was: same orderId and orderLinkId, the quantity and fills of the sim orders behind it added up
// (`baseFilledLots`), the replaced order's cancel never shown. The client sees one order amended
// in place, as on Bybit.
//
// Binding. A sim order the registry has never seen is bound, on its first report, to what the
// caller said to expect (`expect` before a create or a replacement); an order the venue made by
// itself (a position's stop-loss or take-profit firing) gets a public order of its own.
//
// Invariants: public order ids are the venue id of the first sim order behind them, unique and
// stable; `rank` counts up in creation order; a public report's filledLots <= sizeLots; a replaced
// sim order's cancel is swallowed exactly once; every fill maps to exactly one public order.

import { assert } from '../core/assert.ts';
import type { Fill, OrderReport } from '../core/events.ts';
import type { VenueOrderId } from '../core/ids.ts';
import type { TriggerBy } from '../core/types.ts';
import { isOpenStatus } from '../venues/bybit/vocabulary.ts';

export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'PostOnly';

/** What a create asked for that the sim order does not keep. */
export type OrderExtras = {
  readonly timeInForce: TimeInForce;
  /** Bybit triggerDirection: 1 rise to the trigger, 2 fall to it, 0 none. */
  readonly triggerDirection: 0 | 1 | 2;
  readonly triggerBy: TriggerBy | null;
  readonly slTriggerBy: TriggerBy | null;
  readonly tpTriggerBy: TriggerBy | null;
  readonly lastPriceOnCreatedTicks: number | null;
  readonly createType: string;
};

export type PublicOrder = {
  readonly orderId: VenueOrderId;
  readonly orderLinkId: string | null;
  readonly rank: number;
  readonly createdMs: number;
  extras: OrderExtras;
  /** The latest report in public terms (public ids, totals over every sim order behind it). */
  report: OrderReport;
  /** The sim order working for it now. */
  venueOrderId: VenueOrderId;
  /** Lots filled by sim orders that an amend replaced. */
  baseFilledLots: number;
  cumValueE8: number;
  cumFeeE8: number;
};

export type OrderLookup = { readonly orderId: string } | { readonly orderLinkId: string };

type Expectation = { readonly kind: 'create'; readonly extras: OrderExtras } | { readonly kind: 'replacement'; readonly order: PublicOrder };

export class OrderRegistry {
  private readonly byOrderId = new Map<string, PublicOrder>();
  private readonly byVenueOrderId = new Map<VenueOrderId, PublicOrder>();
  private readonly byLinkId = new Map<string, PublicOrder>();
  /** Every public order in creation order. */
  private readonly ordered: PublicOrder[] = [];
  private expectation: Expectation | null = null;
  private swallowCancelOf: VenueOrderId | null = null;

  /** The next unseen sim order is the one a create is placing. */
  expectCreate(extras: OrderExtras): void {
    this.expectation = { kind: 'create', extras };
  }

  /** The next unseen sim order replaces `order`'s current one, whose cancel must not show. */
  expectReplacement(order: PublicOrder): void {
    this.expectation = { kind: 'replacement', order };
    this.swallowCancelOf = order.venueOrderId;
  }

  /** After the venue call: whatever was expected and did not come (a rejected create) is forgotten. */
  settle(): void {
    this.expectation = null;
    this.swallowCancelOf = null;
  }

  /** A sim order report to the public report it makes, or null when it must not show. */
  onReport(report: OrderReport): PublicOrder | null {
    if (report.venueOrderId === this.swallowCancelOf && report.status === 'cancelled') {
      this.swallowCancelOf = null;
      return null;
    }
    const order = this.byVenueOrderId.get(report.venueOrderId) ?? this.bind(report);
    order.report = publicReport(order, report);
    return order;
  }

  /** A sim fill in public terms; the order's cumulative value and fee grow with it. */
  onFill(fill: Fill, notionalE8: number): Fill {
    const order = this.byVenueOrderId.get(fill.venueOrderId);
    assert(order !== undefined, `emulator: fill ${fill.executionId} of unknown order ${fill.venueOrderId}`);
    order.cumValueE8 += notionalE8;
    order.cumFeeE8 += fill.feeE8;
    return this.publicFill(fill);
  }

  publicFill(fill: Fill): Fill {
    const order = this.byVenueOrderId.get(fill.venueOrderId);
    assert(order !== undefined, `emulator: fill ${fill.executionId} of unknown order ${fill.venueOrderId}`);
    return { ...fill, venueOrderId: order.orderId, clientOrderId: order.orderLinkId };
  }

  find(lookup: OrderLookup): PublicOrder | undefined {
    return 'orderId' in lookup ? this.byOrderId.get(lookup.orderId) : this.byLinkId.get(lookup.orderLinkId);
  }

  /** Every public order, oldest first (a live read-only view). */
  all(): readonly PublicOrder[] {
    return this.ordered;
  }

  private bind(report: OrderReport): PublicOrder {
    const { expectation } = this;
    this.expectation = null;
    if (expectation?.kind === 'replacement') {
      const order = expectation.order;
      this.byVenueOrderId.set(report.venueOrderId, order);
      order.venueOrderId = report.venueOrderId;
      return order;
    }
    const extras = expectation?.kind === 'create' ? expectation.extras : venueMadeExtras(report);
    const order: PublicOrder = {
      orderId: report.venueOrderId, orderLinkId: report.clientOrderId, rank: this.ordered.length + 1, createdMs: report.venueUpdatedMs,
      extras, report, venueOrderId: report.venueOrderId, baseFilledLots: 0, cumValueE8: 0, cumFeeE8: 0,
    };
    assert(!this.byOrderId.has(order.orderId), `emulator: order ${order.orderId} bound twice`);
    this.byOrderId.set(order.orderId, order);
    this.byVenueOrderId.set(report.venueOrderId, order);
    if (order.orderLinkId !== null) this.byLinkId.set(order.orderLinkId, order);
    this.ordered.push(order);
    return order;
  }
}

/** Whether the client may still cancel or amend it. */
export function isWorkingOrder(order: PublicOrder): boolean {
  return isOpenStatus(order.report.status);
}

function publicReport(order: PublicOrder, report: OrderReport): OrderReport {
  const base = order.baseFilledLots;
  const filledLots = base + report.filledLots;
  const status = base > 0 && report.status === 'new' ? 'partially-filled' : report.status;
  assert(filledLots <= base + report.sizeLots, `emulator: ${order.orderId} filled ${filledLots} over its size`);
  return { ...report, venueOrderId: order.orderId, clientOrderId: order.orderLinkId, sizeLots: base + report.sizeLots, filledLots, status };
}

/** An order the venue made from a position's stop-loss or take-profit. */
function venueMadeExtras(report: OrderReport): OrderExtras {
  const createType = report.positionTrigger === 'stop-loss' ? 'CreateByStopLoss' : report.positionTrigger === 'take-profit' ? 'CreateByTakeProfit' : 'CreateByUser';
  return { timeInForce: 'IOC', triggerDirection: 0, triggerBy: null, slTriggerBy: null, tpTriggerBy: null, lastPriceOnCreatedTicks: null, createType };
}
