// Benchmark: venue events per second through decode -> step (and through parse -> decode ->
// journal -> step, with the in-memory journal and with SQLite), against the cost of JSON.parse
// alone on the same payloads, measured in the same run.
//
// The events are real engine input logs: seeded simulations (one to four symbols, an active
// workload, no faults) are run once and their journals kept. Every venue fact in them (tickers,
// order updates, fills, position and wallet updates) is encoded as the Bybit v5 WebSocket frame
// that carries it, shaped like the fixtures in test/fixtures/bybit-v5 (a ticker is a delta with the fields a
// live BTCUSDT delta carries: prices, best bid and ask, turnover, volume); the other inputs
// (requests, REST replies, timers) stay as they are. Each pass replays every log into a fresh engine.
//
//   node bench/engine.ts [--passes N]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LedgerRecord } from '../src/core/commands.ts';
import { SqliteJournal } from '../src/journal/sqlite.ts';
import type { Journal } from '../src/shell/ports.ts';
import { InMemoryJournal } from '../src/shell/ports.ts';
import { step } from '../src/core/engine/step.ts';
import type { Event } from '../src/core/events.ts';
import type { Instrument } from '../src/core/instrument.ts';
import { ticksToPrice } from '../src/core/instrument.ts';
import { createEngineState } from '../src/core/state.ts';
import { worldForSeed } from '../src/sim/swarm.ts';
import { decodeStreamMessage } from '../src/venues/bybit/decode.ts';
import {
  encodeExecutionMessage, encodeOrderMessage, encodePositionMessage, encodeTickerMessage, encodeWalletMessage,
} from '../src/venues/bybit/encode.ts';

type Input =
  | { readonly kind: 'frame'; readonly text: string; parsed: unknown; readonly atMs: number; readonly type: Event['type'] }
  | { readonly kind: 'event'; readonly event: Event };

const { values } = parseArgs({ options: { passes: { type: 'string', default: '7' } } });
const passes = Number(values.passes);

type Log = {
  readonly events: readonly Event[]; readonly inputs: readonly Input[]; readonly botId: string; readonly attachedStops: boolean;
  readonly instruments: ReadonlyMap<string, Instrument>;
};

const framesWanted = 200_000;

function recordLog(seed: number): Log {
  const { world } = worldForSeed(seed, {
    forcedFaults: { duplicateChance: 0, reorderChance: 0, requestLostChance: 0, replyLostChance: 0, streamFaultEveryMs: 0, staleSnapshotChance: 0, crashes: false },
  });
  // Heartbeats and the periodic reconciliation keep the queue busy forever: run to the session's end.
  world.run({ stepsMax: 10_000_000, untilMs: world.settleUntilMs });
  const { config, instruments } = world.runtime.state;
  const events = [...world.journal.entries()];
  return { events, inputs: events.map((event) => encode(event, instruments)), botId: config.botId, attachedStops: config.attachedStops, instruments };
}

function encode(event: Event, instruments: ReadonlyMap<string, Instrument>): Input {
  const frame = (value: unknown): Input => ({ kind: 'frame', text: JSON.stringify(value), parsed: null, atMs: event.atMs, type: event.type });
  switch (event.type) {
    case 'TickerUpdated': {
      const instrument = instruments.get(event.symbol);
      if (instrument === undefined) throw new Error(`no instrument ${event.symbol}`);
      const message = encodeTickerMessage(event.symbol, event.lastTicks, event.markTicks, event.venueMs, instrument, 'delta', event.venueMs);
      const last = event.lastTicks ?? 1;
      Object.assign(message.data, {
        bid1Price: ticksToPrice(instrument, last - 1), bid1Size: '23789.165', ask1Price: ticksToPrice(instrument, last), ask1Size: '23775.469',
        turnover24h: '4936790807.6521', volume24h: '73191.3870',
      });
      return frame(message);
    }
    case 'OrderUpdated':
      return frame(encodeOrderMessage([event], instruments, event.atMs));
    case 'FillReceived':
      return frame(encodeExecutionMessage([event], instruments, event.atMs));
    case 'PositionUpdated':
      return frame(encodePositionMessage([event], instruments, event.atMs));
    case 'WalletUpdated':
      return frame(encodeWalletMessage(event));
    default:
      return { kind: 'event', event };
  }
}

const logs: Log[] = [];
for (let seed = 1, count = 0; count < framesWanted; seed += 1) {
  const log = recordLog(seed);
  logs.push(log);
  count += log.inputs.filter((input) => input.kind === 'frame').length;
}
const inputs = logs.flatMap((log) => log.inputs);
const frames = inputs.filter((input): input is Extract<Input, { kind: 'frame' }> => input.kind === 'frame');
const bytes = frames.reduce((sum, frame) => sum + frame.text.length, 0);
const mix = new Map<string, number>();
for (const frame of frames) mix.set(frame.type, (mix.get(frame.type) ?? 0) + 1);

const freshState = (log: Log) => createEngineState({ botId: log.botId, attachedStops: log.attachedStops });

function parseOnly(): number {
  let sink = 0;
  for (const frame of frames) sink += (JSON.parse(frame.text) as { data?: unknown }).data === undefined ? 0 : 1;
  return sink;
}

type Frame = Extract<Input, { kind: 'frame' }>;

/** Replays every log into a fresh engine, each frame turned into an object by `objectOf`. */
function replay(objectOf: (frame: Frame) => unknown): number {
  let commands = 0;
  for (const log of logs) {
    const state = freshState(log);
    for (const input of log.inputs) {
      if (input.kind === 'event') {
        commands += step(state, input.event).length;
        continue;
      }
      const decoded = decodeStreamMessage(objectOf(input), { instruments: state.instruments, atMs: input.atMs, source: 'stream' });
      if (!decoded.ok) throw new Error(decoded.error);
      for (const event of decoded.events) commands += step(state, event).length;
    }
  }
  return commands;
}

/** The engine proper: decode and step on frames JSON.parse has already turned into objects. */
const decodeStep = (): number => replay((frame) => frame.parsed);
const parseDecodeStep = (): number => replay((frame) => JSON.parse(frame.text));

/**
 * The runtime's pipeline with a journal: inputs arrive in batches of `batchInputs` (what the inbox
 * holds when the runtime looks), each frame is parsed and decoded, the batch is journaled (one
 * group commit), then stepped, and the ledger records handed back to the journal.
 */
function journaled(open: () => Journal, batchInputs: number): number {
  let commands = 0;
  const journal = open();
  for (const log of logs) {
    const state = freshState(log);
    for (let start = 0; start < log.inputs.length; start += batchInputs) {
      const batch: Event[] = [];
      for (const input of log.inputs.slice(start, start + batchInputs)) {
        if (input.kind === 'event') {
          batch.push(input.event);
          continue;
        }
        // Decoded as the stream supervisor would, with the instruments the bot loaded at start.
        const decoded = decodeStreamMessage(JSON.parse(input.text), { instruments: log.instruments, atMs: input.atMs, source: 'stream' });
        if (!decoded.ok) throw new Error(decoded.error);
        for (const event of decoded.events) batch.push(event);
      }
      journal.append(batch);
      const records: LedgerRecord[] = [];
      for (const event of batch) {
        for (const command of step(state, event)) {
          commands += 1;
          if (command.type === 'Record') records.push(command.record);
        }
      }
      journal.applied?.(state, records);
    }
  }
  if (journal instanceof SqliteJournal) journal.close();
  return commands;
}

const journalDir = mkdtempSync(join(tmpdir(), 'vigil-bench-engine-'));
let journalFiles = 0;
const journalBatch = 100;
const withMemoryJournal = (): number => journaled(() => new InMemoryJournal(), journalBatch);
const withSqliteJournal = (): number => journaled(() => SqliteJournal.open(join(journalDir, `e${++journalFiles}.db`), { durability: 'normal' }), journalBatch);

/** The private stream's messages alone (orders, fills, positions, wallet): the adapter's decode against JSON.parse. */
const privateFrames = logs.flatMap((log) => log.inputs.flatMap((input) => (input.kind === 'frame' && input.type !== 'TickerUpdated' ? [{ input, log }] : [])));
function privateParseOnly(): number {
  let sink = 0;
  for (const { input } of privateFrames) sink += (JSON.parse(input.text) as { data?: unknown }).data === undefined ? 0 : 1;
  return sink;
}
function privateDecodeOnly(): number {
  let events = 0;
  for (const { input, log } of privateFrames) {
    const decoded = decodeStreamMessage(input.parsed, { instruments: log.instruments, atMs: input.atMs, source: 'stream' });
    if (!decoded.ok) throw new Error(decoded.error);
    events += decoded.events.length;
  }
  return events;
}

const predecodedCount = logs.reduce((sum, log) => sum + log.events.length, 0);
function stepOnly(): number {
  let commands = 0;
  for (const log of logs) {
    const state = freshState(log);
    for (const event of log.events) commands += step(state, event).length;
  }
  return commands;
}

function timeNs(run: () => number): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

for (const frame of frames) frame.parsed = JSON.parse(frame.text);

// Warm up every path, then interleave the measurements so drift hits them alike.
for (let i = 0; i < 3; i += 1) {
  parseOnly();
  decodeStep();
  parseDecodeStep();
  stepOnly();
  withMemoryJournal();
  withSqliteJournal();
  privateParseOnly();
  privateDecodeOnly();
}
const parseTimes: number[] = [];
const engineTimes: number[] = [];
const fullTimes: number[] = [];
const stepTimes: number[] = [];
const memoryJournalTimes: number[] = [];
const privateParseTimes: number[] = [];
const privateDecodeTimes: number[] = [];
const sqliteJournalTimes: number[] = [];
for (let i = 0; i < passes; i += 1) {
  parseTimes.push(timeNs(parseOnly));
  engineTimes.push(timeNs(decodeStep));
  fullTimes.push(timeNs(parseDecodeStep));
  stepTimes.push(timeNs(stepOnly));
  privateParseTimes.push(timeNs(privateParseOnly));
  privateDecodeTimes.push(timeNs(privateDecodeOnly));
  memoryJournalTimes.push(timeNs(withMemoryJournal));
  sqliteJournalTimes.push(timeNs(withSqliteJournal));
}
rmSync(journalDir, { recursive: true, force: true });

// Per venue frame; the engine's work on the other inputs (requests, replies, timers) is charged
// to the frames too, so the engine figure is an upper bound.
const parseNs = median(parseTimes) / frames.length;
const engineNs = median(engineTimes) / frames.length;
const fullNs = median(fullTimes) / frames.length;
const stepOnlyPerSecond = (predecodedCount * 1e9) / median(stepTimes);
const format = (value: number): string => Math.round(value).toLocaleString('en-US');

console.log(`bench/engine: ${format(frames.length)} venue frames from ${logs.length} simulated sessions (${(bytes / frames.length).toFixed(0)} bytes on average) + ${format(inputs.length - frames.length)} other inputs, median of ${passes} passes, node ${process.version}`);
console.log(`  mix: ${[...mix].map(([type, count]) => `${type} ${((100 * count) / frames.length).toFixed(1)}%`).join(', ')}`);
console.log(`  JSON.parse alone:                 ${parseNs.toFixed(0).padStart(5)} ns/event  ${format(1e9 / parseNs).padStart(10)} events/s`);
console.log(`  engine: decode + step (parsed):   ${engineNs.toFixed(0).padStart(5)} ns/event  ${format(1e9 / engineNs).padStart(10)} events/s  ratio to JSON.parse ${(engineNs / parseNs).toFixed(2)} (target <= 1.0)`);
console.log(`  end to end: parse + decode + step: ${fullNs.toFixed(0).padStart(4)} ns/event  ${format(1e9 / fullNs).padStart(10)} events/s`);
console.log(`  step alone (pre-decoded events):                    ${format(stepOnlyPerSecond).padStart(10)} events/s`);
const privateParseNs = median(privateParseTimes) / privateFrames.length;
const privateDecodeNs = median(privateDecodeTimes) / privateFrames.length;
console.log(`  private stream messages (${format(privateFrames.length)}): JSON.parse ${privateParseNs.toFixed(0)} ns, decode (parsed) ${privateDecodeNs.toFixed(0)} ns: ratio ${(privateDecodeNs / privateParseNs).toFixed(2)} (target <= 2)`);
const memoryNs = median(memoryJournalTimes) / frames.length;
const sqliteNs = median(sqliteJournalTimes) / frames.length;
console.log(`  end to end with the journal, batches of ${journalBatch} inputs: in memory ${memoryNs.toFixed(0)} ns/event (${format(1e9 / memoryNs)}/s), ` +
  `SQLite (durability normal) ${sqliteNs.toFixed(0)} ns/event (${format(1e9 / sqliteNs)}/s): ratio ${(sqliteNs / memoryNs).toFixed(2)} (target <= 2)`);
