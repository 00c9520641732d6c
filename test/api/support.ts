// An operator API in-process for tests: the real engine, runtime, SQLite journal (its ledger serves
// /api/fills), metrics and HTTP server, with a recording gateway in place of a venue and a clock the
// test moves by hand. `trading()` runs the startup lifecycle against an empty venue with SOLUSDT at
// 150.00, so a test starts where an operator would send the first signal. Every event the API hands
// the engine is kept in `received`, and every log line in `logs`. With `webhookSecret`, POST
// /webhook is on.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandOf } from '../../src/core/commands.ts';
import type { ClientOrderId, ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import type { EngineConfig } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { ApiEngine } from '../../src/api/server.ts';
import { Metrics } from '../../src/api/metrics.ts';
import { ApiServer } from '../../src/api/server.ts';
import type { ConnectionState } from '../../src/api/views.ts';
import { fillView } from '../../src/api/views.ts';
import type { ProtectionConfig } from '../../src/config/protection.ts';
import { Secret } from '../../src/config/secret.ts';
import { SqliteJournal } from '../../src/journal/sqlite.ts';
import type { Clock, Incoming, VenueCommand, VenueGateway } from '../../src/shell/ports.ts';
import { Runtime } from '../../src/shell/runtime.ts';
import { instrument } from '../../src/sim/instruments.ts';

export const token = 'test-token-0123456789abcdef';
export const webhookSecret = 'hook-secret-Zq81x0PLm3';
export const sol = instrument('SOLUSDT');
/** SOLUSDT's last price in the tests: 150.00 (tick 0.01). */
export const solTicks = 15_000;

/** A clock the test moves; timers run when it passes them. */
export class ManualClock implements Clock {
  private now = 1_800_000_000_000;
  private readonly timers: { readonly atMs: number; readonly run: () => void }[] = [];

  nowMs(): number {
    return this.now;
  }

  schedule(fireAtMs: number, onFire: () => void): void {
    this.timers.push({ atMs: fireAtMs, run: onFire });
  }

  advance(ms: number): void {
    this.now += ms;
    const due = this.timers.filter((timer) => timer.atMs <= this.now);
    for (const timer of due) this.timers.splice(this.timers.indexOf(timer), 1);
    for (const timer of due) timer.run();
  }
}

export class RecordingGateway implements VenueGateway {
  readonly commands: VenueCommand[] = [];

  execute(command: VenueCommand): void {
    this.commands.push(command);
  }

  submits(): CommandOf<'SubmitOrder'>[] {
    return this.commands.filter((command): command is CommandOf<'SubmitOrder'> => command.type === 'SubmitOrder');
  }
}

export type Harness = {
  readonly base: string;
  readonly clock: ManualClock;
  readonly gateway: RecordingGateway;
  readonly runtime: Runtime;
  readonly metrics: Metrics;
  readonly journal: SqliteJournal;
  readonly logs: string[];
  /** Every event the API handed to the engine, in order. */
  readonly received: Incoming[];
  readonly connections: Record<'private' | 'public', ConnectionState>;
  deliver(incoming: Incoming): void;
  /** Started, streams up, an empty snapshot reconciled, SOLUSDT at 150.00. */
  trading(): void;
  request(path: string, init?: { readonly method?: string; readonly body?: unknown; readonly token?: string | null; readonly headers?: Record<string, string> }): Promise<{ status: number; json: Record<string, unknown>; text: string; headers: Headers }>;
  close(): Promise<void>;
};

export type HarnessOptions = {
  readonly engine?: Partial<EngineConfig>;
  readonly signalsPerSecond?: number;
  readonly protection?: ProtectionConfig;
  readonly webhookSecret?: string;
  readonly webhookPerSecond?: number;
};

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'vigil-api-'));
  const journal = SqliteJournal.open(join(directory, 'journal.sqlite'), { durability: 'off', ledgerEveryMs: 0 });
  const clock = new ManualClock();
  const gateway = new RecordingGateway();
  const state = createEngineState({ botId: 'api', ...options.engine });
  const connections: Record<'private' | 'public', ConnectionState> = { private: 'down', public: 'down' };
  const metrics = new Metrics({ state, connections: () => connections, halted: () => runtime.halt !== null, nowMs: () => clock.nowMs() });
  const runtime = new Runtime({
    state, clock, journal, gateway,
    onApplied: (event, commands) => metrics.observeApplied(event, commands),
    onNotice: (notice, atMs) => metrics.observeNotice(notice, atMs),
  });
  const logs: string[] = [];
  const received: Incoming[] = [];
  const engine: ApiEngine = {
    get state() {
      return runtime.state;
    },
    get halt() {
      return runtime.halt;
    },
    receive(incoming) {
      received.push(incoming);
      runtime.receive(incoming);
    },
    drain: () => runtime.drain(),
  };
  const server = new ApiServer({
    engine, metrics, token: new Secret('VIGIL_API_TOKEN', token), nowMs: () => clock.nowMs(), signalsPerSecond: options.signalsPerSecond ?? 100,
    connections: () => connections, fills: (limit) => journal.ledger.recentFills(limit).map(fillView),
    about: { botId: 'api', venue: 'test', dryRun: false, startedMs: clock.nowMs() }, log: (line) => logs.push(line), onFatal: () => undefined,
    ...(options.protection === undefined ? {} : { protection: options.protection }),
    ...(options.webhookSecret === undefined ? {} : { webhook: { secret: new Secret('VIGIL_WEBHOOK_SECRET', options.webhookSecret), signalsPerSecond: options.webhookPerSecond ?? 100 } }),
  });
  const address = await server.listen('127.0.0.1', 0);
  const base = `http://127.0.0.1:${address.port}`;
  const deliver = (incoming: Incoming): void => {
    runtime.receive(incoming);
    runtime.drain();
  };
  return {
    base, clock, gateway, runtime, metrics, journal, logs, received, connections, deliver,
    trading() {
      deliver({ type: 'InstrumentsLoaded', instruments: [sol] });
      deliver({ type: 'EngineStarted' });
      deliver({ type: 'StreamConnected', stream: 'public' });
      deliver({ type: 'StreamConnected', stream: 'private' });
      connections.private = 'up';
      connections.public = 'up';
      const fetch = gateway.commands.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
      if (fetch === undefined) throw new Error('no snapshot asked for');
      deliver({
        type: 'SnapshotReceived', snapshotId: fetch.snapshotId, positions: [], openOrders: [], fills: [], positionsVenueMs: clock.nowMs(), wallet: null,
        tickers: [{ symbol: 'SOLUSDT', lastTicks: solTicks, markTicks: solTicks, venueMs: clock.nowMs() }],
      });
      if (runtime.state.lifecycle.phase !== 'trading') throw new Error(`not trading: ${runtime.state.lifecycle.phase}`);
    },
    async request(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token !== null) headers.authorization = `Bearer ${init.token ?? token}`;
      if (init.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers,
        ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
      const text = await response.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON (/metrics)
      }
      return { status: response.status, json, text, headers: response.headers };
    },
    async close() {
      await server.close();
      journal.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The venue's side of a market entry that fills at once with its attached stop armed. */
export function fillEntry(harness: Harness, clientOrderId: string, lots: number, priceTicks: number, stopTicks: number | null): void {
  const now = harness.clock.nowMs();
  harness.deliver({ type: 'OrderSubmitAcked', commandId: 0, clientOrderId: clientOrderId as ClientOrderId, venueOrderId: `v-${clientOrderId}` as VenueOrderId });
  harness.deliver({
    type: 'FillReceived', source: 'stream', symbol: 'SOLUSDT', executionId: `x-${clientOrderId}` as ExecutionId, venueOrderId: `v-${clientOrderId}` as VenueOrderId,
    clientOrderId, side: 'buy', priceTicks, lots, feeE8: 8_250_000, liquidity: 'taker', venueMs: now, seq: 10, positionTrigger: null,
  });
  harness.deliver({
    type: 'PositionUpdated', source: 'stream', symbol: 'SOLUSDT', sizeLots: lots, entryPrice: '150', stopLossTicks: stopTicks, takeProfitTicks: null, trailingTicks: null, seq: 10, venueUpdatedMs: now,
  });
}
