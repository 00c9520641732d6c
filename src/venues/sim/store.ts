// The simulated venue's order registry: every accepted order by venue order id (kept forever, so a
// query by id answers in any status), the client order ids taken, and the working subset in
// acceptance order, which is the order a price update checks them in.
//
// Invariants: venue order ids are `o1`, `o2`, ... in acceptance order; a client order id maps to
// exactly one order, forever; an id is in the working subset iff its order is working.

import { assert } from '../../core/assert.ts';
import type { VenueOrderId } from '../../core/ids.ts';
import type { SimOrder } from './orders.ts';
import { isWorking } from './orders.ts';
import type { OrderRef } from './types.ts';

export class OrderStore {
  private readonly orders = new Map<VenueOrderId, SimOrder>();
  /** A Set keeps first-insertion order, so an order keeps its acceptance place while it works. */
  private readonly workingIds = new Set<VenueOrderId>();
  private readonly idByClientOrderId = new Map<string, VenueOrderId>();
  private acceptedCount = 0;

  nextVenueOrderId(): VenueOrderId {
    return `o${this.acceptedCount + 1}` as VenueOrderId;
  }

  add(order: SimOrder): void {
    assert(order.venueOrderId === this.nextVenueOrderId(), `order store: ${order.venueOrderId} out of sequence`);
    assert(order.clientOrderId === null || !this.idByClientOrderId.has(order.clientOrderId), `order store: ${order.clientOrderId} taken`);
    this.acceptedCount += 1;
    if (order.clientOrderId !== null) this.idByClientOrderId.set(order.clientOrderId, order.venueOrderId);
    this.put(order);
  }

  put(order: SimOrder): void {
    this.orders.set(order.venueOrderId, order);
    if (isWorking(order)) this.workingIds.add(order.venueOrderId);
    else this.workingIds.delete(order.venueOrderId);
  }

  hasClientOrderId(clientOrderId: string): boolean {
    return this.idByClientOrderId.has(clientOrderId);
  }

  get(venueOrderId: VenueOrderId): SimOrder | undefined {
    return this.orders.get(venueOrderId);
  }

  find(ref: OrderRef): SimOrder | undefined {
    const venueOrderId = 'venueOrderId' in ref ? ref.venueOrderId : this.idByClientOrderId.get(ref.clientOrderId);
    return venueOrderId === undefined ? undefined : this.orders.get(venueOrderId);
  }

  /** Working orders in acceptance order, optionally of one symbol (a snapshot: safe to act on). */
  working(symbol: string | null = null): SimOrder[] {
    const result: SimOrder[] = [];
    for (const venueOrderId of this.workingIds) {
      const order = this.orders.get(venueOrderId);
      if (order !== undefined && (symbol === null || order.spec.symbol === symbol)) result.push(order);
    }
    return result;
  }
}
