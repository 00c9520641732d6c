// Deliberately broken engines, to prove the harness has teeth: each one reintroduces a bug the
// real engine is built to rule out, and the simulation must catch it. They wrap the real `step`
// from outside; the engine itself has no switch to behave badly.

import type { Command } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import type { ClientOrderId } from '../core/ids.ts';
import { parseClientOrderId } from '../core/ids.ts';
import type { EngineState } from '../core/state.ts';
import type { Order } from '../core/order/order.ts';
import { step } from '../core/engine/step.ts';
import { indexUnsettled, submitOrder } from '../core/engine/context.ts';
import type { StepFunction } from '../shell/runtime.ts';

export type MutantName =
  | 'seed-design' | 'drop-unknown-orders' | 'resend-on-timeout' | 'seed-startup' | 'reconnect-without-snapshot' | 'snapshot-overwrites'
  | 'resend-after-restart' | 'trail-both-ways' | 'amend-without-waiting'
  | 'trade-while-snapshotting' | 'retry-stop-same-id' | 'state-outside-journal' | 'revive-cancelled' | 'fractional-lots'
  | 'ladder-on-first-fill' | 'ignore-delisting-close';

export const mutantStories: Readonly<Record<MutantName, string>> = {
  'seed-design': 'the bot of seed 000: venue updates for a symbol are skipped until the entry\'s REST reply has been processed',
  'drop-unknown-orders': 'updates about orders no intent explains (manual orders, the venue\'s own stop) are dropped',
  'resend-on-timeout': 'an entry whose REST call timed out is sent again under a new id',
  'seed-startup': 'the bot of seed 002: it restores and trades before its streams are up, and takes no snapshot when they come up',
  'reconnect-without-snapshot': 'after the private stream drops and comes back, no snapshot is taken (only the periodic one heals)',
  'snapshot-overwrites': 'a snapshot\'s positions overwrite the stream\'s, however old the snapshot is',
  'resend-after-restart': 'after a crash, an entry the journal shows in flight is sent again under a new id instead of being asked for',
  'trail-both-ways': 'a naive trailing stop: on every tick the stop is amended to the callback distance from the current price, so it follows the price down as well as up',
  'amend-without-waiting': 'the trailing stop is amended on every tick that moves its level, without waiting for the previous amend\'s answer',
  'trade-while-snapshotting': 'open requests are taken as soon as the private stream is up, before its snapshot is reconciled',
  'retry-stop-same-id': 'a stop whose create timed out is sent again under the same id (the engine\'s own guard against a double send fails)',
  'state-outside-journal': 'a count kept outside the journaled events is written into the state: a replay after a crash counts again',
  'revive-cancelled': 'a cancel acknowledgement is ignored: the cancelled order is put back as working',
  'fractional-lots': 'an entry sized from its notional is sent without rounding down to whole lots',
  'ladder-on-first-fill': 'a take-profit ladder goes out with the first fill of its entry, its rungs sized for the whole entry however little filled',
  'ignore-delisting-close': 'a delisting is only an alarm: when its close falls due, nothing is done, and what the bot holds there is left to the venue\'s settlement',
};

export function mutant(name: MutantName): StepFunction {
  switch (name) {
    case 'seed-design':
      return seedDesign();
    case 'drop-unknown-orders':
      return dropUnknownOrders;
    case 'resend-on-timeout':
      return resendOnTimeout;
    case 'seed-startup':
      return seedStartup();
    case 'reconnect-without-snapshot':
      return reconnectWithoutSnapshot();
    case 'snapshot-overwrites':
      return snapshotOverwrites;
    case 'resend-after-restart':
      return resendAfterRestart();
    case 'trail-both-ways':
      return trailBothWays;
    case 'amend-without-waiting':
      return amendWithoutWaiting;
    case 'trade-while-snapshotting':
      return tradeWhileSnapshotting;
    case 'retry-stop-same-id':
      return retryStopSameId();
    case 'state-outside-journal':
      return stateOutsideJournal();
    case 'revive-cancelled':
      return reviveCancelled;
    case 'fractional-lots':
      return fractionalLots;
    case 'ladder-on-first-fill':
      return ladderOnFirstFill;
    case 'ignore-delisting-close':
      return ignoreDelistingClose;
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

/** Seed 002: the streams are taken as up at the start, so the snapshot and the first writes happen before they are. */
function seedStartup(): StepFunction {
  const faked = new Set<string>();
  return (state: EngineState, event: Event): Command[] => {
    if (event.type === 'EngineStarted') {
      faked.clear();
      const commands = step(state, event);
      for (const stream of ['public', 'private'] as const) {
        faked.add(stream);
        commands.push(...step(state, { type: 'StreamConnected', atMs: event.atMs, stream }));
      }
      return commands;
    }
    // The real subscriptions, when they come, start nothing: the restore was done already.
    if (event.type === 'StreamConnected' && faked.delete(event.stream)) return [];
    return step(state, event);
  };
}

function reconnectWithoutSnapshot(): StepFunction {
  return (state: EngineState, event: Event): Command[] => {
    const outage = (event.type === 'StreamDisconnected' || event.type === 'StreamConnected') && event.stream === 'private' && state.reconciledSinceStart;
    return outage ? [] : step(state, event);
  };
}

function snapshotOverwrites(state: EngineState, event: Event): Command[] {
  if (event.type !== 'SnapshotReceived') return step(state, event);
  return step(state, { ...event, positions: event.positions.map((position) => ({ ...position, seq: Number.MAX_SAFE_INTEGER })) });
}


/** The naive restart: whatever the journal shows in flight is sent again once trading resumes. */
function resendAfterRestart(): StepFunction {
  let inFlight: Order[] = [];
  return (state: EngineState, event: Event): Command[] => {
    if (event.type === 'EngineStarted') inFlight = [...state.orders.values()].filter((order) => order.role === 'entry' && order.status === 'submitted');
    const commands = step(state, event);
    if (state.lifecycle.phase !== 'trading') return commands;
    for (const order of inFlight) {
      state.seq += 1;
      commands.push({ type: 'SubmitOrder', commandId: state.seq, clientOrderId: `${order.key}2` as ClientOrderId, spec: order.spec });
    }
    inFlight = [];
    return commands;
  };
}

/** The symbol's bot-trailed stop order, acknowledged by the venue, if it has one. */
function trailedStop(state: EngineState, symbol: string): { readonly order: Order; readonly callbackTicks: number; readonly side: 'buy' | 'sell' } | null {
  const intentId = state.activeIntentBySymbol.get(symbol);
  const intent = intentId === undefined ? undefined : state.intents.get(intentId);
  const trailing = intent?.plan.trailing;
  if (intent === undefined || trailing?.mode !== 'bot' || intent.stopOrder === null || intent.phase.name !== 'open') return null;
  const order = state.orders.get(intent.stopOrder);
  if (order?.status !== 'accepted' || order.spec.type.kind !== 'stop-market') return null;
  return { order, callbackTicks: trailing.callback.kind === 'ticks' ? trailing.callback.ticks : Math.max(1, Math.floor((order.spec.type.triggerTicks * trailing.callback.ppm) / 1_000_000)), side: intent.side };
}

function amendCommand(state: EngineState, order: Order, triggerTicks: number): Command {
  state.seq += 1;
  return { type: 'AmendOrder', commandId: state.seq, clientOrderId: order.key as ClientOrderId, symbol: order.spec.symbol, amendment: { triggerTicks } };
}

function trailBothWays(state: EngineState, event: Event): Command[] {
  const commands = step(state, event);
  if (event.type !== 'TickerUpdated' || event.lastTicks === null) return commands;
  const trailed = trailedStop(state, event.symbol);
  if (trailed === null || trailed.order.amending !== null || trailed.order.spec.type.kind !== 'stop-market') return commands;
  const level = trailed.side === 'buy' ? event.lastTicks - trailed.callbackTicks : event.lastTicks + trailed.callbackTicks;
  if (level <= 0 || level === trailed.order.spec.type.triggerTicks || commands.some((command) => command.type === 'AmendOrder')) return commands;
  return [...commands, amendCommand(state, trailed.order, level)];
}

function amendWithoutWaiting(state: EngineState, event: Event): Command[] {
  const commands = step(state, event);
  if (event.type !== 'TickerUpdated') return commands;
  const intentId = state.activeIntentBySymbol.get(event.symbol);
  const intent = intentId === undefined ? undefined : state.intents.get(intentId);
  const stop = intent?.stopOrder == null ? undefined : state.orders.get(intent.stopOrder);
  // The real engine waits: this one sends the wanted level again while an amend is unanswered.
  if (intent === undefined || stop?.amending == null || stop.spec.type.kind !== 'stop-market' || commands.some((command) => command.type === 'AmendOrder')) return commands;
  return [...commands, amendCommand(state, stop, intent.stopLoss.triggerTicks)];
}

/** Takes an open request while the lifecycle still waits for its snapshot, as if already trading. */
function tradeWhileSnapshotting(state: EngineState, event: Event): Command[] {
  if (event.type !== 'OpenRequested' || state.lifecycle.phase !== 'snapshotting') return step(state, event);
  const waiting = state.lifecycle;
  state.lifecycle = { phase: 'trading', sinceMs: event.atMs };
  const commands = step(state, event);
  state.lifecycle = waiting;
  return commands;
}

/**
 * A naive retry: a stop whose create timed out is sent again under its own id, which the engine's
 * guard against a double send refuses (the runtime halts). Once only: a process recovering from the
 * journal replays the same entry, and a bug that fired again there would stop the world, not the bot.
 */
function retryStopSameId(): StepFunction {
  let armed = true;
  return (state: EngineState, event: Event): Command[] => {
    const commands = step(state, event);
    if (!armed || event.type !== 'OrderSubmitUnknown' || state.orders.get(event.clientOrderId)?.role !== 'stop') return commands;
    armed = false;
    submitOrder({ state, atMs: event.atMs, out: commands }, event.clientOrderId); // throws: the order is not pending
    return commands;
  };
}

/** Counts events in a variable of its own and writes the count into the state. */
function stateOutsideJournal(): StepFunction {
  let seen = 0;
  return (state: EngineState, event: Event): Command[] => {
    seen += 1;
    const commands = step(state, event);
    state.counters.eventsApplied = seen;
    return commands;
  };
}

function reviveCancelled(state: EngineState, event: Event): Command[] {
  const commands = step(state, event);
  if (event.type !== 'OrderCancelAcked') return commands;
  const order = state.orders.get(event.clientOrderId);
  if (order?.status !== 'cancelled' || order.venueOrderId === null) return commands;
  const revived: Order = { ...order, status: 'accepted', venueOrderId: order.venueOrderId };
  state.orders.set(order.key, revived);
  indexUnsettled(state.unsettledOrders, revived);
  return [...commands, { type: 'Record', record: { kind: 'order', order: revived } }];
}

function fractionalLots(state: EngineState, event: Event): Command[] {
  return step(state, event).map((command) => {
    if (command.type !== 'SubmitOrder' || parseClientOrderId(state.config.botId, command.clientOrderId)?.role !== 'entry') return command;
    return { ...command, spec: { ...command.spec, sizeLots: command.spec.sizeLots + 0.5 } };
  });
}

/** The first engine's ladder: its rungs go as soon as the position shows, sized as planned. */
function ladderOnFirstFill(state: EngineState, event: Event): Command[] {
  const commands = step(state, event);
  if (!isVenueFact(event) || state.lifecycle.phase !== 'trading') return commands;
  const intentId = state.activeIntentBySymbol.get(event.symbol);
  const intent = intentId === undefined ? undefined : state.intents.get(intentId);
  if (intent === undefined || intent.phase.name !== 'open' || intent.plan.ladder.length < 2) return commands;
  for (const key of intent.takeProfitOrders) {
    if (state.orders.get(key)?.status === 'pending') submitOrder({ state, atMs: event.atMs, out: commands }, key);
  }
  return commands;
}

function ignoreDelistingClose(state: EngineState, event: Event): Command[] {
  if (event.type === 'TimerFired' && state.timers.get(event.timerId)?.kind === 'delisting-close') return [];
  return step(state, event);
}
