// The bot's metrics in Prometheus' text format (GET /metrics), on a prom-client registry of its own
// (never the library's global one, so two bots in one test process do not share counters), and the
// last reconciliation for the health route. Every name starts with `vigil_`.
//
// Two sources: counters fed as things happen in this process (each event applied, each command,
// each notice; they start at zero with the process, as Prometheus expects of counters), and gauges
// read off the engine's state at each scrape (phase, streams, open and unprotected positions, wallet).
//
// Invariants: label values come from closed sets (event types, roles, reject codes, drift classes,
// stream names, the configured and adopted symbols), so the number of series is bounded; nothing
// here changes the engine's state.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Command, Notice } from '../core/commands.ts';
import type { Event, StreamName } from '../core/events.ts';
import { parseClientOrderId } from '../core/ids.ts';
import { isActive } from '../core/intent/intent.ts';
import { e8PerUnit } from '../core/money.ts';
import { effectiveSizeLots } from '../core/position/position.ts';
import type { EngineState } from '../core/state.ts';
import type { ConnectionState, ReconciliationSummary } from './views.ts';
import { unprotectedNow } from './views.ts';

export type SignalResult = 'accepted' | 'rejected' | 'duplicate' | 'invalid' | 'rate-limited' | 'unavailable' | 'unauthorized';
/** Where a signal came from: the operator API (POST /api/signals) or the webhook (POST /webhook). */
export type SignalSourceLabel = 'api' | 'webhook';

export type MetricsDeps = {
  readonly state: EngineState;
  readonly connections: () => Readonly<Record<StreamName, ConnectionState>>;
  readonly halted: () => boolean;
  readonly nowMs: () => number;
};

const phases: readonly EngineState['lifecycle']['phase'][] = ['loading', 'connecting', 'snapshotting', 'trading'];
const streams: readonly StreamName[] = ['private', 'public'];

/** From a stop confirmed with the fill (attached) to the seconds a separate stop may take on a slow venue. */
const unprotectedBucketsSeconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();
  private readonly deps: MetricsDeps;
  private readonly connectedOnce = new Set<StreamName>();
  private readonly reconnectCounts: Record<StreamName, number> = { private: 0, public: 0 };
  private last: ReconciliationSummary | null = null;

  private readonly events = this.counter('vigil_events_applied_total', 'Events the engine applied, by type', ['type']);
  private readonly ordersSubmitted = this.counter('vigil_orders_submitted_total', 'Orders sent to the venue, by role (entry, stop, take-profit, exit; other: not ours)', ['role']);
  private readonly orderRejections = this.counter('vigil_order_rejections_total', 'Order creates the venue (or the dry run) refused, by reason code', ['code']);
  private readonly orderUnknown = this.counter('vigil_order_unknown_outcomes_total', 'Order creates with no reply (timeout, connection lost): settled by asking the venue, never resent', []);
  private readonly stopChanges = this.counter('vigil_stop_changes_total', 'Stop levels sent to the venue for an open position (a trailing stop\'s moves, breakeven, a position\'s own stop set again), by symbol', ['symbol']);
  private readonly fills = this.counter('vigil_fills_total', 'Fills booked (each venue execution id once), by symbol', ['symbol']);
  private readonly reconciliations = this.counter('vigil_reconciliations_total', 'Reconciliations with a venue snapshot, by reason', ['reason']);
  private readonly drift = this.counter('vigil_drift_total', 'Differences reconciliation found and healed, by class (each should stay at zero)', ['class']);
  private readonly reconnects = this.counter('vigil_stream_reconnects_total', 'Streams subscribed again after the first time, by stream', ['stream']);
  private readonly disconnects = this.counter('vigil_stream_disconnects_total', 'Streams lost (closed, or declared dead after a stall), by stream', ['stream']);
  private readonly notices = this.counter('vigil_notices_total', 'Operator notices, by level (alarm: needs a human)', ['level']);
  private readonly rateLimitWaits = this.counter('vigil_rate_limit_waits_total', 'Times a venue request waited for its rate limit, by scope', ['scope']);
  private readonly rateLimitWaitSeconds = this.counter('vigil_rate_limit_wait_seconds_total', 'Time venue requests spent waiting for their rate limit, by scope', ['scope']);
  private readonly queueWaits = this.counter('vigil_request_queue_waits_total', 'Requests that waited in the adapter\'s queue for their endpoint\'s limit, by endpoint', ['endpoint']);
  private readonly queueWaitSeconds = this.counter('vigil_request_queue_wait_seconds_total', 'Time requests waited in the adapter\'s queue for their endpoint\'s limit, by endpoint', ['endpoint']);
  private readonly signals = this.counter('vigil_signals_total', 'Signals received, by source (api, webhook) and result', ['source', 'result']);
  private readonly apiRequests = this.counter('vigil_api_requests_total', 'API requests, by route and status code', ['route', 'status']);
  private readonly unprotectedSeconds = new Histogram({
    name: 'vigil_unprotected_seconds', help: 'Per position: from the first evidence of its fill to a stop confirmed on the venue',
    buckets: unprotectedBucketsSeconds, registers: [this.registry],
  });

  private readonly phase = this.gauge('vigil_phase', 'The lifecycle phase (1 for the current one)', ['phase']);
  private readonly halted = this.gauge('vigil_halted', '1 if the runtime halted on a broken invariant (no new risk; the venue keeps the stops)', []);
  private readonly streamUp = this.gauge('vigil_stream_up', '1 if the stream is subscribed, by stream', ['stream']);
  private readonly positionsOpen = this.gauge('vigil_positions_open', 'Open positions', []);
  private readonly positionsUnprotected = this.gauge('vigil_positions_unprotected', 'Open positions without a stop confirmed on the venue (external ones kept on watch apart)', []);
  private readonly positionsWatched = this.gauge('vigil_positions_watched', 'External positions kept on engine.externalPositions: watch (no stop, by choice)', []);
  private readonly unprotectedLongest = this.gauge('vigil_unprotected_seconds_longest', 'The longest time an open position has been without a confirmed stop, now', []);
  private readonly activeIntents = this.gauge('vigil_active_intents', 'Intents not yet done (entering, open or exiting)', []);
  private readonly remembered = this.gauge('vigil_state_entries', 'What the engine holds in memory (and in each journal snapshot): intents, orders, execution ids; what settled is forgotten after engine.retainSettledMinutes', ['kind']);
  private readonly walletBalance = this.gauge('vigil_wallet_balance_usdt', 'The settlement coin balance as last reported by the venue', []);
  private readonly walletEquity = this.gauge('vigil_wallet_equity_usdt', 'The equity (balance plus unrealised PnL) as last reported by the venue', []);
  private readonly lastReconciledSeconds = this.gauge('vigil_last_reconciliation_timestamp_seconds', 'When the last reconciliation ran (unix seconds; 0: none yet)', []);

  constructor(deps: MetricsDeps) {
    this.deps = deps;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  get lastReconciliation(): ReconciliationSummary | null {
    return this.last;
  }

  get streamReconnects(): Readonly<Record<StreamName, number>> {
    return { ...this.reconnectCounts };
  }

  /** The runtime's onApplied hook: every event applied and the commands it produced. */
  observeApplied(event: Event, commands: readonly Command[]): void {
    this.events.inc({ type: event.type });
    switch (event.type) {
      case 'OrderSubmitRejected':
        this.orderRejections.inc({ code: event.code });
        break;
      case 'OrderSubmitUnknown':
        this.orderUnknown.inc();
        break;
      case 'StreamConnected':
        if (this.connectedOnce.has(event.stream)) {
          this.reconnects.inc({ stream: event.stream });
          this.reconnectCounts[event.stream] += 1;
        }
        this.connectedOnce.add(event.stream);
        break;
      case 'StreamDisconnected':
        this.disconnects.inc({ stream: event.stream });
        break;
      default:
        break;
    }
    for (const command of commands) {
      if (command.type === 'SubmitOrder') this.ordersSubmitted.inc({ role: parseClientOrderId(this.deps.state.config.botId, command.clientOrderId)?.role ?? 'other' });
      if (command.type === 'Record' && command.record.kind === 'fill') this.fills.inc({ symbol: command.record.fill.symbol });
      if ((command.type === 'AmendOrder' && command.amendment.triggerTicks !== undefined) || (command.type === 'SetPositionStop' && command.change.kind === 'stop-loss')) {
        this.stopChanges.inc({ symbol: command.symbol });
      }
    }
  }

  /** The runtime's onNotice hook: notices by level, reconciliations and their drift, unprotected time per position. */
  observeNotice(notice: Notice, atMs: number): void {
    this.notices.inc({ level: notice.level });
    if (notice.code === 'reconciled') this.onReconciled(notice, atMs);
    const afterMs = notice.code === 'stop-working' ? notice.data?.afterFirstFillMs : undefined;
    if (afterMs !== undefined) this.unprotectedSeconds.observe(afterMs / 1_000);
  }

  /** For venue adapters: a request waited `waitMs` for its rate limit. */
  observeRateLimitWait(scope: string, waitMs: number): void {
    this.rateLimitWaits.inc({ scope });
    this.rateLimitWaitSeconds.inc({ scope }, waitMs / 1_000);
  }

  /** For venue adapters: a request waited `waitedMs` in the adapter's own queue before it left. */
  observeQueueWait(endpoint: string, waitedMs: number): void {
    this.queueWaits.inc({ endpoint });
    this.queueWaitSeconds.inc({ endpoint }, waitedMs / 1_000);
  }

  observeSignal(source: SignalSourceLabel, result: SignalResult): void {
    this.signals.inc({ source, result });
  }

  observeApiRequest(route: string, status: number): void {
    this.apiRequests.inc({ route, status: String(status) });
  }

  /** The exposition text, with the state gauges read now. */
  async text(): Promise<string> {
    this.refreshGauges();
    return this.registry.metrics();
  }

  private onReconciled(notice: Notice, atMs: number): void {
    const reason = /^reconciled \(([a-z-]+)\)/.exec(notice.text)?.[1] ?? 'unknown';
    const drift: Record<string, number> = {};
    for (const [name, count] of Object.entries(notice.data ?? {})) {
      if (name === 'runs') continue;
      drift[name] = count;
      if (count > 0) this.drift.inc({ class: name }, count);
    }
    this.reconciliations.inc({ reason });
    this.last = { atMs, reason, text: notice.text, drift };
  }

  private refreshGauges(): void {
    const { state } = this.deps;
    for (const phase of phases) this.phase.set({ phase }, state.lifecycle.phase === phase ? 1 : 0);
    this.halted.set(this.deps.halted() ? 1 : 0);
    const connections = this.deps.connections();
    for (const stream of streams) this.streamUp.set({ stream }, connections[stream] === 'up' ? 1 : 0);
    let open = 0;
    for (const position of state.positions.values()) if (effectiveSizeLots(position) !== 0) open += 1;
    this.positionsOpen.set(open);
    const unprotected = unprotectedNow(state, this.deps.nowMs());
    this.positionsUnprotected.set(unprotected.positions);
    this.positionsWatched.set(unprotected.watched);
    this.unprotectedLongest.set(unprotected.longestMs / 1_000);
    let active = 0;
    for (const intent of state.intents.values()) if (isActive(intent)) active += 1;
    this.activeIntents.set(active);
    this.remembered.set({ kind: 'intents' }, state.intents.size);
    this.remembered.set({ kind: 'orders' }, state.orders.size);
    this.remembered.set({ kind: 'execution_ids' }, state.fillIds.size);
    if (state.wallet !== null) {
      this.walletBalance.set(state.wallet.walletBalanceE8 / e8PerUnit);
      this.walletEquity.set(state.wallet.equityE8 / e8PerUnit);
    }
    this.lastReconciledSeconds.set(this.last === null ? 0 : this.last.atMs / 1_000);
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}
