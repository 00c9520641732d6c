// What the operator API shows of the engine: open positions with their protection, working orders,
// and the health summary, as plain JSON-ready records read off the engine's state. Prices and
// quantities are decimal text in the instrument's own precision (never floats that round), money
// is USDT text with 8 decimals, times are epoch milliseconds.
//
// Invariants: read-only (the engine's state changes only through `step`); a position is shown by
// its best-known size (the venue's report or a newer fill); "stop on the venue" is claimed only on
// the venue's word: its position report holds a stop, or it acknowledged a stop order of ours.
// Fills come from the ledger (the journal's projection, at most a second behind the engine).

import type { StreamName } from '../core/events.ts';
import type { Health } from '../core/health.ts';
import { healthOf } from '../core/health.ts';
import type { Instrument } from '../core/instrument.ts';
import { delistingCloseMs, delistingText, lotsToQty, ticksToNumber, ticksToPrice } from '../core/instrument.ts';
import type { Intent } from '../core/intent/intent.ts';
import { botTrails, isActive } from '../core/intent/intent.ts';
import { e8PerUnit } from '../core/money.ts';
import type { Order } from '../core/order/order.ts';
import { filledLots, isAcknowledged, isTerminal, venueOrderIdOf } from '../core/order/order.ts';
import { averageEntryTicks } from '../core/position/ledger.ts';
import type { Position } from '../core/position/position.ts';
import { effectiveSizeLots } from '../core/position/position.ts';
import type { Distance } from '../core/protection/plan.ts';
import type { EngineState } from '../core/state.ts';
import type { FillRow } from '../journal/ledger.ts';

export type PositionView = {
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly quantity: string;
  /** The average entry from the fills booked (two decimals finer than the tick: it is an average). */
  readonly averageEntry: string | null;
  /** The stop-loss the bot keeps for it (the intent's), and the take-profit, if any. */
  readonly stopLoss: string | null;
  readonly takeProfit: string | null;
  /** How the stop reaches the venue: with the entry, as its own order, watched only, or no intent at all. */
  readonly protection: Intent['protection'] | 'none';
  /** The venue has confirmed a stop for this position. */
  readonly stopOnVenue: boolean;
  /** Since when the position has been without a confirmed stop (null: protected, or unknown). */
  readonly unprotectedSinceMs: number | null;
  /** When the position opened (its first fill; for one found on the venue, its opening fill as far as the fills fetched reach back), null if no intent holds it. */
  readonly openedMs: number | null;
  /** The venue's own view; `trailingStop`: the distance its own trailing stop keeps behind the best price (it moves `stopLoss`), null for none. */
  readonly venue: { readonly quantity: string; readonly entryPrice: string; readonly stopLoss: string | null; readonly takeProfit: string | null; readonly trailingStop: string | null } | null;
  readonly intent: { readonly id: string; readonly kind: Intent['kind']; readonly phase: Intent['phase']['name']; readonly requestId: string | null } | null;
  /** The plan's trailing stop, if it has one (see TrailingView). */
  readonly trailing: TrailingView | null;
  /** The plan's aged exit, if it has one (see AgedExitView). */
  readonly agedExit: AgedExitView | null;
  readonly realizedPnl: string;
  readonly fees: string;
  readonly funding: string;
};

/**
 * A trailing stop as it stands. `by`: who moves it, the bot (amending our stop) or the venue (its
 * own trailing stop on the position; the bot takes over if the venue refuses it). `active`: it has
 * activated (the bot's), or the venue has set it. For the bot's: the best trigger price since it
 * activated, and the stop level that price calls for; the venue's stop follows that level within
 * the plan's rate limit (`changeEveryMs`), so it may lag it by up to that long, and in moves of at
 * least `minMove` if the plan has one, so it may lag it by up to that much.
 */
export type TrailingView = {
  readonly by: 'bot' | 'venue';
  readonly activationPrice: string | null;
  /** The distance behind the best price: the plan's, or the one the venue's last report shows when the venue trails. */
  readonly callback: string;
  readonly changeEveryMs: number;
  /** The least a move of the bot's trailing stop tightens it by (a percent of the best price, or a price distance); null: any tick. */
  readonly minMove: string | null;
  readonly active: boolean;
  readonly bestPrice: string | null;
  readonly level: string | null;
};

/**
 * An aged position's exit: from `fromMs` a reduce-only limit at breakeven (fees included), stepped
 * toward the market after the grace period; at `marketAtMs` a market close. `price`: the exit's
 * price once placed (null before).
 */
export type AgedExitView = {
  readonly fromMs: number;
  readonly marketAtMs: number;
  readonly price: string | null;
};

export type OrderView = {
  readonly clientOrderId: string;
  readonly venueOrderId: string | null;
  readonly symbol: string;
  readonly role: Order['role'];
  readonly side: Order['spec']['side'];
  readonly type: Order['spec']['type']['kind'];
  readonly quantity: string;
  readonly filled: string;
  readonly price: string | null;
  readonly triggerPrice: string | null;
  readonly reduceOnly: boolean;
  readonly status: Order['status'];
  readonly intent: string | null;
  readonly createdMs: number;
  readonly cancelWanted: boolean;
};

export type ConnectionState = 'down' | 'opening' | 'up';

/** The last reconciliation this process saw, with what it found by class of drift. */
export type ReconciliationSummary = {
  readonly atMs: number;
  readonly reason: string;
  readonly text: string;
  readonly drift: Readonly<Record<string, number>>;
};

export type HealthView = {
  /** No problem below: an operator's check, or a load balancer's, needs no more than this. */
  readonly ok: boolean;
  /** Why not ok, one line each (empty when ok). */
  readonly problems: readonly string[];
  readonly botId: string;
  readonly venue: string;
  readonly dryRun: boolean;
  readonly startedMs: number;
  readonly phase: Health['phase'];
  readonly phaseSinceMs: number | null;
  readonly halted: { readonly reason: string; readonly atMs: number } | null;
  /** Per stream: what the engine was told (`engine`) and the supervisor's connection, with reconnects since the start. */
  readonly streams: Readonly<Record<StreamName, { readonly engine: 'down' | 'up'; readonly connection: ConnectionState; readonly reconnects: number }>>;
  readonly lastReconciliation: ReconciliationSummary | null;
  readonly reconciliations: number;
  /** Drift found and healed since the journal began, by class (each should stay at zero). */
  readonly driftTotal: Health['drift'];
  readonly activeIntents: number;
  readonly positionsUnprotected: number;
  /** External positions kept on `engine.externalPositions: watch`: no stop, by choice (not counted above). */
  readonly positionsWatched: number;
  readonly anomalies: number;
  readonly protectiveExits: number;
  readonly wallet: { readonly coin: string; readonly balance: string; readonly equity: string } | null;
  /** Symbols the venue is delisting or no longer trades (entries there refused), with what the bot holds there. */
  readonly delistings: readonly DelistingView[];
};

export type DelistingView = {
  readonly symbol: string;
  /** When the venue stops trading it: announced, or when it was found no longer listed. */
  readonly delistMs: number;
  readonly text: string;
  /** The bot's position there (`long 0.5`), or null. */
  readonly position: string | null;
  /** When the bot closes what it holds there (engine.closeBeforeDelistingMinutes before the delisting); null: it leaves that to the venue. */
  readonly closeAtMs: number | null;
};

/** Exact E8 money as decimal text with all 8 decimals. */
export function formatE8Exact(amountE8: number): string {
  const sign = amountE8 < 0 ? '-' : '';
  const magnitude = Math.abs(amountE8);
  return `${sign}${Math.floor(magnitude / e8PerUnit)}.${String(magnitude % e8PerUnit).padStart(8, '0')}`;
}

export function positionsView(state: EngineState): PositionView[] {
  const views: PositionView[] = [];
  for (const position of state.positions.values()) {
    const sizeLots = effectiveSizeLots(position);
    const instrument = state.instruments.get(position.symbol);
    if (sizeLots === 0 || instrument === undefined) continue;
    views.push(positionView(state, position, sizeLots, instrument));
  }
  return views.sort((a, b) => a.symbol.localeCompare(b.symbol));
}

function positionView(state: EngineState, position: Position, sizeLots: number, instrument: Instrument): PositionView {
  const intent = activeIntentOf(state, position.symbol);
  const stopOnVenue = hasStopOnVenue(state, position, sizeLots);
  const average = averageEntryTicks(position);
  const venue = position.venue;
  const price = (ticks: number | null): string | null => (ticks === null ? null : ticksToPrice(instrument, ticks));
  return {
    symbol: position.symbol,
    side: sizeLots > 0 ? 'long' : 'short',
    quantity: lotsToQty(instrument, Math.abs(sizeLots)),
    averageEntry: average === null ? null : formatAverage(instrument, average),
    stopLoss: intent === null ? price(venue?.stopLossTicks ?? null) : price(intent.stopLoss.triggerTicks),
    takeProfit: intent === null ? price(venue?.takeProfitTicks ?? null) : price(intent.takeProfitTicks),
    protection: intent?.protection ?? 'none',
    stopOnVenue,
    unprotectedSinceMs: stopOnVenue || intent === null ? null : unprotectedSinceMs(intent),
    openedMs: intent?.positionSeenMs ?? null,
    venue: venue === null ? null : {
      quantity: lotsToQty(instrument, venue.sizeLots), entryPrice: venue.entryPrice, stopLoss: price(venue.stopLossTicks), takeProfit: price(venue.takeProfitTicks),
      trailingStop: price(venue.trailingTicks),
    },
    intent: intent === null ? null : { id: intent.id, kind: intent.kind, phase: intent.phase.name, requestId: intent.requestId },
    trailing: intent === null ? null : trailingView(state, intent, instrument, venue?.trailingTicks ?? null),
    agedExit: intent === null ? null : agedExitView(intent, instrument),
    realizedPnl: formatE8Exact(position.realizedPnlE8),
    fees: formatE8Exact(position.feesE8),
    funding: formatE8Exact(position.fundingE8),
  };
}

/** `venueTrailingTicks`: the distance the venue's own trailing stop keeps, as its last report says (null: none reported). */
function trailingView(state: EngineState, intent: Intent, instrument: Instrument, venueTrailingTicks: number | null): TrailingView | null {
  const { trailing } = intent.plan;
  if (trailing === null) return null;
  const byBot = botTrails(intent);
  const market = state.markets.get(intent.symbol);
  const tracked = byBot && market !== undefined && market.trailIntentId === intent.id ? market : null;
  const { callback } = trailing;
  // The venue trails with the distance it was given, which may not be the plan's (an earlier run's, or set by hand).
  const planned = distanceText(instrument, callback);
  return {
    by: byBot ? 'bot' : 'venue',
    activationPrice: trailing.activationTicks === null ? null : ticksToPrice(instrument, trailing.activationTicks),
    callback: !byBot && venueTrailingTicks !== null ? ticksToPrice(instrument, venueTrailingTicks) : planned,
    changeEveryMs: trailing.amendEveryMs,
    minMove: trailing.minMove === null ? null : distanceText(instrument, trailing.minMove),
    active: byBot ? tracked !== null : intent.guard.venueTrailing === 'set',
    bestPrice: tracked === null ? null : ticksToPrice(instrument, tracked.trailPeakTicks),
    level: tracked === null ? null : ticksToPrice(instrument, tracked.trailLevelTicks),
  };
}

/** A plan's distance as an operator wrote it: "0.5 %" of the price, or a price difference. */
function distanceText(instrument: Instrument, distance: Distance): string {
  return distance.kind === 'ppm' ? `${distance.ppm / 10_000} %` : ticksToPrice(instrument, distance.ticks);
}

function agedExitView(intent: Intent, instrument: Instrument): AgedExitView | null {
  const { aged } = intent.plan;
  if (aged === null || intent.positionSeenMs === null) return null;
  const { agedExitTicks } = intent.guard;
  return {
    fromMs: intent.positionSeenMs + aged.maxAgeMs,
    marketAtMs: intent.positionSeenMs + aged.hardLimitMs,
    price: agedExitTicks === null ? null : ticksToPrice(instrument, agedExitTicks),
  };
}

function activeIntentOf(state: EngineState, symbol: string): Intent | null {
  const id = state.activeIntentBySymbol.get(symbol);
  const intent = id === undefined ? undefined : state.intents.get(id);
  return intent !== undefined && isActive(intent) ? intent : null;
}

/** The venue's word that a stop covers the position: its own report, or a reduce-only stop it acknowledged, large enough. */
export function hasStopOnVenue(state: EngineState, position: Position, sizeLots: number): boolean {
  if (position.venue !== null && position.venue.stopLossTicks !== null) return true;
  const closing = sizeLots > 0 ? 'sell' : 'buy';
  let coveredLots = 0;
  for (const order of state.orders.values()) {
    if (order.spec.symbol !== position.symbol || !order.spec.reduceOnly || order.spec.side !== closing) continue;
    if (order.spec.type.kind === 'stop-market' && isAcknowledged(order)) coveredLots += order.spec.sizeLots - filledLots(order);
  }
  return coveredLots >= Math.abs(sizeLots);
}

/** An average is not on the tick grid: two decimals finer than the tick. */
function formatAverage(instrument: Instrument, ticks: number): string {
  return ticksToNumber(instrument, ticks).toFixed(instrument.priceScale + 2);
}

/** Orders not yet finished: waiting to be sent, sent, working on the venue, or of unknown outcome. */
export function ordersView(state: EngineState): OrderView[] {
  const views: OrderView[] = [];
  for (const order of state.orders.values()) {
    const instrument = state.instruments.get(order.spec.symbol);
    if (isTerminal(order) || instrument === undefined) continue;
    const type = order.spec.type;
    views.push({
      clientOrderId: order.key,
      venueOrderId: venueOrderIdOf(order),
      symbol: order.spec.symbol,
      role: order.role,
      side: order.spec.side,
      type: type.kind,
      quantity: lotsToQty(instrument, order.spec.sizeLots),
      filled: lotsToQty(instrument, filledLots(order)),
      price: type.kind === 'limit' ? ticksToPrice(instrument, type.priceTicks) : null,
      triggerPrice: type.kind === 'stop-market' ? ticksToPrice(instrument, type.triggerTicks) : null,
      reduceOnly: order.spec.reduceOnly,
      status: order.status,
      intent: order.intentId,
      createdMs: order.createdMs,
      cancelWanted: order.cancelWanted,
    });
  }
  return views.sort((a, b) => a.createdMs - b.createdMs || a.clientOrderId.localeCompare(b.clientOrderId));
}

/**
 * Positions without a stop confirmed on the venue, and the longest such stretch now (ms; 0 if
 * none); apart from them, external positions the configuration says to only watch
 * (`engine.externalPositions: watch`): unprotected by the operator's choice, not by a fault.
 */
export function unprotectedNow(state: EngineState, nowMs: number): { readonly positions: number; readonly watched: number; readonly longestMs: number } {
  let positions = 0;
  let watched = 0;
  let longestMs = 0;
  for (const position of state.positions.values()) {
    const sizeLots = effectiveSizeLots(position);
    if (sizeLots === 0 || hasStopOnVenue(state, position, sizeLots)) continue;
    const intent = activeIntentOf(state, position.symbol);
    if (intent?.protection === 'watch' && state.config.externalPositions === 'watch') {
      watched += 1;
      continue;
    }
    positions += 1;
    const sinceMs = intent === null ? null : unprotectedSinceMs(intent);
    if (sinceMs !== null) longestMs = Math.max(longestMs, nowMs - sinceMs);
  }
  return { positions, watched, longestMs };
}

/**
 * Since when a position without a confirmed stop has been the engine's to protect: from its first
 * fill, or, for one found on the venue (adopted, restored), from when it was found, though its age
 * counts from its opening fill.
 */
function unprotectedSinceMs(intent: Intent): number | null {
  return intent.positionSeenMs === null ? null : Math.max(intent.positionSeenMs, intent.createdMs);
}

export type HealthInputs = {
  readonly state: EngineState;
  readonly about: { readonly botId: string; readonly venue: string; readonly dryRun: boolean; readonly startedMs: number };
  readonly halted: { readonly reason: string; readonly atMs: number } | null;
  readonly connections: Readonly<Record<StreamName, ConnectionState>>;
  readonly reconnects: Readonly<Record<StreamName, number>>;
  readonly lastReconciliation: ReconciliationSummary | null;
  readonly nowMs: number;
};

/**
 * What an operator must hear of: a halt, not trading, a position without its stop, a stream the
 * engine has down (the public one: no market entries), and a reconciliation overdue (the venue not
 * answering its snapshots: drift would go unseen).
 */
function healthProblems(inputs: HealthInputs, phase: Health['phase'], streams: Health['streams'], unprotected: number, delistings: readonly DelistingView[]): string[] {
  const problems: string[] = [];
  if (inputs.halted !== null) problems.push(`halted: ${inputs.halted.reason}`);
  if (phase !== 'trading') problems.push(`not trading (${phase})`);
  if (unprotected > 0) problems.push(`${unprotected} position(s) without a confirmed stop`);
  for (const name of ['private', 'public'] as const) if (streams[name] !== 'up') problems.push(`the ${name} stream is down`);
  const everyMs = inputs.state.config.reconcileEveryMs;
  const last = inputs.lastReconciliation;
  if (phase === 'trading' && last !== null && inputs.nowMs - last.atMs > reconcileOverdueFactor * everyMs) {
    problems.push(`the last reconciliation was ${Math.round((inputs.nowMs - last.atMs) / 1_000)} s ago (one is due every ${Math.round(everyMs / 1_000)} s)`);
  }
  for (const delisting of delistings) {
    if (delisting.position !== null) problems.push(`${delisting.text}, and the bot holds a ${delisting.position} there`);
  }
  return problems;
}

/** The bot's symbols with a delisting, by when. */
function delistingsView(state: EngineState, nowMs: number): DelistingView[] {
  const sizeBySymbol = new Map<string, number>();
  for (const position of state.positions.values()) sizeBySymbol.set(position.symbol, effectiveSizeLots(position));
  const views: DelistingView[] = [];
  for (const instrument of state.instruments.values()) {
    const { symbol, delistMs } = instrument;
    if (delistMs === undefined) continue;
    const sizeLots = sizeBySymbol.get(symbol) ?? 0;
    const position = sizeLots === 0 ? null : `${sizeLots > 0 ? 'long' : 'short'} ${lotsToQty(instrument, Math.abs(sizeLots))}`;
    views.push({ symbol, delistMs, text: delistingText(symbol, delistMs, nowMs), position, closeAtMs: delistingCloseMs(instrument, state.config.closeBeforeDelistingMs) });
  }
  return views.sort((a, b) => a.delistMs - b.delistMs);
}

/** A reconciliation this many periods old is overdue: one missed (a snapshot failed, asked again after a backoff) is not yet. */
const reconcileOverdueFactor = 3;

export function healthView(inputs: HealthInputs): HealthView {
  const { state, about, connections, reconnects } = inputs;
  const health = healthOf(state);
  const unprotected = unprotectedNow(state, inputs.nowMs);
  const stream = (name: StreamName): HealthView['streams'][StreamName] => ({ engine: health.streams[name], connection: connections[name], reconnects: reconnects[name] });
  const delistings = delistingsView(state, inputs.nowMs);
  const problems = healthProblems(inputs, health.phase, health.streams, unprotected.positions, delistings);
  return {
    ok: problems.length === 0,
    problems,
    botId: about.botId,
    venue: about.venue,
    dryRun: about.dryRun,
    startedMs: about.startedMs,
    phase: health.phase,
    phaseSinceMs: health.phaseSinceMs,
    halted: inputs.halted,
    streams: { private: stream('private'), public: stream('public') },
    lastReconciliation: inputs.lastReconciliation,
    reconciliations: health.reconciliations,
    driftTotal: health.drift,
    activeIntents: health.activeIntents,
    positionsUnprotected: unprotected.positions,
    positionsWatched: unprotected.watched,
    anomalies: health.anomalies,
    protectiveExits: health.protectiveExits,
    wallet: health.wallet === null ? null : { coin: health.wallet.coin, balance: formatE8Exact(health.wallet.balanceE8), equity: formatE8Exact(health.wallet.equityE8) },
    delistings,
  };
}

export type FillView = {
  readonly executionId: string;
  readonly symbol: string;
  readonly side: string;
  readonly quantity: string;
  readonly price: string;
  readonly fee: string;
  readonly realizedPnl: string;
  readonly liquidity: string;
  readonly venueMs: number;
  /** What the order was for (entry, stop, take-profit, exit), or null for one not ours. */
  readonly role: string | null;
  readonly clientOrderId: string | null;
};

/** A fill as the ledger holds it (src/journal/ledger.ts), for the API. */
export function fillView(row: FillRow): FillView {
  return {
    executionId: row.execution_id, symbol: row.symbol, side: row.side, quantity: row.qty, price: row.price, fee: formatE8Exact(row.fee_e8),
    realizedPnl: formatE8Exact(row.realized_pnl_e8), liquidity: row.liquidity, venueMs: row.venue_ms, role: row.role, clientOrderId: row.client_order_id,
  };
}
