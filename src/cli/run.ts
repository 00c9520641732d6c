// `vigil run --config FILE [--dry-run]`: the bot as an operator runs it. Everything `vigil bot` does
// (the engine, its journal recovered on every start, the runtime, the stream supervisor, the real
// clock), configured by a file instead of flags, against a live venue (Bybit, or the simulated venue
// of `vigil venue`), with the operator API (src/api) in the same process.
//
// Order of events: the configuration is loaded and validated, and every secret it names read from
// the environment, before anything else: a bad file exits 2 naming each field and what is wrong,
// and touches neither the journal nor the venue. Then the journal is opened and the state recovered
// (`openBotState`), the API starts listening (so /api/health shows the start itself), the venue is
// asked for the instruments (a refusal, such as bad credentials, exits 1 with its reason), and the
// engine boots: InstrumentsLoaded, EngineStarted, and only then the streams; the lifecycle does
// the rest (a snapshot once the private stream is up, trading once it is reconciled). Notices are
// printed one per line. SIGTERM or SIGINT stops it cleanly (a final snapshot, exit 0); a halted
// runtime stops it with exit 1 (the venue keeps the stops).
//
// Secrets: the venue's key and secret and the API token exist only as `Secret`s (they never print
// themselves) and are revealed only to the venue adapter and the token check. No log line names
// more than the environment variable they came from.
//
// Dry run: see `dryRunGateway` below.

import type { Notice } from '../core/commands.ts';
import type { StreamName } from '../core/events.ts';
import { assertNever } from '../core/assert.ts';
import type { Instrument } from '../core/instrument.ts';
import type { EngineConfig } from '../core/state.ts';
import type { GridChange } from '../core/engine/lifecycle.ts';
import { gridChanges } from '../core/engine/lifecycle.ts';
import { ApiServer } from '../api/server.ts';
import { Metrics } from '../api/metrics.ts';
import type { ConnectionState } from '../api/views.ts';
import { fillView } from '../api/views.ts';
import type { RunSecrets } from '../config/load.ts';
import { ConfigError, loadConfigFile, resolveSecrets } from '../config/load.ts';
import type { ProtectionConfig } from '../config/protection.ts';
import { externalPlanOf, restoredPlanOf, strategyExtrasOf } from '../config/protection.ts';
import type { RunConfig, VenueConfig } from '../config/schema.ts';
import { SqliteJournal } from '../journal/sqlite.ts';
import { RealClock } from '../shell/clock.ts';
import type { Clock, Incoming, VenueCommand, VenueGateway } from '../shell/ports.ts';
import { InstrumentWatch } from '../shell/instrument-watch.ts';
import { Runtime } from '../shell/runtime.ts';
import { StreamSupervisor } from '../shell/streams.ts';
import { TpCycle } from '../strategies/tp-cycle.ts';
import type { LiveVenue, LiveVenueDeps } from '../venues/port.ts';
import { createBybitVenue } from '../venues/bybit/live.ts';
import { loopbackSimVenue } from '../venues/sim/remote.ts';
import type { BotState } from './bot.ts';
import { noticeLine, openBotState } from './bot.ts';
import { parseFlags, UsageError } from './args.ts';

export const runUsage = `usage: vigil run --config FILE [--dry-run]
  --config FILE  the bot's configuration, YAML or JSON: bot id, journal, symbols, strategy, engine options,
                 venue, operator API (see the README, "Live mode"); secrets are never in it: it names the
                 environment variables that hold them
  --dry-run      connect, reconcile and serve the API, but send no order (every order is refused as a dry run)`;

/** The reason every order gets in a dry run (the engine shows it, the API answers with it). */
export const dryRunReason = 'dry run: no orders are sent';

/** Far above a round trip to the venue: a reply that is only slow is not made an unknown outcome. */
const requestTimeoutMs = 10_000;
/** A stop that hangs (a socket that will not close) must not keep a stopped bot alive forever. */
const shutdownGraceMs = 5_000;

export async function runRunCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(runUsage);
    return 0;
  }
  const values = parseFlags(argv, { config: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } });
  if (values.config === undefined) throw new UsageError('--config FILE is required (YAML or JSON)');
  let config: RunConfig;
  let secrets: RunSecrets;
  try {
    config = loadConfigFile(values.config);
    secrets = resolveSecrets(config, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`vigil run: ${error.message}`);
    return 2;
  }
  return runLive({ ...config, dryRun: config.dryRun || values['dry-run'] }, secrets);
}

/**
 * The dry run's gateway. Reads pass (FetchSnapshot, QueryOrder: reconciliation needs them); every
 * write (SubmitOrder, CancelOrder, AmendOrder, SetPositionStop) is answered as the venue answers a
 * refusal, with the code `not-sent` and `dryRunReason`, a moment later (never inside the step that sent it).
 * Rejection, not silence: the port promises that every command ends in exactly one event. An
 * order swallowed without one would stay "submitted" in the engine's eyes, blocking its symbol
 * and being asked about as if it might exist; a rejection is the truth (the order was not
 * placed), so the engine ends the intent with that reason, says so, and its view of the venue
 * stays exact: the next reconciliation finds no drift.
 */
export function dryRunGateway(gateway: VenueGateway, deliverLater: (incoming: Incoming) => void): VenueGateway {
  return {
    execute(command: VenueCommand): void {
      switch (command.type) {
        case 'FetchSnapshot':
        case 'QueryOrder':
          gateway.execute(command);
          return;
        case 'SubmitOrder':
          deliverLater({ type: 'OrderSubmitRejected', commandId: command.commandId, clientOrderId: command.clientOrderId, code: 'not-sent', reason: dryRunReason });
          return;
        case 'CancelOrder':
          deliverLater({ type: 'OrderCancelRejected', commandId: command.commandId, clientOrderId: command.clientOrderId, code: 'not-sent', reason: dryRunReason });
          return;
        case 'AmendOrder':
          deliverLater({ type: 'OrderAmendRejected', commandId: command.commandId, clientOrderId: command.clientOrderId, code: 'not-sent', reason: dryRunReason });
          return;
        case 'SetPositionStop':
          deliverLater({ type: 'PositionStopRejected', commandId: command.commandId, symbol: command.symbol, code: 'not-sent', reason: dryRunReason });
          return;
        default:
          assertNever(command);
      }
    },
  };
}


/** What a venue adapter gets, its rate-limit waits counted in vigil_rate_limit_waits_total. */
type VenueDeps = LiveVenueDeps & { readonly onRateLimitWait: (scope: string, waitMs: number) => void };

function createVenue(venue: VenueConfig, secrets: RunSecrets, deps: VenueDeps): LiveVenue {
  switch (venue.kind) {
    case 'sim': {
      const [host = '127.0.0.1', port = '0'] = venue.address.split(':');
      return loopbackSimVenue({ host, port: Number(port) }, deps, requestTimeoutMs);
    }
    case 'bybit': {
      if (secrets.venue === null) throw new Error('the Bybit venue needs its key and secret'); // resolveSecrets reads them for bybit
      return createBybitVenue({
        network: venue.network, apiKey: secrets.venue.apiKey.reveal(), apiSecret: secrets.venue.apiSecret.reveal(),
        ...(venue.restUrl === undefined ? {} : { restUrl: venue.restUrl }),
        ...(venue.wsPublicUrl === undefined ? {} : { wsPublicUrl: venue.wsPublicUrl }),
        ...(venue.wsPrivateUrl === undefined ? {} : { wsPrivateUrl: venue.wsPrivateUrl }),
        ...(venue.recvWindowMs === undefined ? {} : { recvWindowMs: venue.recvWindowMs }),
      }, deps);
    }
    default:
      return assertNever(venue);
  }
}

function describeVenue(venue: VenueConfig): string {
  return venue.kind === 'sim' ? `sim ${venue.address}` : `bybit ${venue.network}${venue.network === 'custom' ? ` (${venue.restUrl ?? '?'})` : ''}`;
}

/**
 * The engine's settings from the file; adopted positions get the external plan (its stop wins over
 * engine.externalStopPercent), positions of ours restored without the journal their symbol's.
 */
export function engineConfigOf(config: RunConfig): Partial<EngineConfig> {
  const { engine } = config;
  const external = externalPlanOf(config.protection, engine.externalStopPercent);
  return {
    botId: config.botId, attachedStops: engine.attachedStops, stopTriggerBy: engine.stopTriggerBy, externalPositions: engine.externalPositions,
    externalStopPercent: external.stopPercent, externalProtection: external.protection,
    restoredProtection: restoredPlanOf(config.protection, config.symbols, config.strategy.kind !== 'none'), foreignOrders: engine.foreignOrders, reconcileEveryMs: engine.reconcileEveryMs,
    takerFeePpm: Math.round(engine.takerFeePercent * 10_000), retainSettledMs: engine.retainSettledMinutes * 60_000, debugNotices: config.log.debug,
    closeBeforeDelistingMs: engine.closeBeforeDelistingMinutes === null ? null : Math.round(engine.closeBeforeDelistingMinutes * 60_000),
  };
}

/** Runs until a signal or a halt; resolves to the exit code. */
async function runLive(config: RunConfig, secrets: RunSecrets): Promise<number> {
  let bot: LiveBot;
  try {
    bot = new LiveBot(config, secrets);
  } catch (error) {
    console.error(`vigil run: ${messageOf(error)}`);
    return 1;
  }
  return bot.run();
}

/**
 * One bot process: the venue, the journal and state, the runtime, the supervisor, the metrics and
 * the API, wired once; `run` boots it and resolves to the exit code once it has stopped.
 */
class LiveBot {
  private readonly config: RunConfig;
  private readonly startedMs = Date.now();
  // Every input is applied at once: after a timer (the clock's hook) and after anything delivered.
  private readonly clock = new RealClock({ afterFire: () => this.runtime.drain() });
  private readonly venue: LiveVenue;
  private readonly bot: BotState;
  private readonly metrics: Metrics;
  private readonly runtime: Runtime;
  private readonly supervisor: StreamSupervisor;
  private readonly api: ApiServer;
  private readonly exited = Promise.withResolvers<number>();
  private readonly onSignal = (signal: NodeJS.Signals): void => this.stop(0, signal);
  private stopped = false;

  /** Throws, with a message for the operator, when the venue cannot be set up or the journal not recovered. */
  constructor(config: RunConfig, secrets: RunSecrets) {
    this.config = config;
    const deliver = (incoming: Incoming): void => this.deliver(incoming);
    try {
      this.venue = createVenue(config.venue, secrets, {
        clock: this.clock, deliver, log: say,
        onRateLimitWait: (scope, waitMs) => this.metrics.observeRateLimitWait(scope, waitMs),
        onQueueWait: (endpoint, waitedMs) => this.metrics.observeQueueWait(endpoint, waitedMs),
      });
    } catch (error) {
      throw new Error(`venue: ${messageOf(error)}`, { cause: error });
    }
    try {
      this.bot = openBotState(config.journal, engineConfigOf(config));
    } catch (error) {
      void this.venue.close();
      // Named by its path (SQLite's own messages do not say which file); the journal's say it already.
      const text = messageOf(error);
      throw new Error(text.startsWith('journal ') ? text : `journal ${config.journal}: ${text}`, { cause: error });
    }
    const connections = (): Record<StreamName, ConnectionState> => ({ private: this.supervisor.status('private'), public: this.supervisor.status('public') });
    this.metrics = new Metrics({ state: this.bot.state, connections, halted: () => this.runtime.halt !== null, nowMs: () => this.clock.nowMs() });
    this.runtime = new Runtime({
      state: this.bot.state, clock: this.clock, journal: this.bot.journal,
      gateway: config.dryRun ? dryRunGateway(this.venue.gateway, laterOn(this.clock, deliver)) : this.venue.gateway,
      onApplied: (event, commands) => this.metrics.observeApplied(event, commands),
      onNotice: (notice, atMs) => this.onNotice(notice, atMs),
    });
    this.supervisor = new StreamSupervisor({
      clock: this.clock, transport: this.venue.streams, random: Math.random, report: deliver, onNotice: (notice) => this.onNotice(notice, this.clock.nowMs()),
    });
    const journal = this.bot.journal;
    this.api = new ApiServer({
      engine: this.runtime, metrics: this.metrics, token: secrets.apiToken, nowMs: () => this.clock.nowMs(), signalsPerSecond: config.api.signalsPerSecond, connections,
      fills: (limit) => (journal instanceof SqliteJournal ? journal.ledger.recentFills(limit).map(fillView) : []),
      about: { botId: config.botId, venue: describeVenue(config.venue), dryRun: config.dryRun, startedMs: this.startedMs },
      log: say,
      onFatal: (error) => this.stop(1, `applying a signal failed: ${messageOf(error)}`),
      protection: config.protection,
      ...(config.api.webhook === undefined || secrets.webhookSecret === null ? {} : { webhook: { secret: secrets.webhookSecret, signalsPerSecond: config.api.webhook.signalsPerSecond } }),
    });
  }

  /** Boots: the API first (so /api/health shows the start), then the venue's instruments, the engine and the streams. */
  async run(): Promise<number> {
    const { config } = this;
    process.on('SIGTERM', this.onSignal);
    process.on('SIGINT', this.onSignal);
    say(`vigil run: bot ${config.botId}, pid ${process.pid}, venue ${describeVenue(config.venue)}, symbols ${config.symbols.join(',')}, ` +
      `journal ${config.journal}, strategy ${config.strategy.kind}, stops ${config.engine.attachedStops ? 'attached' : 'separate'}` +
      (config.dryRun ? `, DRY RUN (${dryRunReason})` : ''));
    try {
      const address = await this.api.listen(config.api.host, config.api.port);
      say(`api listening on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port} (bearer token from $${config.api.tokenEnv})`);
      if (config.api.webhook !== undefined) say(`api: webhook on POST /webhook (its secret from $${config.api.webhook.secretEnv}, at most ${config.api.webhook.signalsPerSecond} a second)`);
      if (!isLoopback(address.host)) say(`api: WARNING: listening on ${address.host}, not loopback: plain HTTP, so the token crosses the network in clear; prefer an SSH tunnel or a TLS proxy`);
    } catch (error) {
      this.stop(1, `the API cannot listen on ${config.api.host}:${config.api.port}: ${messageOf(error)}`);
      return this.exited.promise;
    }
    let instruments: readonly Instrument[];
    try {
      instruments = await this.venue.start(config.symbols);
    } catch (error) {
      this.stop(1, `the venue refused to start: ${messageOf(error)}`);
      return this.exited.promise;
    }
    if (this.stopped) return this.exited.promise; // a signal came while the venue was asked
    const changed = gridChanges(this.runtime.state, instruments).filter((change) => change.live);
    if (changed.length > 0) {
      // Read in the new units, the journal's prices and sizes would be other prices and sizes (a
      // stop moved, a position's entry misread). The venue holds the stops meanwhile.
      this.stop(1, `the venue has changed ${describeChanges(changed)} since the journal ${config.journal} was written, and the journal holds a position or orders there ` +
        `in the old units. ${liveGridAdvice}`);
      return this.exited.promise;
    }
    this.deliver({ type: 'InstrumentsLoaded', instruments });
    this.deliver({ type: 'EngineStarted' });
    this.supervisor.start();
    if (config.venue.kind === 'bybit') this.watchInstruments(config.venue.instrumentsCheckMinutes * 60_000);
    startStrategy(config, this.clock, () => this.runtime.state, (incoming) => this.deliver(incoming));
    return this.exited.promise;
  }

  /**
   * Reads the instruments again every so often: a change of tick or lot stops the bot, saying what
   * to do; new limits and delistings are taken in (see src/shell/instrument-watch.ts).
   */
  private watchInstruments(everyMs: number): void {
    const { config } = this;
    const watch = new InstrumentWatch({
      clock: this.clock, everyMs, state: () => this.runtime.state, symbols: config.symbols,
      read: () => this.venue.readInstruments(config.symbols),
      onUpdate: (instruments) => this.deliver({ type: 'InstrumentsLoaded', instruments }),
      onReadFailed: (error) => say(`instruments: not read again (${messageOf(error)}); trying again in ${everyMs / 60_000} min`),
      onChange: (changes) => {
        const live = changes.filter((change) => change.live);
        this.stop(1, live.length > 0
          ? `the venue has changed ${describeChanges(live)} while the bot ran, and it holds a position or orders there in the old units. ${liveGridAdvice}`
          : `the venue has changed ${describeChanges(changes)} while the bot ran; nothing of the bot's is open there. The stops of its other positions stay on the venue. ` +
            'Start it again: it loads the new grid');
      },
    });
    watch.start();
  }

  /** Once stopping, nothing is delivered: the journal is about to close (a late reply is settled by the next start). */
  private deliver(incoming: Incoming): void {
    if (this.stopped) return;
    this.runtime.receive(incoming);
    this.runtime.drain();
  }

  private onNotice(notice: Notice, atMs: number): void {
    this.metrics.observeNotice(notice, atMs);
    say(noticeLine(notice, atMs));
    // The runtime says it halted (a broken invariant) with this notice: stop taking risk; the venue keeps the stops.
    // Stopped once the drain that halted has returned: it still hands the journal its batch, which must be open then.
    if (notice.code === 'halted') setImmediate(() => this.stop(1, notice.text));
  }

  private stop(code: number, why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    this.supervisor.stop();
    this.clock.stop();
    // The API and the venue stop taking and delivering at once (their close starts synchronously), then the journal closes.
    const closed = Promise.allSettled([this.api.close(), this.venue.close()]);
    this.bot.close(this.runtime.halt === null);
    say(`stopped: ${why}`);
    setTimeout(() => process.exit(code), shutdownGraceMs).unref();
    void closed.then(() => this.exited.resolve(code));
  }
}

const describeChanges = (changes: readonly GridChange[]): string => changes.map((change) => change.text).join('; ');

/** What to do when the venue changed the grid of a symbol the journal holds something live on. */
const liveGridAdvice = 'The stops stay on the venue. Move the journal aside and start again: the startup reconciliation restores the orders by their ids and ' +
  "adopts the positions with their symbol's configured plan, as a start without a journal does (the old file keeps the ledger's history)";

/** Delivery a moment later, on the clock: never inside the step whose command it answers. */
function laterOn(clock: Clock, deliver: (incoming: Incoming) => void): (incoming: Incoming) => void {
  return (incoming) => clock.schedule(clock.nowMs(), () => deliver(incoming));
}

/** A strategy's open request with what the configured plan adds to it (trigger price, trailing, aged: see strategyExtrasOf). */
export function withConfiguredPlan(protection: ProtectionConfig, request: Incoming): Incoming {
  if (request.type !== 'OpenRequested' || request.protection !== undefined) return request;
  const extras = strategyExtrasOf(protection, request.symbol);
  return extras === null ? request : { ...request, protection: extras };
}

/** The configured strategy, deciding on the clock; `none` leaves every decision to the operator's signals. */
function startStrategy(config: RunConfig, clock: Clock, state: () => Runtime['state'], deliverNow: (incoming: Incoming) => void): void {
  const settings = config.strategy;
  const deliver = (incoming: Incoming): void => deliverNow(withConfiguredPlan(config.protection, incoming));
  switch (settings.kind) {
    case 'none':
      return;
    case 'tp-cycle': {
      const { kind: _kind, decideEveryMs, ...tpCycle } = settings;
      const strategy = new TpCycle({ ...tpCycle, symbols: config.symbols });
      const decide = (): void => {
        for (const request of strategy.decide(state(), clock.nowMs())) deliver(request);
        clock.schedule(clock.nowMs() + decideEveryMs, decide);
      };
      clock.schedule(clock.nowMs() + decideEveryMs, decide);
      return;
    }
    default:
      assertNever(settings);
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function say(line: string): void {
  console.log(line);
}
