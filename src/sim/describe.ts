// One-line descriptions of venue facts, commands and inputs for simulation traces, and the
// translation of a venue fact into the event the bot receives.

import { lotsToQty, ticksToPrice } from '../core/instrument.ts';
import { formatE8 } from '../core/money.ts';
import type { Instrument } from '../core/instrument.ts';
import type { Amendment, PositionStopChange } from '../core/commands.ts';
import type { Incoming, VenueCommand } from '../shell/ports.ts';
import type { VenueFact } from '../venues/sim/venue.ts';
import { streamEventOf } from '../venues/sim/wire.ts';

/** A venue fact as the event the bot receives (the stream event that carries it). */
export function factToIncoming(fact: VenueFact): Incoming {
  return streamEventOf(fact);
}

export function describeFact(fact: VenueFact, instruments: ReadonlyMap<string, Instrument>): string {
  switch (fact.kind) {
    case 'order': {
      const r = fact.report;
      return `order ${r.venueOrderId} ${r.clientOrderId ?? '-'} ${r.symbol} ${r.side} ${r.orderKind} ${r.status} filled=${r.filledLots}/${r.sizeLots}`;
    }
    case 'fill': {
      const f = fact.fill;
      const instrument = instruments.get(f.symbol);
      const price = instrument === undefined ? String(f.priceTicks) : ticksToPrice(instrument, f.priceTicks);
      const qty = instrument === undefined ? String(f.lots) : lotsToQty(instrument, f.lots);
      return `fill ${f.executionId} ${f.clientOrderId ?? f.venueOrderId} ${f.symbol} ${f.side} ${qty}@${price} seq=${f.seq}`;
    }
    case 'position': {
      const p = fact.report;
      return `position ${p.symbol} size=${p.sizeLots} sl=${p.stopLossTicks ?? '-'} tp=${p.takeProfitTicks ?? '-'} seq=${p.seq}`;
    }
    case 'wallet':
      return `wallet ${fact.report.coin} balance=${formatE8(fact.report.walletBalanceE8)} equity=${formatE8(fact.report.equityE8)}`;
    case 'ticker':
      return `ticker ${fact.symbol} ${fact.lastTicks}`;
    default:
      throw new Error(`unknown fact ${JSON.stringify(fact satisfies never)}`);
  }
}

export function describeCommand(command: VenueCommand, instruments: ReadonlyMap<string, Instrument>): string {
  switch (command.type) {
    case 'SubmitOrder': {
      const { spec } = command;
      const instrument = instruments.get(spec.symbol);
      const qty = instrument === undefined ? String(spec.sizeLots) : lotsToQty(instrument, spec.sizeLots);
      const attached = spec.stopLoss === undefined ? '' : ` sl=${spec.stopLoss.triggerTicks}`;
      return `SubmitOrder ${command.clientOrderId} ${spec.symbol} ${spec.side} ${spec.type.kind} ${qty}${spec.reduceOnly ? ' reduce-only' : ''}${attached}`;
    }
    case 'CancelOrder':
    case 'QueryOrder':
      return `${command.type} ${command.clientOrderId}`;
    case 'AmendOrder':
      return `AmendOrder ${command.clientOrderId} ${command.symbol}${describeAmendment(command.amendment, instruments.get(command.symbol))}`;
    case 'SetPositionStop':
      return `SetPositionStop ${command.symbol} ${describeStopChange(command.change, instruments.get(command.symbol))}`;
    case 'FetchSnapshot':
      return `FetchSnapshot #${command.snapshotId} (fills since ${command.fillsSinceMs})`;
    default:
      throw new Error(`unknown command ${JSON.stringify(command satisfies never)}`);
  }
}

export function describeIncoming(incoming: Incoming): string {
  switch (incoming.type) {
    case 'OpenRequested':
      return `open ${incoming.requestId} ${incoming.symbol} ${incoming.side}`;
    case 'CloseRequested':
      return `close ${incoming.requestId} ${incoming.symbol}`;
    case 'OrderSubmitAcked':
    case 'OrderSubmitRejected':
    case 'OrderSubmitUnknown':
    case 'OrderCancelAcked':
    case 'OrderCancelRejected':
    case 'OrderCancelUnknown':
    case 'OrderQueried':
    case 'OrderQueryFailed':
    case 'OrderAmendAcked':
      return `${incoming.type} ${incoming.clientOrderId}`;
    case 'OrderAmendRejected':
    case 'OrderAmendUnknown':
      return `${incoming.type} ${incoming.clientOrderId}: ${incoming.reason}`;
    case 'PositionStopAcked':
      return `${incoming.type} ${incoming.symbol}`;
    case 'PositionStopRejected':
    case 'PositionStopUnknown':
      return `${incoming.type} ${incoming.symbol}: ${incoming.reason}`;
    case 'SnapshotReceived':
      return `SnapshotReceived #${incoming.snapshotId}: ${incoming.positions.length} positions, ${incoming.openOrders.length} orders, ${incoming.fills.length} fills`;
    case 'SnapshotFailed':
      return `SnapshotFailed #${incoming.snapshotId}: ${incoming.reason}`;
    case 'StreamConnected':
      return `StreamConnected ${incoming.stream}`;
    case 'StreamDisconnected':
      return `StreamDisconnected ${incoming.stream}: ${incoming.reason}`;
    default:
      return incoming.type;
  }
}

/** A price in the instrument's decimals, or its ticks when the instrument is unknown. */
function priceText(ticks: number, instrument: Instrument | undefined): string {
  return instrument === undefined ? `${ticks} ticks` : ticksToPrice(instrument, ticks);
}

function describeAmendment(amendment: Amendment, instrument: Instrument | undefined): string {
  const parts: string[] = [];
  if (amendment.sizeLots !== undefined) parts.push(`size=${instrument === undefined ? `${amendment.sizeLots} lots` : lotsToQty(instrument, amendment.sizeLots)}`);
  if (amendment.priceTicks !== undefined) parts.push(`price=${priceText(amendment.priceTicks, instrument)}`);
  if (amendment.triggerTicks !== undefined) parts.push(`trigger=${priceText(amendment.triggerTicks, instrument)}`);
  return parts.length === 0 ? ' (no change)' : ` ${parts.join(' ')}`;
}

function describeStopChange(change: PositionStopChange, instrument: Instrument | undefined): string {
  switch (change.kind) {
    case 'stop-loss':
      return `stop-loss ${priceText(change.stopLoss.triggerTicks, instrument)} (${change.stopLoss.triggerBy})`;
    case 'trailing': {
      const from = change.activationTicks === null ? 'active now' : `active from ${priceText(change.activationTicks, instrument)}`;
      return `trailing ${priceText(change.distanceTicks, instrument)} behind the last price, ${from}`;
    }
    default:
      throw new Error(`unknown stop change ${JSON.stringify(change satisfies never)}`);
  }
}
