// Deliberately broken engines, to prove the harness has teeth: each one reintroduces a bug the
// real engine is built to rule out, and the simulation must catch it. They wrap the real `step`
// from outside; the engine itself has no switch to behave badly.

import type { Command } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import { parseClientOrderId } from '../core/ids.ts';
import type { EngineState } from '../core/state.ts';
import { step } from '../core/engine/step.ts';
import type { StepFunction } from '../shell/runtime.ts';

export type MutantName = 'seed-design' | 'drop-unknown-orders' | 'resend-on-timeout';

export const mutantStories: Readonly<Record<MutantName, string>> = {
  'seed-design': 'the bot of seed 000: venue updates for a symbol are skipped until the entry\'s REST reply has been processed',
  'drop-unknown-orders': 'updates about orders no intent explains (manual orders, the venue\'s own stop) are dropped',
  'resend-on-timeout': 'an entry whose REST call timed out is sent again under a new id',
};

export function mutant(name: MutantName): StepFunction {
  switch (name) {
    case 'seed-design':
      return seedDesign();
    case 'drop-unknown-orders':
      return dropUnknownOrders;
    case 'resend-on-timeout':
      return resendOnTimeout;
    default:
      throw new Error(`unknown mutant ${JSON.stringify(name satisfies never)}`);
  }
}

function isVenueFact(event: Event): event is Extract<Event, { type: 'OrderUpdated' | 'FillReceived' | 'PositionUpdated' }> {
  return event.type === 'OrderUpdated' || event.type === 'FillReceived' || event.type === 'PositionUpdated';
}

/** "Skipped: not in tracked positions" until the REST reply registers the position. */
function seedDesign(): StepFunction {
  const awaitingReply = new Set<string>();
  return (state: EngineState, event: Event): Command[] => {
    if (isVenueFact(event) && awaitingReply.has(event.symbol)) return [];
    if (event.type === 'OrderSubmitAcked' || event.type === 'OrderSubmitRejected') {
      const order = state.orders.get(event.clientOrderId);
      if (order?.role === 'entry') awaitingReply.delete(order.spec.symbol);
    }
    const commands = step(state, event);
    for (const command of commands) {
      if (command.type === 'SubmitOrder' && parseClientOrderId(state.config.botId, command.clientOrderId)?.role === 'entry') {
        awaitingReply.add(command.spec.symbol);
      }
    }
    return commands;
  };
}

function dropUnknownOrders(state: EngineState, event: Event): Command[] {
  if (event.type === 'OrderUpdated' || event.type === 'FillReceived') {
    const known = (event.clientOrderId !== null && state.orders.has(event.clientOrderId)) || state.orderKeyByVenueId.has(event.venueOrderId);
    if (!known) return [];
  }
  return step(state, event);
}

function resendOnTimeout(state: EngineState, event: Event): Command[] {
  const commands = step(state, event);
  if (event.type !== 'OrderSubmitUnknown') return commands;
  const order = state.orders.get(event.clientOrderId);
  if (order?.role !== 'entry') return commands;
  state.seq += 1;
  return [...commands, { type: 'SubmitOrder', commandId: state.seq, clientOrderId: `${order.key}2` as typeof event.clientOrderId, spec: order.spec }];
}
