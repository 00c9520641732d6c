// The simulated venue's REST answers to order commands, as the events the bot receives: shared by
// the in-process simulation (src/sim/world.ts, which adds the network between) and the loopback
// server (server.ts). What the answer is depends only on the venue at the instant it is computed;
// when it reaches the bot is the caller's business.
//
// Invariants: every command gets exactly one answer, of a reply type its command can have (the
// bot's side checks it: remote.ts `repliesTo`); an answer about an order names the command's
// client order id, one about a position the command's symbol.

import type { CommandOf, PositionStopChange } from '../../core/commands.ts';
import type { Incoming, VenueCommand } from '../../shell/ports.ts';
import type { ProtectionChange } from './types.ts';
import type { SimVenue } from './venue.ts';

export type OrderCommand = Exclude<VenueCommand, { readonly type: 'FetchSnapshot' }>;

export type OrderReply = Extract<Incoming, {
  readonly type:
    | 'OrderSubmitAcked' | 'OrderSubmitRejected' | 'OrderCancelAcked' | 'OrderCancelRejected' | 'OrderAmendAcked' | 'OrderAmendRejected'
    | 'PositionStopAcked' | 'PositionStopRejected' | 'OrderQueried';
}>;

export function answerOrderCommand(venue: SimVenue, nowMs: number, command: OrderCommand): OrderReply {
  switch (command.type) {
    case 'SubmitOrder':
      return answerSubmit(venue, nowMs, command);
    case 'CancelOrder':
      return answerCancel(venue, nowMs, command);
    case 'AmendOrder':
      return answerAmend(venue, nowMs, command);
    case 'SetPositionStop':
      return answerPositionStop(venue, nowMs, command);
    case 'QueryOrder':
      return { type: 'OrderQueried', commandId: command.commandId, clientOrderId: command.clientOrderId, report: venue.queryOrder({ clientOrderId: command.clientOrderId }) };
  }
}

function answerSubmit(venue: SimVenue, nowMs: number, command: CommandOf<'SubmitOrder'>): OrderReply {
  const { commandId, clientOrderId } = command;
  const result = venue.submitOrder(nowMs, clientOrderId, command.spec);
  return result.ok
    ? { type: 'OrderSubmitAcked', commandId, clientOrderId, venueOrderId: result.venueOrderId }
    : { type: 'OrderSubmitRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
}

function answerCancel(venue: SimVenue, nowMs: number, command: CommandOf<'CancelOrder'>): OrderReply {
  const { commandId, clientOrderId } = command;
  const result = venue.cancelOrder(nowMs, { clientOrderId });
  return result.ok
    ? { type: 'OrderCancelAcked', commandId, clientOrderId }
    : { type: 'OrderCancelRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
}

/** Bybit order/amend by orderLinkId. */
function answerAmend(venue: SimVenue, nowMs: number, command: CommandOf<'AmendOrder'>): OrderReply {
  const { commandId, clientOrderId } = command;
  const result = venue.amendOrder(nowMs, { clientOrderId }, command.amendment);
  return result.ok
    ? { type: 'OrderAmendAcked', commandId, clientOrderId }
    : { type: 'OrderAmendRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
}

/** Bybit position/trading-stop (Full mode): the position's own stop-loss, or its trailing stop. */
function answerPositionStop(venue: SimVenue, nowMs: number, command: CommandOf<'SetPositionStop'>): OrderReply {
  const { commandId, symbol } = command;
  const result = venue.setPositionProtection(nowMs, symbol, protectionChangeOf(command.change));
  return result.ok
    ? { type: 'PositionStopAcked', commandId, symbol }
    : { type: 'PositionStopRejected', commandId, symbol, code: result.code, reason: result.reason };
}

export function protectionChangeOf(change: PositionStopChange): ProtectionChange {
  switch (change.kind) {
    case 'stop-loss':
      return { stopLoss: change.stopLoss };
    case 'trailing':
      return { trailing: { distanceTicks: change.distanceTicks, activationTicks: change.activationTicks } };
  }
}
