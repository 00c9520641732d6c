// Benchmark: the cost of the SQLite journal, measured in the same run as its baseline.
//
//  1. Engine throughput with the journal: recorded engine input logs (seeded simulations) replayed
//     through the runtime's loop (append the batch, step each event, hand the ledger records over),
//     with the in-memory journal and with SQLite at each durability, for several group-commit batch
//     sizes. The ratio in-memory / SQLite is the journal's cost (target <= 2).
//  2. Restart: a one-million-event journal from one long simulated session, recovered (open, load
//     the newest snapshot, replay the tail, project its ledger records) with and without snapshots.
//
//   node bench/journal.ts [--events N] [--passes N]

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LedgerRecord } from '../src/core/commands.ts';
import { step } from '../src/core/engine/step.ts';
import type { Event } from '../src/core/events.ts';
import { createEngineState } from '../src/core/state.ts';
import { recover } from '../src/journal/recovery.ts';
import type { Durability } from '../src/journal/sqlite.ts';
import { SqliteJournal } from '../src/journal/sqlite.ts';
import type { Journal } from '../src/shell/ports.ts';
import { InMemoryJournal } from '../src/shell/ports.ts';
import { instrument } from '../src/sim/instruments.ts';
import { noFaults } from '../src/sim/network.ts';
import { Rng } from '../src/sim/rng.ts';
import { simEpochMs } from '../src/sim/scheduler.ts';
import { worldForSeed } from '../src/sim/swarm.ts';
import { RandomWorkload } from '../src/sim/workload.ts';
import { SimWorld } from '../src/sim/world.ts';
import { randomWalk } from '../src/venues/sim/prices.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, passes: { type: 'string', default: '3' } } });
const restartEvents = Number(values.events);
const passes = Number(values.passes);
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-journal-'));
const format = (value: number): string => Math.round(value).toLocaleString('en-US');

// 1. Throughput.

type Log = { readonly events: readonly Event[]; readonly botId: string; readonly attachedStops: boolean };
const logs: Log[] = [];
for (let seed = 1, count = 0; count < 150_000; seed += 1) {
  const { world } = worldForSeed(seed, { forcedFaults: { ...noFaults, crashes: false } });
  world.run({ stepsMax: 10_000_000, untilMs: world.settleUntilMs });
  const events = [...world.journal.entries()];
  logs.push({ events, botId: world.runtime.state.config.botId, attachedStops: world.runtime.state.config.attachedStops });
  count += events.length;
}
const eventCount = logs.reduce((sum, log) => sum + log.events.length, 0);

/** The runtime's loop without its inbox: append a batch, step each event, hand over the records. */
function run(journal: Journal, batchSize: number): number {
  let commands = 0;
  for (const log of logs) {
    const state = createEngineState({ botId: log.botId, attachedStops: log.attachedStops });
    const records: LedgerRecord[] = [];
    for (let start = 0; start < log.events.length; start += batchSize) {
      const batch = log.events.slice(start, start + batchSize);
      journal.append(batch);
      for (const event of batch) {
        for (const command of step(state, event)) {
          commands += 1;
          if (command.type === 'Record') records.push(command.record);
        }
      }
      journal.applied?.(state, records.splice(0, records.length));
    }
  }
  return commands;
}

let files = 0;
/** Times one pass with a journal opened (and its schema created) before the clock starts. */
function timedRun(open: () => Journal, batchSize: number): number {
  const journal = open();
  const ms = timeMs(() => run(journal, batchSize));
  if (journal instanceof SqliteJournal) journal.close();
  return ms;
}

const memoryJournal = (): Journal => new InMemoryJournal();
const sqlite = (durability: Durability) => (): Journal => SqliteJournal.open(join(dir, `t${++files}.db`), { durability });

function timeMs(body: () => void): number {
  const started = performance.now();
  body();
  return performance.now() - started;
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
}

console.log(`bench/journal, node ${process.version}`);
console.log(`  1. engine + journal: ${format(eventCount)} events from ${logs.length} simulated sessions, per group-commit batch size (median of ${passes})`);
console.log(`     ${'batch'.padStart(7)} ${'in memory'.padStart(12)} ${'sqlite normal'.padStart(14)} ${'ratio'.padStart(6)} ${'sqlite full'.padStart(12)} ${'ratio'.padStart(6)}   events/s`);
for (const batchSize of [1, 10, 100, 1_000]) {
  const memory: number[] = [];
  const normal: number[] = [];
  const full: number[] = [];
  timedRun(memoryJournal, batchSize); // warm-up
  timedRun(sqlite('normal'), batchSize);
  // A synced commit costs a disk flush: with batches that small, `full` is bound by the disk (see below).
  const syncs = batchSize >= 100;
  for (let pass = 0; pass < passes; pass += 1) {
    memory.push(timedRun(memoryJournal, batchSize));
    normal.push(timedRun(sqlite('normal'), batchSize));
    if (syncs) full.push(timedRun(sqlite('full'), batchSize));
  }
  const perSecond = (ms: number): number => (eventCount * 1000) / ms;
  const [m, n, f] = [median(memory), median(normal), median(full)];
  const fullText = syncs ? `${format(perSecond(f)).padStart(12)} ${(f / m).toFixed(2).padStart(6)}` : `${'-'.padStart(12)} ${'-'.padStart(6)}`;
  console.log(`     ${String(batchSize).padStart(7)} ${format(perSecond(m)).padStart(12)} ${format(perSecond(n)).padStart(14)} ${(n / m).toFixed(2).padStart(6)} ${fullText}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
}

{
  const synced = SqliteJournal.open(join(dir, 'sync.db'), { durability: 'full' });
  const commits: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const event = logs[0]?.events[i];
    if (event !== undefined) commits.push(timeMs(() => synced.append([event])));
  }
  synced.close();
  console.log(`     a synced commit (durability full) takes ${median(commits).toFixed(2)} ms on this machine's disk (median of ${commits.length}): under load the`);
  console.log('     runtime\'s inbox fills meanwhile and the next batch carries everything that arrived (group commit)');
}

// 2. Restart.

const snapshotEvery = 50_000;
const path = join(tmpdir(), `vigil-bench-restart-${process.pid}.db`);
const long = longSession(restartEvents, path);
const journal = SqliteJournal.open(path);
const size = journal.size;
const snapshotSeq = journal.latestSnapshot()?.seq ?? 0;
journal.close();
const config = { botId: 'sim', attachedStops: long.attachedStops };
const withSnapshot: number[] = [];
const withoutSnapshot: number[] = [];
for (let pass = 0; pass < passes; pass += 1) {
  withSnapshot.push(timeMs(() => {
    const reopened = SqliteJournal.open(path);
    recover(reopened, config);
    reopened.close();
  }));
}
const stripped = SqliteJournal.open(path);
stripped.database.exec('DELETE FROM snapshots');
stripped.close();
for (let pass = 0; pass < passes; pass += 1) {
  withoutSnapshot.push(timeMs(() => {
    const reopened = SqliteJournal.open(path);
    recover(reopened, config);
    reopened.close();
  }));
}
console.log(`  2. restart from a journal of ${format(size)} events (one ${Math.round(long.virtualMs / 60_000)}-minute session, 4 symbols; open + load + replay + project, median of ${passes})`);
console.log(`     with its newest snapshot (at ${format(snapshotSeq)}, ${format(size - snapshotSeq)} events to replay, one every ${format(snapshotEvery)}): ${median(withSnapshot).toFixed(0)} ms (target < 1000)`);
console.log(`     without a snapshot (replay all ${format(size)}): ${median(withoutSnapshot).toFixed(0)} ms`);
for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
rmSync(dir, { recursive: true, force: true });

/** One long session of four symbols with a busy workload, journaled to `file`, until it holds `events` events. */
function longSession(events: number, file: string): { readonly virtualMs: number; readonly attachedStops: boolean } {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const rng = new Rng(7);
  const stepMs = 25;
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'];
  const virtualMs = Math.ceil((events * stepMs) / symbols.length / stepMs) * stepMs;
  const starts: Readonly<Record<string, number>> = { BTCUSDT: 650_000, ETHUSDT: 300_000, SOLUSDT: 15_000, DOGEUSDT: 20_000 };
  const world = SimWorld.create({
    seed: 7,
    symbols: symbols.map((symbol) => ({
      instrument: instrument(symbol),
      prices: randomWalk(rng.fork(), { symbol, startTicks: starts[symbol] ?? 10_000, startMs: simEpochMs + 1, stepMs, steps: Math.floor(virtualMs / stepMs), volatilityBps: 3, jumpChance: 0.001, jumpBps: 100 }),
    })),
    network: {
      restRequest: { min: 5, max: 40 }, restReply: { min: 5, max: 40 }, privateStream: { min: 2, max: 20 }, publicStream: { min: 1, max: 10 },
      streamSetup: { min: 50, max: 200 }, restTimeoutMs: 1_500, faults: noFaults,
    },
    venue: { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 1, partialFillChance: 0.2, fillPartsMax: 3, limitPartialChance: 0.2 },
    engine: { attachedStops: true },
    workload: new RandomWorkload({
      actionEveryMs: { min: 200, max: 2_000 }, untilMs: virtualMs, closeChance: 0.1, manualOrderChance: 0.02, limitEntryChance: 0.25,
      takeProfitChance: 0.5, invalidChance: 0.02, repeatChance: 0.02, restartEveryMs: 0,
    }),
    activeMs: virtualMs,
    journalPath: file,
    journalOptions: { durability: 'off', snapshotEveryEvents: snapshotEvery },
  });
  world.run({ stepsMax: 100_000_000, untilMs: world.activeUntilMs });
  world.close();
  return { virtualMs, attachedStops: true };
}
