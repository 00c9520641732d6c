// The auditor: an independent check of the simulated world after every step, against the venue's
// ground truth rather than the engine's view of itself. The invariants, by name:
//
//  event-lost         every venue fact delivered to the bot is reflected in engine state right
//                     after the runtime applied it (a fill by execution id, an order by venue id,
//                     a position report by sequence, a ticker by venue time);
//  unprotected        every open venue position has a stop on the venue, or is inside its bound:
//                     0 ms for an entry with an attached stop; for a separate stop, one delivery of
//                     the first fill evidence plus one request to the venue; when the engine had
//                     to exit instead (stop rejected or not acknowledged), its deadline plus the
//                     exit's own trip. Episodes during which the network lost one of the bot's
//                     requests are reported separately and must still end before quiescence;
//                     Episodes during which the private stream was down, the bot restarted or
//                     had not yet reconciled since it started, are reported apart too;
//  duplicate-entry    no intent ever sends a second entry order (by client order id role);
//  write-while-down   no entry or take-profit is sent unless the engine is trading, nor before the
//                     private stream has been subscribed since the bot's process started;
//  fill-booked        every venue fill is in engine state within `fillBookedBoundMs` of its
//                     execution (or of the bot's restart): a fill lost on a dropped stream must be
//                     recovered by the reconciliation after the reconnect, not by a later one;
//  runtime-halted     the engine never fails an internal assertion;
//  recovered          a process killed with everything it journaled applied (between steps, or
//                     while journaling a batch) is recovered from the journal file into exactly
//                     the state it had (every field, not only the trading state);
//  stop-loosened      no change the bot sends ever loosens a stop the venue holds: an amend of a
//                     stop order's trigger, or a position stop-loss, is checked against the venue's
//                     own order or position at the instant it is sent, and a position's stop-loss
//                     on the venue never moves away from the price while the position stays open;
//  amend-in-flight    at most one change of an order (amend) or of a position's stop is in flight
//                     at a time: the next is sent only after the venue answered the previous one,
//                     or, its answer lost, after the bot asked (a query, a snapshot);
//  order-transition   every change the engine makes to an order follows the order state machine
//                     (src/core/order/order.ts): a finished order stays finished (only one concluded
//                     "never placed" may come back, the venue being right), nothing goes back to
//                     pending, and an unknown outcome is only ever settled, never re-sent;
//  lot-exact          every quantity, price and trigger the bot sends is a whole, positive number
//                     of the instrument's lots and ticks, and no size above its maximum;
//  ladder-sized       a take-profit ladder's rungs (any second take-profit of an intent) are sent
//                     only once the venue has its entry done, and together close no more than the
//                     entry filled: a ladder sized for an entry cut short would close it all at
//                     its first target;
//  converged          at quiescence the engine's positions (size, cost, realized PnL, fees), its
//                     fills, its live orders and its wallet balance equal the venue's, and every
//                     position is protected; for a journaled bot, so do its ledger's fills and each
//                     symbol's realized PnL and fees; and nothing is open on a symbol whose
//                     delisting close fell due (but a position kept on watch).

import type { ExecutionId, IntentId } from '../core/ids.ts';
import { clientOrderIdFor, parseClientOrderId } from '../core/ids.ts';
import type { EngineConfig } from '../core/state.ts';
import { filledLots, isLive, venueOrderIdOf } from '../core/order/order.ts';
import { effectiveSizeLots, positionKey } from '../core/position/position.ts';
import type { Command, CommandOf } from '../core/commands.ts';
import type { OrderStatus } from '../core/order/order.ts';
import type { Instrument } from '../core/instrument.ts';
import type { LedgerReader } from '../journal/ledger.ts';
import type { Incoming, VenueCommand } from '../shell/ports.ts';
import type { VenueFact } from '../venues/sim/venue.ts';
import type { Runtime } from '../shell/runtime.ts';
import type { SimVenue } from '../venues/sim/venue.ts';
import type { Network } from './network.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimStreams } from './streams.ts';
import type { Trace } from './trace.ts';

/** What the auditor reads: the venue's ground truth, the engine's state, and the network's bounds. */
export type AuditedWorld = {
  readonly venue: SimVenue;
  /** The bot's process, or the dead one while `down`. */
  readonly runtime: Runtime;
  /** No process runs (between a crash and the next start): nothing the dead one shows counts. */
  readonly down: boolean;
  /** The bot's process is frozen: it sees nothing and does nothing until it thaws. */
  readonly paused: boolean;
  readonly network: Network;
  readonly scheduler: Scheduler;
  readonly streams: SimStreams;
  readonly startMs: number;
  readonly trace: Trace;
  /** The venue's instrument for a symbol (its lot and tick sizes, its limits). */
  instrument(symbol: string): Instrument | undefined;
  /** The instrument as the bot's process last read it (a frozen process reads a change when it thaws). */
  instrumentAsTold(symbol: string): Instrument | undefined;
};

export type InvariantName =
  | 'event-lost' | 'unprotected' | 'duplicate-entry' | 'write-while-down' | 'fill-booked' | 'runtime-halted' | 'recovered'
  | 'stop-loosened' | 'amend-in-flight' | 'order-transition' | 'lot-exact' | 'ladder-sized' | 'converged';

/** A fill must be in engine state this soon: a stall's detection, the reconnect backoff and setup, a snapshot with retries. */
export const fillBookedBoundMs = 45_000;

export type Violation = { readonly invariant: InvariantName; readonly atMs: number; readonly detail: string };

/** How an unprotected episode ended: a stop on the venue, flat, or the position turned to the other side. */
export type EpisodeEnd = 'stop' | 'flat' | 'turned';

export type UnprotectedEpisode = {
  readonly symbol: string;
  readonly origin: 'ours' | 'external';
  readonly mode: 'attached' | 'separate';
  readonly startMs: number;
  readonly endMs: number;
  readonly endedBy: EpisodeEnd;
  /** The network lost one of the bot's requests meanwhile, or it ended while the bot was blind. */
  readonly faulted: boolean;
  /** It began while the bot was blind: its start is when the bot could see again. */
  readonly rebased: boolean;
  /**
   * The venue changed the symbol's market maximum meanwhile (a stop on its way may have been
   * refused for it), or the position was larger than it (its stop could only be the position's
   * own, which waits its turn: see checkProtection).
   */
  readonly marketMax: boolean;
};

/**
 * An episode in progress. `blind`: the bot cannot see the position yet (its private stream is down
 * or silent, or it has not reconciled since the stream came up); the bound is counted from when it
 * can see again. `faulted`: the network lost one of the bot's requests meanwhile (judged apart).
 */
type OpenEpisode = { startMs: number; origin: 'ours' | 'external'; faulted: boolean; blind: boolean; rebased: boolean; reported: boolean; marketMax: boolean; sign: number;
  /** The bounds as the network stood when it began: its evidence was sent then (a heal that turns reordering off later does not hurry it). */
  stopBoundMs: number; exitBoundMs: number };

export const violationsKeptMax = 50;

/**
 * The order state machine's transitions (src/core/order/order.ts), as the auditor's own table: from
 * each status, where an order may go next. A finished order stays finished, except one concluded
 * "never placed" (rejected with no venue order id), which the venue may show after all.
 */
const transitions: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending: ['submitted', 'cancelled'],
  submitted: ['accepted', 'partially-filled', 'filled', 'cancelled', 'expired', 'rejected', 'unknown'],
  unknown: ['accepted', 'partially-filled', 'filled', 'cancelled', 'expired', 'rejected'],
  accepted: ['partially-filled', 'filled', 'cancelled', 'expired', 'rejected'],
  'partially-filled': ['filled', 'cancelled', 'expired', 'rejected'],
  filled: [],
  cancelled: [],
  expired: [],
  rejected: [],
};

function isAllowedTransition(from: OrderStatus, to: OrderStatus, fromVenueOrderId: string | null): boolean {
  if (from === 'rejected' && fromVenueOrderId === null) return to !== 'pending' && to !== 'submitted' && to !== 'unknown';
  return transitions[from].includes(to);
}

/** A change of an order or a position stop the bot sent, and whether its answer was lost. */
type InFlight = { readonly status: 'sent' | 'unknown'; readonly sentMs: number };

export class Auditor {
  readonly violations: Violation[] = [];
  readonly episodes: UnprotectedEpisode[] = [];
  violationCount = 0;
  eventsDelivered = 0;
  eventsLost = 0;
  /** Positions that opened on the venue, by whose they were: ours (entries) or external. */
  readonly openings = { ours: 0, external: 0 };
  private readonly world: AuditedWorld;
  private readonly config: EngineConfig;
  private readonly open = new Map<string, OpenEpisode>();
  /** Until when a symbol's requests are lost or held back (see onRequestLost). */
  private readonly faultedUntil = new Map<string, number>();
  private readonly lastFillClientId = new Map<string, string | null>();
  /** The client order id of the fill that opened each symbol's venue position (from flat, or across zero). */
  private readonly openerClientId = new Map<string, string | null>();
  /** Each symbol's venue position size, as its last report said. */
  private readonly venueSizeLots = new Map<string, number>();
  /** Whose each open venue position is, and when it opened (a new opening is a new position). */
  private readonly originBySymbol = new Map<string, { readonly origin: 'ours' | 'external'; readonly openedMs: number }>();
  private readonly entriesByIntent = new Map<string, number>();
  /** Take-profits sent per intent: how many, and the lots they close together. */
  private readonly takeProfitsByIntent = new Map<IntentId, { readonly count: number; readonly lots: number }>();
  private haltReported = false;
  /** Venue fills not yet seen in engine state, with the time from which the bound runs. */
  private readonly unbooked = new Map<ExecutionId, number>();
  private processStartMs: number;
  restarts = 0;
  /** Changes in flight: amends by client order id, position stops by symbol; `unknown` once the answer was lost. */
  private readonly amendsInFlight = new Map<string, InFlight>();
  private readonly positionStopsInFlight = new Map<string, InFlight>();
  /** Each open venue position's stop-loss as last seen, with when the position opened. */
  private readonly positionStops = new Map<string, { readonly openedMs: number; readonly sizeLots: number; readonly stopLossTicks: number }>();
  /** The last status the engine recorded for each order, by key (kept across restarts: the journal keeps it too). */
  private readonly orderStatus = new Map<string, { readonly status: OrderStatus; readonly venueOrderId: string | null }>();
  /** Amends and position-stop changes sent, for the summary. */
  readonly changesSent = { amends: 0, positionStops: 0 };

  constructor(world: AuditedWorld, config: EngineConfig) {
    this.world = world;
    this.config = config;
    this.processStartMs = world.scheduler.nowMs();
  }

  /** The bot's process died and started again: episodes in progress are judged apart. */
  onRestart(nowMs: number, from: 'journal' | 'cold'): void {
    this.restarts += 1;
    // A process with no journal starts from nothing: its orders' histories start again with it. One
    // recovered from the journal starts from what the journal holds, which may be behind what the
    // dead process applied (a kill after journaling a batch, before applying it).
    this.orderStatus.clear();
    if (from === 'journal') {
      for (const order of this.world.runtime.state.orders.values()) this.orderStatus.set(order.key, { status: order.status, venueOrderId: venueOrderIdOf(order) });
    }
    // The new process cannot know the dead one's answers: it must ask before changing anything.
    for (const [key, change] of this.amendsInFlight) this.amendsInFlight.set(key, { ...change, status: 'unknown' });
    for (const [key, change] of this.positionStopsInFlight) this.positionStopsInFlight.set(key, { ...change, status: 'unknown' });
    this.processStartMs = nowMs;
    this.onResumed(nowMs);
  }

  /**
   * The bot's process runs again (thawed after a freeze, or a new one started): the fills it has
   * not booked yet are judged from now (what told of them waited in its sockets, or was lost with a
   * connection meanwhile).
   */
  onResumed(nowMs: number): void {
    for (const [id, fromMs] of this.unbooked) this.unbooked.set(id, Math.max(fromMs, nowMs));
  }

  /** Venue fills the engine has not booked yet (on their way, or lost until a reconciliation). */
  get fillsOnTheirWay(): number {
    return this.unbooked.size;
  }

  get mode(): 'attached' | 'separate' {
    return this.config.attachedStops ? 'attached' : 'separate';
  }

  /** Bound for an episode that ends with the venue holding a stop. */
  get stopBoundMs(): number {
    const { privateStream, restRequest, faults } = this.world.network.config;
    return privateStream.max + (faults.reorderChance > 0 ? faults.reorderDelayMs.max : 0) + restRequest.max;
  }

  /** Bound for an episode that ends flat because the engine exited at market. */
  get exitBoundMs(): number {
    const { restRequest, restReply } = this.world.network.config;
    return this.stopBoundMs + this.config.stopAckDeadlineMs + restRequest.max + restReply.max + restRequest.max;
  }

  onVenueFact(fact: VenueFact): void {
    if (fact.kind === 'position') {
      // The venue reports the position after each match's fills: a match that opened it (or turned
      // it) was made by the fill just before. A fill that only reduced someone else's position
      // makes it no more ours (seed 44472: a hand-opened short reduced by our entry).
      const { symbol, sizeLots } = fact.report;
      const before = this.venueSizeLots.get(symbol) ?? 0;
      if (sizeLots !== 0 && Math.sign(sizeLots) !== Math.sign(before)) this.openerClientId.set(symbol, this.lastFillClientId.get(symbol) ?? null);
      this.venueSizeLots.set(symbol, sizeLots);
      return;
    }
    if (fact.kind !== 'fill') return;
    this.lastFillClientId.set(fact.fill.symbol, fact.fill.clientOrderId);
    // The bound runs on the bot's clock from the moment the venue made the fill (its venueMs is on
    // the venue's clock, which may be skewed).
    this.unbooked.set(fact.fill.executionId, Math.max(this.world.scheduler.nowMs(), this.processStartMs));
  }

  /** What one step of the engine produced: its order records are checked against the state machine. */
  onApplied(commands: readonly Command[]): void {
    for (const command of commands) {
      if (command.type !== 'Record' || command.record.kind !== 'order') continue;
      const { order } = command.record;
      const before = this.orderStatus.get(order.key);
      const venueOrderId = venueOrderIdOf(order);
      this.orderStatus.set(order.key, { status: order.status, venueOrderId });
      if (before === undefined || before.status === order.status) continue;
      if (!isAllowedTransition(before.status, order.status, before.venueOrderId)) {
        this.fail('order-transition', this.world.scheduler.nowMs(), `${order.key}: ${before.status} -> ${order.status} is not a transition of the order state machine`);
      }
    }
  }

  /** A command on its way to the venue; false if its numbers are not whole lots and ticks (the venue refuses it). */
  onCommandSent(command: VenueCommand, atMs: number): boolean {
    const unitsOk = this.checkUnits(command, atMs);
    if (command.type === 'AmendOrder') this.onAmendSent(command, atMs);
    else if (command.type === 'SetPositionStop') this.onPositionStopSent(command, atMs);
    else if (command.type === 'SubmitOrder') this.onSubmitSent(command, atMs);
    return unitsOk;
  }

  private onSubmitSent(command: CommandOf<'SubmitOrder'>, atMs: number): void {
    const parsed = parseClientOrderId(this.config.botId, command.clientOrderId);
    if (parsed === null) {
      this.fail('duplicate-entry', atMs, `command with a client order id that is not ours: ${command.clientOrderId}`);
      return;
    }
    if (parsed.role === 'entry' || parsed.role === 'take-profit') this.checkWriteAllowed(command.clientOrderId, atMs);
    if (parsed.role === 'take-profit') this.checkLadderSized(parsed.intentId, parsed.attempt, command, atMs);
    if (parsed.role !== 'entry') return;
    const count = (this.entriesByIntent.get(parsed.intentId) ?? 0) + 1;
    this.entriesByIntent.set(parsed.intentId, count);
    if (count > 1) this.fail('duplicate-entry', atMs, `intent ${parsed.intentId} sent entry order #${count} (${command.clientOrderId})`);
  }

  /** A take-profit on its way: from its intent's second (a ladder's), the entry must be done on the venue and have filled all they close. */
  private checkLadderSized(intentId: IntentId, rung: number, command: CommandOf<'SubmitOrder'>, atMs: number): void {
    const before = this.takeProfitsByIntent.get(intentId) ?? { count: 0, lots: 0 };
    const sent = { count: before.count + 1, lots: before.lots + command.spec.sizeLots };
    this.takeProfitsByIntent.set(intentId, sent);
    if (sent.count < 2 && rung < 2) return; // a single take-profit: reduce-only, sized for the whole entry
    const entry = this.world.venue.queryOrder({ clientOrderId: clientOrderIdFor(intentId, 'entry') });
    if (entry === null) return; // not one of ours that opened with an entry (an adopted position has no ladder)
    if (entry.status === 'new' || entry.status === 'partially-filled' || entry.status === 'untriggered') {
      this.fail('ladder-sized', atMs, `${command.clientOrderId} sent while the entry is still ${entry.status} (${entry.filledLots} of ${entry.sizeLots} lots filled)`);
    } else if (sent.lots > entry.filledLots) {
      this.fail('ladder-sized', atMs, `${command.clientOrderId}: the ladder's rungs sent so far close ${sent.lots} lots, the entry filled ${entry.filledLots}`);
    }
  }

  private onAmendSent(command: CommandOf<'AmendOrder'>, atMs: number): void {
    this.changesSent.amends += 1;
    this.checkNoneInFlight(this.amendsInFlight.get(command.clientOrderId), `${command.clientOrderId}: amend`, atMs);
    this.amendsInFlight.set(command.clientOrderId, { status: 'sent', sentMs: atMs });
    const { triggerTicks } = command.amendment;
    const truth = this.world.venue.queryOrder({ clientOrderId: command.clientOrderId });
    if (triggerTicks === undefined || truth === null || truth.orderKind !== 'stop-market' || truth.triggerTicks === null) return;
    // A sell stop protects a long: it may only move up; a buy stop only down.
    const looser = truth.side === 'sell' ? triggerTicks < truth.triggerTicks : triggerTicks > truth.triggerTicks;
    if (looser) this.fail('stop-loosened', atMs, `${command.clientOrderId}: amend to trigger ${triggerTicks} loosens the venue's ${truth.side} stop at ${truth.triggerTicks}`);
  }

  private onPositionStopSent(command: CommandOf<'SetPositionStop'>, atMs: number): void {
    this.changesSent.positionStops += 1;
    this.checkNoneInFlight(this.positionStopsInFlight.get(command.symbol), `${command.symbol}: position stop change`, atMs);
    this.positionStopsInFlight.set(command.symbol, { status: 'sent', sentMs: atMs });
    const position = this.world.venue.position(command.symbol);
    if (command.change.kind !== 'stop-loss' || position.sizeLots === 0 || position.stopLossTicks === null) return;
    const next = command.change.stopLoss.triggerTicks;
    const looser = position.sizeLots > 0 ? next < position.stopLossTicks : next > position.stopLossTicks;
    if (looser) this.fail('stop-loosened', atMs, `${command.symbol}: position stop-loss ${next} loosens the venue's ${position.stopLossTicks}`);
  }

  /** Quantities in whole lots (1 to the instrument's maximum), prices and triggers in whole ticks above 0. */
  private checkUnits(command: VenueCommand, atMs: number): boolean {
    const symbol = command.type === 'SubmitOrder' ? command.spec.symbol : command.type === 'FetchSnapshot' ? null : command.symbol;
    const instrument = symbol === null ? undefined : this.world.instrument(symbol);
    const problems: string[] = [];
    const lots = (value: number | undefined, what: string, maxLots: number): void => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1 && value <= maxLots)) problems.push(`${what} ${value} lots (1 to ${maxLots})`);
    };
    const ticks = (value: number | undefined, what: string): void => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) problems.push(`${what} ${value} ticks`);
    };
    if (instrument === undefined) return true;
    if (command.type === 'SubmitOrder') {
      const { spec } = command;
      // Bybit's maxMktOrderQty holds for every order that executes at market, stops included: the
      // limit as the bot was told it (a lower one it has not read yet, the venue refuses).
      const told = this.world.instrumentAsTold(spec.symbol) ?? instrument;
      lots(spec.sizeLots, 'size', spec.type.kind === 'limit' ? instrument.maxLots : told.maxMarketLots);
      ticks(spec.type.kind === 'limit' ? spec.type.priceTicks : undefined, 'price');
      ticks(spec.type.kind === 'stop-market' ? spec.type.triggerTicks : undefined, 'trigger');
      ticks(spec.stopLoss?.triggerTicks, 'attached stop-loss');
      ticks(spec.takeProfit?.triggerTicks, 'attached take-profit');
    } else if (command.type === 'AmendOrder') {
      lots(command.amendment.sizeLots, 'size', instrument.maxLots);
      ticks(command.amendment.priceTicks, 'price');
      ticks(command.amendment.triggerTicks, 'trigger');
    } else if (command.type === 'SetPositionStop') {
      ticks(command.change.kind === 'stop-loss' ? command.change.stopLoss.triggerTicks : command.change.distanceTicks, command.change.kind === 'stop-loss' ? 'stop-loss' : 'trailing distance');
      ticks(command.change.kind === 'trailing' ? command.change.activationTicks ?? undefined : undefined, 'trailing activation');
    }
    if (problems.length === 0) return true;
    this.fail('lot-exact', atMs, `${command.type} ${'clientOrderId' in command ? command.clientOrderId : symbol ?? ''}: ${problems.join(', ')}`);
    return false;
  }

  /**
   * The previous change must be answered, or asked about after its answer was lost, or so old that
   * it can no longer land (a request older than the REST timeout never reaches the sim venue, as
   * one older than Bybit's receive window is refused): only then may the next one go.
   */
  private checkNoneInFlight(previous: InFlight | undefined, what: string, atMs: number): void {
    if (previous === undefined) return;
    if (previous.status === 'unknown' && atMs - previous.sentMs >= this.world.network.config.restTimeoutMs) return;
    this.fail('amend-in-flight', atMs, `${what} sent while the previous one (sent at +${previous.sentMs - this.world.startMs}) was ${previous.status === 'unknown' ? 'unanswered and not yet asked about' : 'in flight'}`);
  }

  /** A reply or an answer reached the bot's current process. */
  onReplyDelivered(incoming: Incoming): void {
    switch (incoming.type) {
      case 'OrderAmendAcked':
      case 'OrderAmendRejected':
        this.amendsInFlight.delete(incoming.clientOrderId);
        return;
      case 'OrderAmendUnknown':
        this.markUnknown(this.amendsInFlight, incoming.clientOrderId);
        return;
      case 'OrderQueried':
        if (this.amendsInFlight.get(incoming.clientOrderId)?.status === 'unknown') this.amendsInFlight.delete(incoming.clientOrderId);
        return;
      case 'PositionStopAcked':
      case 'PositionStopRejected':
        this.positionStopsInFlight.delete(incoming.symbol);
        return;
      case 'PositionStopUnknown':
        this.markUnknown(this.positionStopsInFlight, incoming.symbol);
        return;
      case 'SnapshotReceived':
        for (const [symbol, change] of this.positionStopsInFlight) if (change.status === 'unknown') this.positionStopsInFlight.delete(symbol);
        return;
      default:
        return;
    }
  }

  private markUnknown(changes: Map<string, InFlight>, key: string): void {
    const change = changes.get(key);
    if (change !== undefined) changes.set(key, { ...change, status: 'unknown' });
  }

  /** A position's stop-loss on the venue only ever tightens while the position stays open. */
  private checkPositionStop(symbol: string, sizeLots: number, openedMs: number | null, stopLossTicks: number | null, nowMs: number): void {
    if (sizeLots === 0 || openedMs === null || stopLossTicks === null) {
      if (sizeLots === 0) this.positionStops.delete(symbol);
      return;
    }
    const before = this.positionStops.get(symbol);
    this.positionStops.set(symbol, { openedMs, sizeLots, stopLossTicks });
    // A fill of an entry with an attached stop arms that stop again (the venue's rule, Bybit's too):
    // the bot must then move it again, which the unprotected and converged checks see.
    if (before?.openedMs !== openedMs || before.sizeLots !== sizeLots) return;
    const looser = sizeLots > 0 ? stopLossTicks < before.stopLossTicks : stopLossTicks > before.stopLossTicks;
    if (looser) this.fail('stop-loosened', nowMs, `${symbol}: the venue's position stop-loss moved from ${before.stopLossTicks} to ${stopLossTicks}, away from the price`);
  }

  /** Entries and take-profits must be observable: the engine trading, the private stream subscribed since start. */
  private checkWriteAllowed(clientOrderId: string, atMs: number): void {
    const { lifecycle } = this.world.runtime.state;
    if (!this.world.streams.privateUpSinceStart) {
      this.fail('write-while-down', atMs, `${clientOrderId} sent before the private stream was ever subscribed since the bot started`);
    } else if (lifecycle.phase !== 'trading') {
      this.fail('write-while-down', atMs, `${clientOrderId} sent while the engine was ${lifecycle.phase}`);
    }
  }

  /**
   * The network lost one of the bot's requests, or the venue held it back (a rate limit), until
   * `untilMs`: an episode of its symbol in progress, or one that starts before then (the request
   * may be the stop it needs), is judged apart.
   */
  onRequestLost(command: VenueCommand, untilMs: number): void {
    if (command.type === 'FetchSnapshot') return;
    const symbol = command.type === 'SubmitOrder' ? command.spec.symbol : command.symbol;
    const episode = this.open.get(symbol);
    if (episode !== undefined) episode.faulted = true;
    this.faultedUntil.set(symbol, Math.max(this.faultedUntil.get(symbol) ?? 0, untilMs));
  }


  /**
   * The venue refused a stop of ours because the market was already past its level: no stop at that
   * level can be placed, so the bound of one request cannot hold. The bot must hear the refusal and
   * close at market: the position's episode is judged by the exit bound, however it ends (seed
   * 121405: the price came back and the bot's second stop landed before its exit).
   */
  onStopRefusedCrossed(symbol: string): void {
    const episode = this.open.get(symbol);
    if (episode !== undefined) episode.stopBoundMs = episode.exitBoundMs;
  }

  /**
   * The venue changed the most it takes in one market order on a symbol: a stop the bot sized under
   * the old limit, still on its way, is refused, and the bot can act only on that refusal (or on the
   * new limit, which it is told at the same moment). The open episode is judged by the exit bound,
   * as for a stop refused because the market was past it.
   */
  onMarketMaxChanged(symbol: string): void {
    const episode = this.open.get(symbol);
    if (episode === undefined) return;
    episode.stopBoundMs = episode.exitBoundMs;
    episode.marketMax = true;
  }

  onDelivered(fact: VenueFact): void {
    this.eventsDelivered += 1;
    if (this.world.runtime.halt !== null) return; // reported once as runtime-halted
    const missing = this.missingFrom(fact);
    if (missing === null) return;
    this.eventsLost += 1;
    this.fail('event-lost', this.world.scheduler.nowMs(), missing);
  }

  private missingFrom(fact: VenueFact): string | null {
    const state = this.world.runtime.state;
    switch (fact.kind) {
      case 'fill':
        return state.fillIds.has(fact.fill.executionId) ? null : `fill ${fact.fill.executionId} not in engine state`;
      case 'order': {
        const { venueOrderId, clientOrderId, filledLots: reported } = fact.report;
        const key = state.orderKeyByVenueId.get(venueOrderId);
        const order = key === undefined ? undefined : state.orders.get(key);
        if (order === undefined) return `order ${venueOrderId} (${clientOrderId ?? 'no client id'}) not in engine state`;
        return filledLots(order) >= reported ? null : `order ${venueOrderId}: engine has ${filledLots(order)} filled, the report ${reported}`;
      }
      case 'position': {
        const venue = state.positions.get(positionKey(state.config.account, fact.report.symbol))?.venue;
        const applied = venue !== undefined && venue !== null && (venue.seq > fact.report.seq || (venue.seq === fact.report.seq && venue.venueUpdatedMs >= fact.report.venueUpdatedMs));
        return applied ? null : `position report ${fact.report.symbol} seq ${fact.report.seq} not applied`;
      }
      case 'wallet':
        return state.wallet !== null && state.wallet.venueMs >= fact.report.venueMs ? null : `wallet report at ${fact.report.venueMs} not applied`;
      case 'ticker': {
        const market = state.markets.get(fact.symbol);
        return market !== undefined && market.venueMs >= fact.venueMs ? null : `ticker ${fact.symbol} at ${fact.venueMs} not applied`;
      }
      default:
        throw new Error(`unknown fact ${JSON.stringify(fact satisfies never)}`);
    }
  }

  afterStep(nowMs: number): void {
    if (this.world.down || this.world.paused) {
      // Positions stay as the venue keeps them; their episodes are judged from the restart (or the
      // thaw), as the fills not booked yet are (onRestart, onResumed).
      for (const episode of this.open.values()) episode.blind = true;
      return;
    }
    const halt = this.world.runtime.halt;
    if (halt !== null && !this.haltReported) {
      this.haltReported = true;
      this.fail('runtime-halted', nowMs, halt.reason);
    }
    // The bot cannot see while its private stream is down or silent, nor act before it has
    // reconciled since the stream came up (after a start, a restart or a reconnect).
    const blind = !this.world.streams.isUp('private') || this.world.runtime.state.lifecycle.phase !== 'trading';
    for (const position of this.world.venue.positions()) {
      this.checkProtection(position.symbol, position.sizeLots, position.openedMs, nowMs);
      this.checkPositionStop(position.symbol, position.sizeLots, position.openedMs, position.stopLossTicks, nowMs);
      const episode = this.open.get(position.symbol);
      if (episode === undefined) continue;
      if (blind) {
        episode.blind = true;
      } else if (episode.blind) {
        episode.blind = false;
        episode.rebased = true;
        episode.startMs = nowMs; // from here on the bot could see it: the bound runs from now
      }
    }
    this.checkFillsBooked(nowMs);
  }

  private checkFillsBooked(nowMs: number): void {
    if (this.unbooked.size === 0) return;
    const { fillIds } = this.world.runtime.state;
    for (const [executionId, fromMs] of this.unbooked) {
      if (fillIds.has(executionId)) {
        this.unbooked.delete(executionId);
      } else if (nowMs - fromMs > fillBookedBoundMs) {
        this.unbooked.delete(executionId);
        this.fail('fill-booked', nowMs, `fill ${executionId} not in engine state ${nowMs - fromMs} ms after it happened (bound ${fillBookedBoundMs} ms)`);
      }
    }
  }

  private checkProtection(symbol: string, sizeLots: number, openedMs: number | null, nowMs: number): void {
    if (sizeLots !== 0 && openedMs !== null && this.originBySymbol.get(symbol)?.openedMs !== openedMs) {
      // Opened since we last looked (within one step a position can close and open again).
      const origin = this.originOfOpening(symbol);
      this.originBySymbol.set(symbol, { origin, openedMs });
      this.openings[origin] += 1;
      const stale = this.open.get(symbol);
      if (stale !== undefined) this.closeEpisode(symbol, stale, nowMs, 'turned');
    }
    if (sizeLots === 0) this.originBySymbol.delete(symbol);
    const protectedNow = sizeLots === 0 || this.world.venue.isProtected(symbol);
    let episode = this.open.get(symbol);
    if (episode !== undefined && !protectedNow && Math.sign(sizeLots) !== episode.sign) {
      // One-way netting turned the position to the other side before it got its stop: a new
      // position with its own bound (the old one is judged by the exit bound).
      this.closeEpisode(symbol, episode, nowMs, 'turned');
      episode = undefined;
    }
    if (protectedNow) {
      if (episode !== undefined) this.closeEpisode(symbol, episode, nowMs, sizeLots === 0 ? 'flat' : 'stop');
      return;
    }
    if (episode === undefined) {
      const origin = this.originBySymbol.get(symbol)?.origin ?? 'external';
      const faulted = nowMs < (this.faultedUntil.get(symbol) ?? 0);
      this.open.set(symbol, {
        startMs: nowMs, origin, faulted, blind: false, rebased: false, reported: false, marketMax: false, sign: Math.sign(sizeLots), stopBoundMs: this.stopBoundMs, exitBoundMs: this.exitBoundMs,
      });
      if (origin === 'ours' && this.mode === 'attached') {
        this.fail('unprotected', nowMs, `${symbol}: our position with an attached stop is unprotected on the venue`);
      }
      return;
    }
    if (!episode.marketMax && Math.abs(sizeLots) > (this.world.instrument(symbol)?.maxMarketLots ?? Infinity)) {
      // No stop order may cover it: its stop is the position's own stop-loss, which takes its turn
      // on the symbol's one channel for such changes (after the answer to a change in flight, after
      // the hold that follows a start): judged by the exit bound.
      episode.marketMax = true;
      episode.stopBoundMs = episode.exitBoundMs;
    }
    const elapsed = nowMs - episode.startMs;
    if (!episode.faulted && !episode.blind && !episode.reported && elapsed > episode.exitBoundMs) {
      episode.reported = true;
      this.fail('unprotected', nowMs, `${symbol}: ${episode.origin} position unprotected for ${elapsed} ms (bound ${episode.exitBoundMs} ms)`);
    }
  }

  private originOfOpening(symbol: string): 'ours' | 'external' {
    const clientOrderId = this.openerClientId.has(symbol) ? this.openerClientId.get(symbol) ?? null : this.lastFillClientId.get(symbol) ?? null;
    return clientOrderId !== null && parseClientOrderId(this.config.botId, clientOrderId) !== null ? 'ours' : 'external';
  }

  private closeEpisode(symbol: string, episode: OpenEpisode, nowMs: number, endedBy: EpisodeEnd): void {
    this.open.delete(symbol);
    const record: UnprotectedEpisode = {
      symbol, origin: episode.origin, mode: this.mode, startMs: episode.startMs, endMs: nowMs, endedBy, faulted: episode.faulted || episode.blind, rebased: episode.rebased, marketMax: episode.marketMax,
    };
    this.episodes.push(record);
    const elapsed = nowMs - episode.startMs;
    const bound = endedBy === 'stop' ? episode.stopBoundMs : episode.exitBoundMs;
    if (!episode.faulted && !episode.blind && !episode.reported && elapsed > bound) {
      this.fail('unprotected', nowMs, `${symbol}: ${episode.origin} position unprotected for ${elapsed} ms until ${endedBy === 'stop' ? 'its stop was placed' : 'it was flat'} (bound ${bound} ms)`);
    }
  }

  /** At quiescence: the engine's view equals the venue's, and nothing is left unprotected. */
  checkConverged(): void {
    const nowMs = this.world.scheduler.nowMs();
    const { venue, runtime } = this.world;
    const state = runtime.state;
    for (const [symbol, episode] of this.open) {
      this.fail('converged', nowMs, `${symbol}: ${episode.origin} position still unprotected at quiescence (for ${nowMs - episode.startMs} ms)`);
    }
    for (const truth of venue.positions()) {
      const mine = state.positions.get(positionKey(state.config.account, truth.symbol));
      const local = mine === undefined
        ? { sizeLots: 0, costTicksLots: 0, realizedPnlE8: 0, feesE8: 0, effective: 0 }
        : { sizeLots: mine.sizeLots, costTicksLots: mine.costTicksLots, realizedPnlE8: mine.realizedPnlE8, feesE8: mine.feesE8, effective: effectiveSizeLots(mine) };
      const fields = ['sizeLots', 'costTicksLots', 'realizedPnlE8', 'feesE8'] as const;
      for (const field of fields) {
        if (local[field] !== truth[field]) this.fail('converged', nowMs, `${truth.symbol} ${field}: engine ${local[field]} != venue ${truth[field]}`);
      }
      if (local.effective !== truth.sizeLots) this.fail('converged', nowMs, `${truth.symbol} effective size: engine ${local.effective} != venue ${truth.sizeLots}`);
      this.checkDelistingClosed(truth.symbol, truth.sizeLots, nowMs);
    }
    const wallet = venue.wallet(nowMs).walletBalanceE8;
    if (state.wallet?.walletBalanceE8 !== wallet) this.fail('converged', nowMs, `wallet balance: engine ${state.wallet?.walletBalanceE8 ?? 'unknown'} != venue ${wallet}`);
    this.checkFillsConverged(nowMs);
    this.checkOrdersConverged(nowMs);
  }

  /**
   * At quiescence: nothing is open on a symbol whose delisting close (as the bot was told of it)
   * fell due, unless the bot keeps the position on watch (not its to close).
   */
  private checkDelistingClosed(symbol: string, sizeLots: number, nowMs: number): void {
    const { state } = this.world.runtime;
    const leadMs = state.config.closeBeforeDelistingMs;
    const delistMs = this.world.instrumentAsTold(symbol)?.delistMs;
    if (sizeLots === 0 || leadMs === null || delistMs === undefined || delistMs - leadMs > nowMs) return;
    const intentId = state.activeIntentBySymbol.get(symbol);
    if (intentId !== undefined && state.intents.get(intentId)?.protection === 'watch') return;
    this.fail('converged', nowMs, `${symbol}: ${sizeLots} lots still open at quiescence, ${nowMs - (delistMs - leadMs)} ms after the delisting's close fell due`);
  }

  /** At quiescence, for a journaled bot: its ledger's fills, and each symbol's realized PnL and fees, equal the venue's. */
  checkLedger(ledger: Pick<LedgerReader, 'allFills' | 'pnl'>): void {
    const nowMs = this.world.scheduler.nowMs();
    const venueFills = this.world.venue.fills();
    const ledgerIds = new Set(ledger.allFills().map((row) => row.execution_id));
    if (ledgerIds.size !== venueFills.length) this.fail('converged', nowMs, `ledger: ${ledgerIds.size} fills, venue ${venueFills.length}`);
    for (const fill of venueFills) {
      if (!ledgerIds.has(fill.executionId)) this.fail('converged', nowMs, `ledger: fill ${fill.executionId} missing`);
    }
    const bySymbol = new Map(ledger.pnl('symbol').map((row) => [row.key, row]));
    for (const truth of this.world.venue.positions()) {
      const row = bySymbol.get(truth.symbol);
      const realized = row?.realized_pnl_e8 ?? 0;
      const fees = row?.fees_e8 ?? 0;
      if (realized !== truth.realizedPnlE8 || fees !== truth.feesE8) {
        this.fail('converged', nowMs, `ledger ${truth.symbol}: realized ${realized} and fees ${fees}, venue ${truth.realizedPnlE8} and ${truth.feesE8}`);
      }
    }
  }

  /**
   * Every venue fill is in the engine's state, but those it has forgotten (older than its
   * `fillIdsFromMs`: the ledger check holds them to account when there is a journal).
   */
  private checkFillsConverged(nowMs: number): void {
    const state = this.world.runtime.state;
    const fills = this.world.venue.fills().filter((fill) => fill.venueMs >= state.fillIdsFromMs);
    if (fills.length !== state.fillIds.size) this.fail('converged', nowMs, `fills: engine has ${state.fillIds.size}, venue ${fills.length} (from ${state.fillIdsFromMs})`);
    for (const fill of fills) {
      if (!state.fillIds.has(fill.executionId)) this.fail('converged', nowMs, `fill ${fill.executionId} missing from the engine`);
    }
  }

  private checkOrdersConverged(nowMs: number): void {
    const state = this.world.runtime.state;
    const venueOpen = new Set<string>();
    for (const report of this.world.venue.openOrders()) {
      venueOpen.add(report.venueOrderId);
      const key = state.orderKeyByVenueId.get(report.venueOrderId);
      const order = key === undefined ? undefined : state.orders.get(key);
      if (order === undefined || !isLive(order)) {
        this.fail('converged', nowMs, `venue order ${report.venueOrderId} (${report.clientOrderId ?? 'no id'}) is open but the engine has it as ${order?.status ?? 'unknown to it'}`);
      }
    }
    for (const order of state.orders.values()) {
      if (!isLive(order)) continue;
      if (order.intentId === null) {
        // Not ours: known to the venue by its venue order id only.
        const venueOrderId = venueOrderIdOf(order);
        if (venueOrderId === null || !venueOpen.has(venueOrderId)) this.fail('converged', nowMs, `engine has ${order.key} (${order.role}) as ${order.status} but the venue has it closed`);
        continue;
      }
      const truth = this.world.venue.queryOrder({ clientOrderId: order.key });
      if (truth === null || !venueOpen.has(truth.venueOrderId)) {
        this.fail('converged', nowMs, `engine has ${order.key} as ${order.status} but the venue has it ${truth?.status ?? 'not at all'}`);
      }
    }
  }

  /** The trace as it stood when the first violation was found: what led to it. */
  traceAtFirstViolation: readonly string[] = [];

  /** The state recovered from the journal after a crash, against the state the killed process had. */
  onRecovered(expected: string, actual: string, nowMs: number): void {
    if (expected === actual) return;
    let at = 0;
    while (at < expected.length && expected[at] === actual[at]) at += 1;
    this.fail('recovered', nowMs, `recovered state differs from the killed process's at character ${at}: ...${expected.slice(Math.max(0, at - 60), at + 60)}... vs ...${actual.slice(Math.max(0, at - 60), at + 60)}...`);
  }

  private fail(invariant: InvariantName, atMs: number, detail: string): void {
    if (this.violationCount === 0) this.traceAtFirstViolation = [...this.world.trace.lastLines()];
    this.violationCount += 1;
    if (this.violations.length < violationsKeptMax) this.violations.push({ invariant, atMs: atMs - this.world.startMs, detail });
  }
}
