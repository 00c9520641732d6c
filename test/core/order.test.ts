import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OrderReport } from '../../src/core/events.ts';
import type { VenueOrderId } from '../../src/core/ids.ts';
import type { Order } from '../../src/core/order/order.ts';
import { filledLots, markSubmitted, newPendingOrder, onCancelAcked, onFill, onReport, onSubmitAcked, onSubmitRejected, onSubmitUnknown } from '../../src/core/order/order.ts';

const v1 = 'v1' as VenueOrderId;

function submitted(): Order {
  return markSubmitted(newPendingOrder({
    key: 'b-1-e', intentId: null, role: 'entry', createdMs: 0,
    spec: { symbol: 'BTCUSDT', side: 'buy', sizeLots: 10, reduceOnly: false, type: { kind: 'market' } },
  }), 1);
}

function venueReport(status: OrderReport['status'], filled: number, atMs: number): OrderReport {
  return {
    symbol: 'BTCUSDT', venueOrderId: v1, clientOrderId: 'b-1-e', side: 'buy', orderKind: 'market', status, sizeLots: 10,
    filledLots: filled, priceTicks: null, triggerTicks: null, reduceOnly: false, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null,
    venueUpdatedMs: atMs, reason: null,
  };
}

type Step = (order: Order) => Order;

const steps: Readonly<Record<string, Step>> = {
  ack: (order) => onSubmitAcked(order, v1),
  new: (order) => onReport(order, venueReport('new', 0, 10)),
  fill: (order) => onFill(order, 10, v1),
  filled: (order) => onReport(order, venueReport('filled', 10, 20)),
};

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

describe('the order state machine', () => {
  it('ends filled whatever order the REST reply and the stream reports arrive in', () => {
    for (const order of permutations(Object.keys(steps))) {
      const final = order.reduce((state, name) => (steps[name] ?? ((s: Order) => s))(state), submitted());
      assert.equal(final.status, 'filled', order.join(' -> '));
      assert.equal(filledLots(final), 10, order.join(' -> '));
      assert.equal('venueOrderId' in final ? final.venueOrderId : null, v1, order.join(' -> '));
    }
  });

  it('keeps a terminal state against late reports, and counts a fill after a cancel', () => {
    const cancelled = onCancelAcked(onSubmitAcked(submitted(), v1), 'by request');
    assert.equal(onReport(cancelled, venueReport('new', 0, 30)).status, 'cancelled');
    const late = onFill(cancelled, 4, v1);
    assert.equal(late.status, 'cancelled');
    assert.equal(filledLots(late), 4);
  });

  it('goes to unknown on a timeout and is resolved only by the venue', () => {
    const unknown = onSubmitUnknown(submitted(), 5);
    assert.equal(unknown.status, 'unknown');
    assert.equal(onReport(unknown, venueReport('filled', 10, 20)).status, 'filled');
    assert.equal(onSubmitAcked(unknown, v1).status, 'accepted');
  });

  it('lets venue evidence win over a rejection reply, and revives an order concluded never placed', () => {
    const accepted = onReport(submitted(), venueReport('new', 0, 10));
    assert.equal(onSubmitRejected(accepted, 'other', 'late error').status, 'accepted');
    const concluded = onSubmitRejected(onSubmitUnknown(submitted(), 5), 'not-found', 'not found at the venue');
    assert.equal(concluded.status, 'rejected');
    assert.equal(onReport(concluded, venueReport('partially-filled', 3, 40)).status, 'partially-filled');
  });

  it('ignores a report older than the one applied, unless it shows more filled', () => {
    const partial = onReport(submitted(), venueReport('partially-filled', 5, 20));
    assert.equal(onReport(partial, venueReport('new', 0, 10)), partial);
    assert.equal(filledLots(onReport(partial, venueReport('partially-filled', 7, 15))), 7);
  });
});
