// The emulator's order/amend: Bybit's parameters read and checked with Bybit's codes (checks.ts),
// then the simulated venue amends the order in place (SimVenue.amendOrder): the client sees the
// same orderId and orderLinkId and one order message with the new fields, as on Bybit.
//
// Parameters as Bybit reads them: qty is the new total (above what has filled), price and
// triggerPrice replace the order's, triggerBy / slTriggerBy / tpTriggerBy change the price kinds,
// stopLoss / takeProfit "0" clear and "" keep; an amend that changes nothing is refused (10001).
//
// Invariants: an accepted amend pushes one order message (its status unchanged, the same ids) and
// a position message, and never a Cancelled; a refused one changes nothing; the balance is not
// checked again (the order's margin is already counted as in use).

import type { Instrument } from '../core/instrument.ts';
import type { OrderSpec, OrderType, Trigger, TriggerBy } from '../core/types.ts';
import type { OrderAmendment } from '../venues/sim/venue.ts';
import { checkSpec, workingOrder } from './checks.ts';
import type { Exchange } from './exchange.ts';
import type { OrderExtras, PublicOrder } from './orders.ts';
import type { ParamSource } from './params.ts';
import { instrumentParam, linearOnly, optionalText, priceChange, priceTicks, qtyLots, triggerByParam } from './params.ts';
import type { Outcome } from './replies.ts';
import { badParam, rejectionOutcome, success } from './replies.ts';

export function amendOrder(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  const order = workingOrder(ex, params, instrument, 'order not exists or too late to replace');
  const spec = amendedSpec(instrument, order, params);
  const extras = amendedExtras(order, params);
  // Bybit's checks on what the order would still work for; the balance is not checked again.
  checkSpec(ex, instrument, { ...spec, sizeLots: spec.sizeLots - order.report.filledLots }, extras, false);
  const amendment = amendmentOf(order, spec);
  const extrasBefore = order.extras;
  order.extras = extras; // the order message the amend pushes shows the new trigger kinds
  const result = ex.act((venue) => venue.amendOrder(nowMs, { venueOrderId: order.venueOrderId }, amendment));
  if (!result.ok) {
    order.extras = extrasBefore;
    return rejectionOutcome(result.code, result.reason);
  }
  ex.pushPosition(instrument.symbol);
  return success({ orderId: order.orderId, orderLinkId: order.orderLinkId ?? '' });
}

/** What the amend changes of the order (as it stands, before the amend), as the venue's amendment. */
function amendmentOf(order: PublicOrder, spec: OrderSpec): OrderAmendment {
  const { report, extras } = order;
  const { type } = spec;
  return {
    ...(spec.sizeLots === report.sizeLots ? {} : { sizeLots: spec.sizeLots }),
    ...(type.kind === 'limit' && type.priceTicks !== report.priceTicks ? { priceTicks: type.priceTicks } : {}),
    ...(type.kind === 'stop-market' && type.triggerTicks !== report.triggerTicks ? { triggerTicks: type.triggerTicks } : {}),
    ...(type.kind === 'stop-market' && type.triggerBy !== (extras.triggerBy ?? 'last') ? { triggerBy: type.triggerBy } : {}),
    ...(isAttachedChange(report.stopLossTicks, extras.slTriggerBy, spec.stopLoss) ? { stopLoss: spec.stopLoss ?? null } : {}),
    ...(isAttachedChange(report.takeProfitTicks, extras.tpTriggerBy, spec.takeProfit) ? { takeProfit: spec.takeProfit ?? null } : {}),
  };
}

function isAttachedChange(ticksNow: number | null, byNow: TriggerBy | null, next: Trigger | undefined): boolean {
  return (next?.triggerTicks ?? null) !== ticksNow || (next !== undefined && next.triggerBy !== (byNow ?? 'last'));
}

/** The order as amended: absent parameters keep what the order has; qty is the new total (sizeLots here). */
function amendedSpec(instrument: Instrument, order: PublicOrder, params: ParamSource): OrderSpec {
  const { report } = order;
  const qtyText = optionalText(params, 'qty');
  const maxLots = report.orderKind === 'limit' ? instrument.maxLots : instrument.maxMarketLots;
  const totalLots = qtyText === '' ? report.sizeLots : qtyLots(instrument, qtyText, 'qty', maxLots);
  if (totalLots <= report.filledLots) badParam(`params error: qty ${qtyText} must be above the filled quantity`);
  const priceText = optionalText(params, 'price');
  const triggerText = optionalText(params, 'triggerPrice');
  const type: OrderType = report.orderKind === 'limit'
    ? { kind: 'limit', priceTicks: priceText === '' ? report.priceTicks ?? 0 : priceTicks(instrument, priceText, 'price'), postOnly: order.extras.timeInForce === 'PostOnly' }
    : { kind: 'stop-market', triggerTicks: triggerText === '' ? report.triggerTicks ?? 0 : priceTicks(instrument, triggerText, 'triggerPrice'), triggerBy: triggerByParam(params, 'triggerBy') ?? order.extras.triggerBy ?? 'last' };
  const stopLoss = amendedTrigger(instrument, params, 'stopLoss', 'slTriggerBy', report.stopLossTicks, order.extras.slTriggerBy);
  const takeProfit = amendedTrigger(instrument, params, 'takeProfit', 'tpTriggerBy', report.takeProfitTicks, order.extras.tpTriggerBy);
  const spec: OrderSpec = {
    symbol: instrument.symbol, side: report.side, sizeLots: totalLots, reduceOnly: report.reduceOnly, type,
    ...(stopLoss === null ? {} : { stopLoss }), ...(takeProfit === null ? {} : { takeProfit }),
  };
  const same = totalLots === report.sizeLots && sameType(type, report.priceTicks, report.triggerTicks)
    && (stopLoss?.triggerTicks ?? null) === report.stopLossTicks && (takeProfit?.triggerTicks ?? null) === report.takeProfitTicks;
  if (same) badParam('The order remains unchanged as the parameters entered match the existing ones.');
  return spec;
}

function sameType(type: OrderType, priceTicksNow: number | null, triggerTicksNow: number | null): boolean {
  return type.kind === 'limit' ? type.priceTicks === priceTicksNow : type.kind === 'stop-market' ? type.triggerTicks === triggerTicksNow : true;
}

function amendedTrigger(instrument: Instrument, params: ParamSource, name: string, byName: string, currentTicks: number | null, currentBy: Trigger['triggerBy'] | null): Trigger | null {
  const change = priceChange(instrument, params, name);
  if (change === null) return null;
  const triggerBy = triggerByParam(params, byName) ?? currentBy ?? 'last';
  if (change === undefined) return currentTicks === null ? null : { triggerTicks: currentTicks, triggerBy };
  return { triggerTicks: change, triggerBy };
}

function amendedExtras(order: PublicOrder, params: ParamSource): OrderExtras {
  const { extras } = order;
  return {
    ...extras,
    triggerBy: triggerByParam(params, 'triggerBy') ?? extras.triggerBy,
    slTriggerBy: triggerByParam(params, 'slTriggerBy') ?? extras.slTriggerBy,
    tpTriggerBy: triggerByParam(params, 'tpTriggerBy') ?? extras.tpTriggerBy,
  };
}
