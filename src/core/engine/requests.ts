// Open and close requests from strategies and operators. An open request becomes an intent whose
// order ids all exist in state before the entry command is emitted, so no venue event about the
// entry can ever arrive for an order the engine does not know.
//
// Invariants: a request id is handled once (a repeat is ignored, not re-executed); at most one
// active intent per symbol; every size and price is validated against the instrument before any
// order exists.

import type { EventOf, PriceRequest } from '../events.ts';
import { clientOrderIdFor } from '../ids.ts';
import type { Instrument, Parsed } from '../instrument.ts';
import { delistingText, lotsToQty, notionalE8, priceToTicks, qtyToLots, ticksToPrice } from '../instrument.ts';
import type { Intent } from '../intent/intent.ts';
import { freshGuard } from '../intent/intent.ts';
import type { IntentPlan } from '../protection/plan.ts';
import { resolvePlan, sideTicks } from '../protection/plan.ts';
import { parseScaled } from '../decimal.ts';
import { moneyScale } from '../money.ts';
import type { Order } from '../order/order.ts';
import { newPendingOrder } from '../order/order.ts';
import { averageEntryTicks } from '../position/ledger.ts';
import { effectiveSizeLots } from '../position/position.ts';
import type { Side, Trigger } from '../types.ts';
import { oppositeSide } from '../types.ts';
import type { Ctx } from './context.ts';
import { activeIntentOn, findPosition, instrumentOf, nextIntentId, notify, putOrder, submitOrder } from './context.ts';
import { writeBlockedReason } from './gate.ts';
import { evaluateSymbol, stopSpec } from './protect.ts';
import { putIntent, startExit } from './intents.ts';

type OpenRequest = EventOf<'OpenRequested'>;

type OpenPlan = {
  readonly instrument: Instrument;
  readonly sizeLots: number;
  readonly entryTicks: number | null;
  readonly stopLoss: Trigger;
  readonly takeProfitTicks: number | null;
  readonly protection: IntentPlan;
};

export function onOpenRequested(ctx: Ctx, request: OpenRequest): void {
  if (isRepeat(ctx, request)) return;
  const plan = planOpen(ctx, request);
  if (!plan.ok) {
    reject(ctx, request, plan.reason);
    return;
  }
  const intent = createOpenIntent(ctx, request, plan.value);
  remember(ctx, request, `accepted as ${intent.id}`);
  ctx.state.counters.entriesSubmitted += 1;
  if (intent.entryOrder !== null) submitOrder(ctx, intent.entryOrder);
  const { instrument } = plan.value;
  const stop = ticksToPrice(instrument, plan.value.stopLoss.triggerTicks);
  const { ladder, trailing, aged, breakevenAfterFirstTarget } = plan.value.protection;
  const target = ladder.length > 0
    ? `, take-profit ladder ${ladder.map((rung) => `${lotsToQty(instrument, rung.lots)} at ${ticksToPrice(instrument, rung.priceTicks)}`).join(', ')}${breakevenAfterFirstTarget ? ' (stop to breakeven after the first)' : ''}`
    : plan.value.takeProfitTicks === null ? '' : `, take-profit ${ticksToPrice(instrument, plan.value.takeProfitTicks)}`;
  const extras = `${trailing === null ? '' : `, trailing (${trailing.mode})`}${aged === null ? '' : ', aged-position exit'}`;
  const at = plan.value.entryTicks === null ? 'at market' : `limit ${ticksToPrice(instrument, plan.value.entryTicks)}`;
  notify(ctx, 'info', 'entry-sent', request.symbol,
    `${intent.id} ${request.side === 'buy' ? 'long' : 'short'} ${lotsToQty(instrument, plan.value.sizeLots)} ${at}, stop ${stop} (${intent.protection})${target}${extras}`);
}

export function onCloseRequested(ctx: Ctx, request: EventOf<'CloseRequested'>): void {
  if (isRepeat(ctx, request)) return;
  const intent = activeIntentOn(ctx, request.symbol);
  if (intent === undefined) {
    reject(ctx, request, `no open position or entry on ${request.symbol}`);
    return;
  }
  remember(ctx, request, `closing ${intent.id}`);
  startExit(ctx, intent, `close requested (${request.requestId})`, false);
}

/** Request ids remembered for idempotency: a repeat older than this many requests is not recognized. */
export const requestIdsKeptMax = 10_000;

type Request = EventOf<'OpenRequested'> | EventOf<'CloseRequested'> | EventOf<'ProtectionRequested'>;

function remember(ctx: Ctx, request: Request, outcome: string): void {
  const { requests } = ctx.state;
  requests.set(request.requestId, { outcome, asked: requestFingerprint(request) });
  if (requests.size > requestIdsKeptMax) {
    const oldest = requests.keys().next();
    if (oldest.done !== true) requests.delete(oldest.value);
  }
}

/**
 * Sets what an intent lacks: a take-profit where it has none, a stop-loss where none is placed yet
 * (a restored intent, whose original request the venue could not keep). A working stop is never
 * moved from here: that is the trailing policy's job, and it only tightens.
 */
export function onProtectionRequested(ctx: Ctx, request: EventOf<'ProtectionRequested'>): void {
  if (isRepeat(ctx, request)) return;
  const intent = activeIntentOn(ctx, request.symbol);
  const instrument = instrumentOf(ctx, request.symbol);
  if (intent === undefined || instrument === undefined) {
    reject(ctx, request, `no open position or entry on ${request.symbol}`);
    return;
  }
  const reference = intentReferenceTicks(ctx, intent);
  if (reference === null) {
    reject(ctx, request, `no price to measure from on ${request.symbol} yet`);
    return;
  }
  const changes: string[] = [];
  let next = intent;
  if (request.takeProfit !== null && intent.takeProfitOrders.length === 0 && intent.takeProfitTicks === null && intent.protection === 'separate') {
    const target = protectiveTicks(instrument, intent.side, reference, request.takeProfit, 'take-profit');
    if (!target.ok) return reject(ctx, request, target.reason);
    const key = clientOrderIdFor(intent.orderIdBase, 'take-profit');
    putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'take-profit', createdMs: ctx.atMs, spec: takeProfitSpec(intent, target.value) }));
    next = { ...next, takeProfitTicks: target.value, takeProfitOrders: [key] };
    changes.push(`take-profit ${ticksToPrice(instrument, target.value)}`);
  }
  const stop = next.stopOrder === null ? null : ctx.state.orders.get(next.stopOrder);
  const stopNotPlaced = next.protection === 'separate' && (stop === null || stop?.status === 'pending');
  if (request.stopLoss !== null && stopNotPlaced) {
    const stopTicks = protectiveTicks(instrument, intent.side, reference, request.stopLoss, 'stop-loss');
    if (!stopTicks.ok) return reject(ctx, request, stopTicks.reason);
    const stopLoss = { ...next.stopLoss, triggerTicks: stopTicks.value };
    if (stop !== null) putOrder(ctx, { ...stop, spec: stopSpec({ ...next, stopLoss }, stop.spec.sizeLots) });
    next = { ...next, stopLoss };
    changes.push(`stop-loss ${ticksToPrice(instrument, stopTicks.value)}`);
  }
  remember(ctx, request, changes.length === 0 ? 'nothing to set' : `set ${changes.join(', ')}`);
  if (changes.length === 0) {
    notify(ctx, 'info', 'protection-unchanged', request.symbol, `request ${request.requestId}: ${intent.id} already has what was asked for`);
    return;
  }
  notify(ctx, 'info', 'protection-set', request.symbol, `${intent.id}: ${changes.join(', ')}`);
  putIntent(ctx, next);
  evaluateSymbol(ctx, request.symbol);
}

/** What percents are measured from for an intent: its entry's limit, the position's average entry, or the market. */
function intentReferenceTicks(ctx: Ctx, intent: Intent): number | null {
  const entry = intent.entryOrder === null ? undefined : ctx.state.orders.get(intent.entryOrder);
  if (entry?.spec.type.kind === 'limit') return entry.spec.type.priceTicks;
  const position = findPosition(ctx, intent.symbol);
  const average = position === undefined ? null : averageEntryTicks(position);
  if (average !== null) return Math.round(average);
  const market = ctx.state.markets.get(intent.symbol);
  return market?.lastTicks ?? market?.markTicks ?? null;
}

export function takeProfitSpec(intent: Pick<Intent, 'symbol' | 'side' | 'sizeLots'>, priceTicks: number): Order['spec'] {
  return { symbol: intent.symbol, side: oppositeSide(intent.side), sizeLots: intent.sizeLots, reduceOnly: true, type: { kind: 'limit', priceTicks, postOnly: false } };
}

/**
 * A request id already handled: the same request again is a no-op; another request under it is
 * refused, and the memory of the first kept (taken for a repeat, it would be reported as done).
 */
function isRepeat(ctx: Ctx, request: Request): boolean {
  const { requestId, symbol } = request;
  const earlier = ctx.state.requests.get(requestId);
  if (earlier === undefined) return false;
  if (earlier.asked !== requestFingerprint(request)) {
    ctx.state.counters.requestsRejected += 1;
    notify(ctx, 'warn', 'request-id-reused', symbol, `request ${requestId} asks something other than the request first handled under that id (${earlier.outcome}); ignored`);
    return true;
  }
  notify(ctx, 'info', 'request-repeated', symbol, `request ${requestId} was already handled (${earlier.outcome}); ignored`);
  return true;
}

function reject(ctx: Ctx, request: Request, reason: string): void {
  ctx.state.counters.requestsRejected += 1;
  remember(ctx, request, `rejected: ${reason}`);
  notify(ctx, 'warn', 'request-rejected', request.symbol, `request ${request.requestId} rejected: ${reason}`);
}

/**
 * A fingerprint of what a request asks (everything but when it came): two requests with the same
 * one ask the same thing. Keys are taken in sorted order, so it is the same however the request
 * was built or read back from the journal. 64-bit FNV-1a: two different requests under one id
 * look alike by a chance in 2^64. Journal snapshots keep these fingerprints, so the function must
 * not change: it is computed on two 32-bit halves (BigInt, the obvious way, made it half the cost
 * of an open request), and the tests hold it to the BigInt form.
 */
export function requestFingerprint(request: object): string {
  const { atMs: _at, ...asked } = request as { readonly atMs?: number };
  const text = canonicalJson(asked);
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let index = 0; index < text.length; index += 1) {
    low ^= text.charCodeAt(index);
    // × 0x100000001b3 (2^40 + 0x1b3) mod 2^64: `low` × 0x1b3 is exact in a double (< 2^41); what
    // passes 2^32 carries into `high`, which also takes `low` × 2^40 (`low` << 8 in the high half).
    const lowProduct = (low >>> 0) * 0x1b3;
    high = (Math.imul(high, 0x1b3) + (low << 8) + Math.floor(lowProduct / 0x1_0000_0000)) >>> 0;
    low = lowProduct >>> 0;
  }
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

function planOpen(ctx: Ctx, request: OpenRequest): Parsed<OpenPlan> {
  const blocked = writeBlockedReason(ctx);
  if (blocked !== null) return fail(blocked);
  if (request.entry.kind === 'market' && ctx.state.streams.public !== 'up') return fail('no live prices: the public stream is down');
  const instrument = instrumentOf(ctx, request.symbol);
  if (instrument === undefined) return fail(`unknown instrument ${request.symbol}`);
  // Liquidity leaves a contract being wound down, and what is open at the end is settled at the
  // venue's price: no new exposure there, whatever a signal says.
  if (instrument.delistMs !== undefined) return fail(`${delistingText(instrument.symbol, instrument.delistMs, ctx.atMs)}: no new entries there`);
  if (ctx.state.activeIntentBySymbol.has(request.symbol)) return fail(`${request.symbol} already has an active position or entry`);
  const position = findPosition(ctx, request.symbol);
  if (position !== undefined && effectiveSizeLots(position) !== 0) return fail(`${request.symbol} already has an open position`);
  // A change of the last position's own stop not yet answered (a retry after a rate limit, a lost
  // reply) would land on the new position: its stop-loss, or its trailing, set for the old one.
  if (ctx.state.positionStopOwners.has(request.symbol)) return fail(`${request.symbol}: a change of the last position's stop is still unanswered; try again in a moment`);
  const reference = referenceTicks(ctx, instrument, request);
  if (!reference.ok) return reference;
  const entryTicks = request.entry.kind === 'limit' ? reference.value : null;
  const size = sizeLots(instrument, request, reference.value);
  if (!size.ok) return size;
  const stop = protectiveTicks(instrument, request.side, reference.value, request.stopLoss, 'stop-loss');
  if (!stop.ok) return stop;
  const extras = request.protection ?? {};
  const ladder = extras.ladder ?? [];
  if (ladder.length > 0 && request.takeProfit !== null) return fail('give either a take-profit or a ladder, not both');
  const target = request.takeProfit === null ? null : protectiveTicks(instrument, request.side, reference.value, request.takeProfit, 'take-profit');
  if (target !== null && !target.ok) return target;
  const protection = resolvePlan({ instrument, side: request.side, referenceTicks: reference.value, sizeLots: size.value, request: extras });
  if (!protection.ok) return protection;
  if (protection.value.trailing?.mode === 'venue' && !ctx.state.config.attachedStops) {
    return fail("trailing mode venue needs the position's own stop (attachedStops): use mode bot with separate stops");
  }
  // One rung for the whole position is a plain take-profit (attached to the entry where the venue can).
  const single = protection.value.ladder.length === 1 && protection.value.ladder[0]?.lots === size.value ? protection.value.ladder[0] : undefined;
  return {
    ok: true,
    value: {
      instrument, sizeLots: size.value, entryTicks,
      stopLoss: { triggerTicks: stop.value, triggerBy: extras.stopTriggerBy ?? ctx.state.config.stopTriggerBy },
      takeProfitTicks: single?.priceTicks ?? (target === null ? protection.value.ladder[0]?.priceTicks ?? null : target.value),
      protection: single === undefined ? protection.value : { ...protection.value, ladder: [] },
    },
  };
}

function referenceTicks(ctx: Ctx, instrument: Instrument, request: OpenRequest): Parsed<number> {
  if (request.entry.kind === 'limit') {
    const limit = priceToTicks(instrument, request.entry.price);
    return limit.ok && limit.value > 0 ? limit : fail(limit.ok ? 'limit price must be positive' : limit.reason);
  }
  const market = ctx.state.markets.get(request.symbol);
  const ticks = market?.lastTicks ?? market?.markTicks ?? null;
  if (ticks === null) return fail(`no market price for ${request.symbol} yet`);
  // Sized and stopped from a price from before the stream's outage, an entry could be the wrong
  // size, and its stop on the wrong side of the market.
  if (market?.fresh !== true) return fail(`no price for ${request.symbol} since the public stream came up; try again in a moment`);
  return { ok: true, value: ticks };
}

function sizeLots(instrument: Instrument, request: OpenRequest, referenceTicks: number): Parsed<number> {
  let lots: number;
  if ('quantity' in request.size) {
    const parsed = qtyToLots(instrument, request.size.quantity);
    if (!parsed.ok) return parsed;
    lots = parsed.value;
  } else {
    const notional = parseScaled(request.size.notional, moneyScale);
    if (!notional.ok || notional.units <= 0) return fail(`notional ${request.size.notional} is not a positive amount`);
    lots = Math.floor(notional.units / (referenceTicks * instrument.tickLotE8));
  }
  if (lots < instrument.minLots) return fail(`size ${lotsToQty(instrument, lots)} is below the minimum ${lotsToQty(instrument, instrument.minLots)}`);
  // A limit entry may be larger than the venue takes in one market order (Bybit's maxMktOrderQty,
  // a few hundred USDT on some small coins), but what protects it is one: the stop, a stop-market
  // order for all of it. The venue would refuse it, and the position would stand bare. (Exits at
  // market go in parts: intents.ts, sendExit.)
  if (lots > instrument.maxMarketLots) {
    const most = `${lotsToQty(instrument, instrument.maxMarketLots)}, the most ${instrument.symbol} takes in one market order`;
    return fail(request.entry.kind === 'market'
      ? `size ${lotsToQty(instrument, lots)} is above ${most}`
      : `size ${lotsToQty(instrument, lots)} is above ${most}: the stop closes the position in one market order`);
  }
  if (lots > instrument.maxLots) return fail(`size ${lotsToQty(instrument, lots)} is above the maximum ${lotsToQty(instrument, instrument.maxLots)}`);
  if (notionalE8(instrument, referenceTicks, lots) < instrument.minNotionalE8) return fail(`notional is below the instrument's minimum`);
  return { ok: true, value: lots };
}

/**
 * A stop-loss or take-profit in ticks. Percent distances round toward the entry: a stop may
 * trigger a tick early, never a tick late.
 */
function protectiveTicks(instrument: Instrument, side: Side, referenceTicks: number, request: PriceRequest, what: 'stop-loss' | 'take-profit'): Parsed<number> {
  return sideTicks(instrument, side, referenceTicks, request, what, what === 'stop-loss');
}

function createOpenIntent(ctx: Ctx, request: OpenRequest, plan: OpenPlan): Intent {
  const { config } = ctx.state;
  const id = nextIntentId(ctx);
  const attached = config.attachedStops;
  const takeProfit = plan.takeProfitTicks === null ? null : { triggerTicks: plan.takeProfitTicks, triggerBy: 'last' as const };
  const entryKey = clientOrderIdFor(id, 'entry');
  putOrder(ctx, newPendingOrder({
    key: entryKey, intentId: id, role: 'entry', createdMs: ctx.atMs,
    spec: {
      symbol: request.symbol, side: request.side, sizeLots: plan.sizeLots, reduceOnly: false,
      type: plan.entryTicks === null ? { kind: 'market' } : { kind: 'limit', priceTicks: plan.entryTicks, postOnly: false },
      ...(attached ? { stopLoss: plan.stopLoss } : {}),
      ...(attached && takeProfit !== null && plan.protection.ladder.length === 0 ? { takeProfit } : {}),
    },
  }));
  const intentBase = { symbol: request.symbol, side: request.side, stopLoss: plan.stopLoss };
  const stopKey = attached ? null : clientOrderIdFor(id, 'stop');
  if (stopKey !== null) {
    putOrder(ctx, newPendingOrder({ key: stopKey, intentId: id, role: 'stop', createdMs: ctx.atMs, spec: stopSpec(intentBase, plan.sizeLots) }));
  }
  // A ladder is always separate limit orders (a venue's attached take-profit closes the whole
  // position); a single take-profit is separate only with separate stops.
  const rungs = plan.protection.ladder.length > 0 ? plan.protection.ladder
    : !attached && plan.takeProfitTicks !== null ? [{ priceTicks: plan.takeProfitTicks, lots: plan.sizeLots }] : [];
  const takeProfitKeys = rungs.map((rung, index) => {
    const key = clientOrderIdFor(id, 'take-profit', index + 1);
    putOrder(ctx, newPendingOrder({
      key, intentId: id, role: 'take-profit', createdMs: ctx.atMs,
      spec: takeProfitSpec({ symbol: request.symbol, side: request.side, sizeLots: rung.lots }, rung.priceTicks),
    }));
    return key;
  });
  return putIntent(ctx, {
    id, orderIdBase: id, kind: 'open', requestId: request.requestId, ...intentBase, sizeLots: plan.sizeLots,
    takeProfitTicks: plan.takeProfitTicks, protection: attached ? 'attached' : 'separate',
    entryOrder: entryKey, stopOrder: stopKey, stopAttempts: stopKey === null ? 0 : 1, replacedStops: [], takeProfitOrders: takeProfitKeys,
    plan: plan.protection, guard: freshGuard, exitOrder: null, exitAttempts: 0, exitsFilled: 0,
    positionSeenMs: null, stopConfirmedMs: null, flatSinceMs: null, phase: { name: 'entering' }, createdMs: ctx.atMs,
  });
}

function fail(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
