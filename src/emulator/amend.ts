// The emulator's order/amend. SimVenue has no amend, so the order is amended by cancelling its sim
// order and placing a replacement for the rest of it, while the client keeps seeing one order with
// the same orderId and orderLinkId (orders.ts binds the replacement and hides the cancel). The
// replacement is checked with the venue's own rules before the original is touched, so a refused
// amend leaves the order as it was.
//
// Parameters as Bybit reads them: qty is the new total (above what has filled), price and
// triggerPrice replace the order's, stopLoss / takeProfit "0" clear and "" keep; an amend that
// changes nothing is refused (10001).
//
// Invariants: an accepted amend pushes one order message (status New or PartiallyFilled, the
// same ids) and no Cancelled; the balance is not checked again (the order's margin is in use).

import { assert } from '../core/assert.ts';
import type { Instrument } from '../core/instrument.ts';
import type { OrderSpec, OrderType, Trigger } from '../core/types.ts';
import { validateSubmit } from '../venues/sim/validate.ts';
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
  // The balance is not checked again: the order's own margin is already counted as in use.
  checkSpec(ex, instrument, spec, extras, false);
  // The replacement must be accepted before the original is cancelled: the venue's own rules first.
  const rejection = validateSubmit({
    instrument, prices: ex.venue.price(instrument.symbol), positionLots: ex.venue.position(instrument.symbol).sizeLots, clientOrderIdTaken: false,
  }, null, spec);
  if (rejection !== null) return rejectionOutcome(rejection.code, rejection.reason);
  const [replaced, baseBefore] = [order.venueOrderId, order.baseFilledLots];
  order.baseFilledLots = order.report.filledLots;
  order.extras = extras;
  const result = ex.act((venue) => {
    ex.orders.expectReplacement(order);
    const cancelled = venue.cancelOrder(nowMs, { venueOrderId: replaced });
    return cancelled.ok ? venue.submitOrder(nowMs, null, spec) : cancelled;
  });
  if (!result.ok) {
    // Checked above with the venue's own rules, so this is a bug: show the cancel that did happen, then say so.
    order.baseFilledLots = baseBefore;
    ex.republishOrder(replaced);
    assert(false, `emulator: amend of ${order.orderId} cancelled it, then its replacement was refused: ${result.reason}`);
  }
  ex.pushPosition(instrument.symbol);
  return success({ orderId: order.orderId, orderLinkId: order.orderLinkId ?? '' });
}

/** The order as amended: absent parameters keep what the order has; qty is the new total. */
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
    symbol: instrument.symbol, side: report.side, sizeLots: totalLots - report.filledLots, reduceOnly: report.reduceOnly, type,
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
