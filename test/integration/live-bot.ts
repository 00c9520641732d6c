// The whole bot in this process against the Bybit v5 emulator over real sockets: the engine, the
// runtime, the stream supervisor and the real ccxt client inside the Bybit adapter, on the real
// clock. Tests wait on the bot's state or notices (re-checked after every event it applies), never
// on a fixed sleep. `startLiveGateway` is the adapter's gateway alone, for tests of the commands the
// engine gives it: each command awaited by its command id until the one event it ends in.

import assert from 'node:assert/strict';
import { parseClientOrderId } from '../../src/core/ids.ts';
import { effectiveSizeLots } from '../../src/core/position/position.ts';
import type { EmulatorServer } from '../../src/emulator/server.ts';
import type { Command, Notice } from '../../src/core/commands.ts';
import type { Event } from '../../src/core/events.ts';
import type { EngineConfig, EngineState } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import { RealClock } from '../../src/shell/clock.ts';
import type { Incoming, VenueCommand } from '../../src/shell/ports.ts';
import { InMemoryJournal } from '../../src/shell/ports.ts';
import { Runtime } from '../../src/shell/runtime.ts';
import { StreamSupervisor } from '../../src/shell/streams.ts';
import type { BybitVenue } from '../../src/venues/bybit/live.ts';
import { createBybitVenue } from '../../src/venues/bybit/live.ts';

export type LiveBot = {
  readonly runtime: Runtime;
  readonly state: EngineState;
  readonly venue: BybitVenue;
  readonly notices: Notice[];
  /** Every event applied, in order, with the commands it produced. */
  readonly applied: { readonly event: Event; readonly commands: readonly Command[] }[];
  readonly log: string[];
  send(incoming: Incoming): void;
  /** Resolves when `predicate` holds (checked now and after every event applied), or rejects after `timeoutMs`. */
  until(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

export async function startLiveBot(port: number, symbols: readonly string[], engine: Partial<EngineConfig> = {}, requestTimeoutMs = 2_000): Promise<LiveBot> {
  const notices: Notice[] = [];
  const applied: LiveBot['applied'] = [];
  const log: string[] = [];
  const waiters = new Set<() => void>();
  const check = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const clock = new RealClock({ afterFire: () => drain() });
  const deliver = (incoming: Incoming): void => {
    runtime.receive(incoming);
    drain();
  };
  const base = `http://127.0.0.1:${port}`;
  const venue = createBybitVenue(
    { network: 'custom', restUrl: base, wsPublicUrl: `ws://127.0.0.1:${port}/v5/public/linear`, wsPrivateUrl: `ws://127.0.0.1:${port}/v5/private`, apiKey: 'testkey', apiSecret: 'testsecret', requestTimeoutMs },
    { clock, deliver, log: (line) => log.push(line) },
  );
  const runtime: Runtime = new Runtime({
    state: createEngineState({ botId: 'it', ...engine }), clock, journal: new InMemoryJournal(), gateway: venue.gateway,
    onNotice: (notice) => notices.push(notice),
    onApplied: (event, commands) => applied.push({ event, commands }),
  });
  const drain = (): void => {
    runtime.drain();
    check();
  };
  const supervisor = new StreamSupervisor({
    clock, transport: venue.streams, random: Math.random, report: deliver, onNotice: (notice) => notices.push(notice),
  });
  const instruments = await venue.start(symbols);
  deliver({ type: 'InstrumentsLoaded', instruments });
  deliver({ type: 'EngineStarted' });
  supervisor.start();
  const until = (what: string, predicate: () => boolean, timeoutMs = 8_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; the last notices:\n${notices.slice(-12).map((notice) => `${notice.code}: ${notice.text}`).join('\n')}\nadapter log:\n${log.slice(-8).join('\n')}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
      waiter();
    });
  return {
    runtime, state: runtime.state, venue, notices, applied, log,
    send: deliver,
    until,
    async stop() {
      supervisor.stop();
      clock.stop();
      await venue.close();
    },
  };
}

/** The Bybit adapter's gateway alone (no engine): each command's events collected, awaited by its command id. */
export type LiveGateway = {
  readonly venue: BybitVenue;
  /** Every event the gateway delivered, in order. */
  readonly delivered: Incoming[];
  readonly log: string[];
  /** Executes the command and resolves with the first event about its command id (rejects after `timeoutMs`). */
  execute(command: Exclude<VenueCommand, { readonly type: 'FetchSnapshot' }>, timeoutMs?: number): Promise<Incoming>;
  /** How many events were delivered about a command id: a gateway ends each command in exactly one. */
  eventsOf(commandId: number): number;
  /** Asks for a snapshot with fills since `fillsSinceMs`; resolves with its SnapshotReceived or SnapshotFailed. */
  snapshot(snapshotId: number, fillsSinceMs: number, timeoutMs?: number): Promise<Incoming>;
  stop(): Promise<void>;
};

export async function startLiveGateway(port: number, symbols: readonly string[], requestTimeoutMs = 2_000, recvWindowMs?: number): Promise<LiveGateway> {
  const delivered: Incoming[] = [];
  const log: string[] = [];
  const waiters = new Map<number, (incoming: Incoming) => void>();
  const commandIdOf = (incoming: Incoming): number | null => ('commandId' in incoming ? incoming.commandId : null);
  const snapshotWaiters = new Map<number, (incoming: Incoming) => void>();
  const clock = new RealClock();
  const venue = createBybitVenue(
    { network: 'custom', restUrl: `http://127.0.0.1:${port}`, wsPublicUrl: `ws://127.0.0.1:${port}/v5/public/linear`, wsPrivateUrl: `ws://127.0.0.1:${port}/v5/private`, apiKey: 'testkey', apiSecret: 'testsecret', requestTimeoutMs, ...(recvWindowMs === undefined ? {} : { recvWindowMs }) },
    {
      clock, log: (line) => log.push(line),
      deliver: (incoming) => {
        delivered.push(incoming);
        const commandId = commandIdOf(incoming);
        if (commandId !== null) waiters.get(commandId)?.(incoming);
        if (incoming.type === 'SnapshotReceived' || incoming.type === 'SnapshotFailed') snapshotWaiters.get(incoming.snapshotId)?.(incoming);
      },
    },
  );
  await venue.start(symbols);
  return {
    venue, delivered, log,
    execute: (command, timeoutMs = 8_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event for ${command.type} ${command.commandId} within ${timeoutMs} ms; adapter log:\n${log.slice(-8).join('\n')}`)), timeoutMs);
      waiters.set(command.commandId, (incoming) => {
        clearTimeout(timer);
        resolve(incoming);
      });
      venue.gateway.execute(command);
    }),
    eventsOf: (commandId) => delivered.filter((incoming) => commandIdOf(incoming) === commandId).length,
    snapshot: (snapshotId, fillsSinceMs, timeoutMs = 8_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no snapshot ${snapshotId} within ${timeoutMs} ms; adapter log:\n${log.slice(-8).join('\n')}`)), timeoutMs);
      snapshotWaiters.set(snapshotId, (incoming) => {
        clearTimeout(timer);
        resolve(incoming);
      });
      venue.gateway.execute({ type: 'FetchSnapshot', commandId: snapshotId, snapshotId, fillsSinceMs });
    }),
    async stop() {
      clock.stop();
      await venue.close();
    },
  };
}

/** The checks every scenario ends with, against the emulator's ground truth. */
export async function assertConverged(live: LiveBot, server: EmulatorServer): Promise<void> {
  // No event lost: every fill the venue made is in the engine's state (pushed, or read in a snapshot).
  await live.until('every venue fill booked', () => server.audit().fills.every((fill) => live.state.fillIds.has(fill.executionId)));
  const audit = server.audit();
  const entries = new Map<string, number>();
  for (const submission of audit.submissions) {
    const parsed = submission.clientOrderId === null ? null : parseClientOrderId('it', submission.clientOrderId);
    if (parsed?.role === 'entry') entries.set(parsed.intentId, (entries.get(parsed.intentId) ?? 0) + 1);
  }
  assert.deepEqual([...entries].filter(([, count]) => count > 1), [], 'no intent sent two entries');
  for (const position of audit.positions) {
    const engine = [...live.state.positions.values()].find((candidate) => candidate.symbol === position.symbol);
    assert.equal(engine === undefined ? 0 : effectiveSizeLots(engine), position.sizeLots, `${position.symbol}: the engine's size is the venue's`);
    if (position.sizeLots !== 0) assert.ok(position.protected, `${position.symbol}: protected on the venue`);
  }
  // Streams before writes: no entry or take-profit left while the private stream was down.
  let privateUp = false;
  const blindWrites: string[] = [];
  for (const { event, commands } of live.applied) {
    if ((event.type === 'StreamConnected' || event.type === 'StreamDisconnected') && event.stream === 'private') privateUp = event.type === 'StreamConnected';
    for (const command of commands) {
      const role = command.type === 'SubmitOrder' ? parseClientOrderId('it', command.clientOrderId)?.role : undefined;
      if (!privateUp && (role === 'entry' || role === 'take-profit')) blindWrites.push(command.type === 'SubmitOrder' ? command.clientOrderId : '');
    }
  }
  assert.deepEqual(blindWrites, [], 'no write while the private stream was down');
  assert.deepEqual(server.problems, [], 'the emulator met no bug');
  assert.ok(!live.notices.some((notice) => notice.code === 'halted'), 'the runtime never halted');
}
