// The engine: `step(state, event) -> commands`, one event at a time, synchronous and deterministic.
// It never awaits, never reads a clock (time is `event.atMs`), never does I/O; the runtime owns
// all effects. See ../state.ts for why state is updated in place.

import { assertNever } from '../assert.ts';
import type { Command } from '../commands.ts';
import type { Event } from '../events.ts';
import type { EngineState } from '../state.ts';
import type { Ctx } from './context.ts';
import { onEngineStarted, onInstrumentsLoaded, onSnapshotFailed, onSnapshotReceived, onStreamConnected, onStreamDisconnected } from './lifecycle.ts';
import { onReply, onTimerFired } from './replies.ts';
import { onAmendReply, onPositionStopReply } from './guard.ts';
import { evaluateSymbol } from './protect.ts';
import { onCloseRequested, onOpenRequested, onProtectionRequested } from './requests.ts';
import { onFillReceived, onFundingSettled, onOrderUpdated, onPositionUpdated, onTickerUpdated, onWalletUpdated } from './venue.ts';

export function step(state: EngineState, event: Event): Command[] {
  const ctx: Ctx = { state, atMs: event.atMs, out: [] };
  state.counters.eventsApplied += 1;
  switch (event.type) {
    case 'InstrumentsLoaded':
      onInstrumentsLoaded(ctx, event);
      break;
    case 'TickerUpdated':
      onTickerUpdated(ctx, event);
      break;
    case 'OrderUpdated':
      onOrderUpdated(ctx, event);
      break;
    case 'FillReceived':
      onFillReceived(ctx, event);
      break;
    case 'PositionUpdated':
      onPositionUpdated(ctx, event);
      break;
    case 'WalletUpdated':
      onWalletUpdated(ctx, event);
      break;
    case 'FundingSettled':
      onFundingSettled(ctx, event);
      break;
    case 'OrderSubmitAcked':
    case 'OrderSubmitRejected':
    case 'OrderSubmitUnknown':
    case 'OrderCancelAcked':
    case 'OrderCancelRejected':
    case 'OrderCancelUnknown':
    case 'OrderQueried':
    case 'OrderQueryFailed':
      onReply(ctx, event);
      break;
    case 'OrderAmendAcked':
    case 'OrderAmendRejected':
    case 'OrderAmendUnknown':
      onAmendReply(ctx, event);
      evaluateSymbol(ctx, ctx.state.orders.get(event.clientOrderId)?.spec.symbol ?? '');
      break;
    case 'PositionStopAcked':
    case 'PositionStopRejected':
    case 'PositionStopUnknown':
      onPositionStopReply(ctx, event);
      evaluateSymbol(ctx, event.symbol);
      break;
    case 'TimerFired':
      onTimerFired(ctx, event);
      break;
    case 'OpenRequested':
      onOpenRequested(ctx, event);
      break;
    case 'CloseRequested':
      onCloseRequested(ctx, event);
      break;
    case 'ProtectionRequested':
      onProtectionRequested(ctx, event);
      break;
    case 'EngineStarted':
      onEngineStarted(ctx);
      break;
    case 'StreamConnected':
      onStreamConnected(ctx, event);
      break;
    case 'StreamDisconnected':
      onStreamDisconnected(ctx, event);
      break;
    case 'SnapshotReceived':
      onSnapshotReceived(ctx, event);
      break;
    case 'SnapshotFailed':
      onSnapshotFailed(ctx, event);
      break;
    default:
      assertNever(event);
  }
  return ctx.out;
}
