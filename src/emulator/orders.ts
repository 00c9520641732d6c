// The emulator's public view of orders: every order the client can see, keyed by the Bybit order id
// it was given, with what Bybit reports and the simulated venue does not keep (creation time, time
// in force, trigger direction, the trigger price kinds, cumulative value and fee).
//
// Amend. SimVenue amends an order in place (same venue id, same client id), as Bybit does, so a
// public order is one sim order for its whole life; amend.ts keeps its extras (trigger kinds) current.
//
// Binding. A sim order the registry has never seen is bound, on its first report, to what the
// caller said to expect (`expectCreate` before a create); an order the venue made by itself (a
// position's stop-loss, take-profit or trailing stop firing) gets a public order of its own.
//
// Invariants: a public order id is the venue id of the sim order behind it, unique and stable;
// `rank` counts up in creation order; a public report's filledLots <= sizeLots; every fill maps to
// exactly one public order.

import { assert } from '../core/assert.ts';
import type { Fill, OrderReport, PositionTrigger } from '../core/events.ts';
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
  /** The latest report in public terms. */
  report: OrderReport;
  /** The sim order behind it (its id is the public order id). */
  readonly venueOrderId: VenueOrderId;
  cumValueE8: number;
  cumFeeE8: number;
};

export type OrderLookup = { readonly orderId: string } | { readonly orderLinkId: string };

export class OrderRegistry {
  private readonly byOrderId = new Map<string, PublicOrder>();
  private readonly byVenueOrderId = new Map<VenueOrderId, PublicOrder>();
  private readonly byLinkId = new Map<string, PublicOrder>();
  /** Every public order in creation order. */
  private readonly ordered: PublicOrder[] = [];
  /** Closed orders order/realtime no longer lists: Bybit's service restarted since they closed (order/history still has them). */
  readonly closedBeforeRestart = new Set<PublicOrder>();
  /** The extras of the order a create is placing, while the venue call runs. */
  private expectedExtras: OrderExtras | null = null;

  /** The next unseen sim order is the one a create is placing. */
  expectCreate(extras: OrderExtras): void {
    this.expectedExtras = extras;
  }

  /** After the venue call: whatever was expected and did not come (a rejected create) is forgotten. */
  settle(): void {
    this.expectedExtras = null;
  }

  /** A sim order report to the public order it updates (bound on its first report). */
  onReport(report: OrderReport): PublicOrder {
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
    const extras = this.expectedExtras ?? venueMadeExtras(report);
    this.expectedExtras = null;
    const order: PublicOrder = {
      orderId: report.venueOrderId, orderLinkId: report.clientOrderId, rank: this.ordered.length + 1, createdMs: report.venueUpdatedMs,
      extras, report, venueOrderId: report.venueOrderId, cumValueE8: 0, cumFeeE8: 0,
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
  assert(report.filledLots <= report.sizeLots, `emulator: ${order.orderId} filled ${report.filledLots} over its size`);
  return { ...report, venueOrderId: order.orderId, clientOrderId: order.orderLinkId };
}

/** Bybit's createType of an order the venue made from a position's stop-loss, take-profit or trailing stop. */
const venueMadeCreateTypes: Readonly<Record<Exclude<PositionTrigger, null>, string>> = {
  'stop-loss': 'CreateByStopLoss', 'take-profit': 'CreateByTakeProfit', 'trailing-stop': 'CreateByTrailingStop',
};

/** An order the venue made from a position's stop-loss, take-profit or trailing stop. */
function venueMadeExtras(report: OrderReport): OrderExtras {
  const createType = report.positionTrigger === null ? 'CreateByUser' : venueMadeCreateTypes[report.positionTrigger];
  return { timeInForce: 'IOC', triggerDirection: 0, triggerBy: null, slTriggerBy: null, tpTriggerBy: null, lastPriceOnCreatedTicks: null, createType };
}
