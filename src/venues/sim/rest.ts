// The simulated venue's REST answers to order commands, as the events the bot receives: shared by
// the in-process simulation (src/sim/world.ts, which adds the network between) and the loopback
// server (server.ts). What the answer is depends only on the venue at the instant it is computed;
// when it reaches the bot is the caller's business.

import type { Incoming, VenueCommand } from '../../shell/ports.ts';
import type { SimVenue } from './venue.ts';

export type OrderCommand = Exclude<VenueCommand, { readonly type: 'FetchSnapshot' }>;

export type OrderReply = Extract<Incoming, { readonly type: 'OrderSubmitAcked' | 'OrderSubmitRejected' | 'OrderCancelAcked' | 'OrderCancelRejected' | 'OrderQueried' }>;

export function answerOrderCommand(venue: SimVenue, nowMs: number, command: OrderCommand): OrderReply {
  const { commandId, clientOrderId } = command;
  switch (command.type) {
    case 'SubmitOrder': {
      const result = venue.submitOrder(nowMs, clientOrderId, command.spec);
      return result.ok
        ? { type: 'OrderSubmitAcked', commandId, clientOrderId, venueOrderId: result.venueOrderId }
        : { type: 'OrderSubmitRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
    }
    case 'CancelOrder': {
      const result = venue.cancelOrder(nowMs, { clientOrderId });
      return result.ok
        ? { type: 'OrderCancelAcked', commandId, clientOrderId }
        : { type: 'OrderCancelRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
    }
    case 'QueryOrder':
      return { type: 'OrderQueried', commandId, clientOrderId, report: venue.queryOrder({ clientOrderId }) };
  }
}
