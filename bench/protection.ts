// Benchmark: the protection policies' cost per ticker, for many symbols with open positions, and how
// many changes of the stop they send to the venue per 1,000 tickers with and without coalescing.
// Target: bot-managed trailing adds no more than 10 % to the engine's per-tick cost.
//
// Prices are the bundled one-minute candles (data/candles) on the simulated venue's intrabar path
// (src/venues/sim/prices.ts: open, low, high, close, or open, high, low, close, five points a leg),
// one candle every 4 s: 16 tickers a candle, 250 ms apart. Each symbol takes a different window of
// one of the three series, scaled by 0.5 to 1.5, every other group of three backwards, so 200
// symbols follow 200 paths. Every symbol holds a position (longs and shorts alternate, 1,000 USDT,
// stop 2 % away) with its stop acknowledged before the clock starts.
//
// Each run is recorded once, untimed: the engine trades against the simulated venue with no
// latency (one venue per symbol, so that a ticker looks only at its own symbol's orders; their ids
// are made unique, and their wallet reports left out, there being no one account). Every command
// is answered at once: an amend by its reply, then the venue's report of the order; a position
// stop by its reply, then the position's report. A ticker comes first, then whatever it set off on
// the venue (a stop filling). Timers fire when the tickers pass their time; a symbol whose position
// closed is opened again on its next ticker. The engine's inputs are kept, and the timed passes
// replay them into fresh engines, the heap collected before each: only the engine is timed, and
// each pass must make the recording's commands. A ticker reaches `step` four ways, each timed: as
// the engine's event (step alone); decoded from its Bybit v5 frame, already parsed (decode + step,
// bench/engine's headline); from the frame's text, parsed, decoded and stepped; and through the
// runtime's whole pipeline, the SQLite journal included (DESIGN.md's engine throughput: parse ->
// step -> journal; see replayPipeline). ns/tick is a pass's time over its tickers, the work on every
// other input charged to the tickers; it is then split by input (the clock read only where one kind
// of input follows another): the tickers' own steps, the answers to amends and position stops,
// timers, and the rest (positions closing and opening again: requests, orders, fills).
//
// Each run is recorded and timed in a node process of its own (see inChild), in rounds, the order
// of the runs turned each round. A process's figure is its fastest pass (see fastestPass); a run's
// is the median of its rounds, and a ratio the median of the ratios within each round, printed
// with their range.
//
// Runs (separate: the stop is an order, moved by AmendOrder; attached: the position's own stop,
// moved by SetPositionStop):
//   plain stop      no policies: the engine's per-tick cost without them;
//   plain, its exits  the plain stop, each position closed (CloseRequested) on the ticker after
//                   which the trailing run's closed: the trailing's trading without the trailing,
//                   the baseline of what the trailing itself adds (recorded after that run);
//   trailing        bot-managed, from 0.5 % in profit, 1 % behind the best price, at most one
//                   change of the stop a second: the changes in between coalesce;
//   dormant         the trailing never activates (50 % away);
//   held            activated, but at most one change an hour: the trailing evaluated on every
//                   ticker, the venue's stop held back (what the evaluation costs by itself);
//   trailing, 0 ms  the same without coalescing: every tightening ticker moves the stop, one
//                   change in flight;
//   min move        the trailing, its stop moved only by 0.2 % of the price or more (minMove);
//   full plan       two take-profits (1.5 % and 3 %, half each), the stop to breakeven after the
//                   first, trailing as above, and the aged exit (after 2 min, stepping every 10 s
//                   after 30 s more, at market at 5 min).
//
//   node bench/protection.ts [--rounds N] [--passes N] [--symbols N] [--runs WORD,...]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Command, LedgerRecord } from '../src/core/commands.ts';
import { step } from '../src/core/engine/step.ts';
import type { Event, EventOf } from '../src/core/events.ts';
import type { ExecutionId, VenueOrderId } from '../src/core/ids.ts';
import type { Instrument } from '../src/core/instrument.ts';
import { defineInstrument, ticksToPrice } from '../src/core/instrument.ts';
import type { ProtectionRequest } from '../src/core/protection/plan.ts';
import type { EngineConfig, EngineState } from '../src/core/state.ts';
import { createEngineState } from '../src/core/state.ts';
import { encodeBatch } from '../src/journal/codec.ts';
import { SqliteJournal } from '../src/journal/sqlite.ts';
import { loadCandles } from '../src/shell/candles.ts';
import type { VenueCommand } from '../src/shell/ports.ts';
import { isVenueCommand } from '../src/shell/ports.ts';
import { bybitLinearSpecs } from '../src/sim/instruments.ts';
import { Rng } from '../src/sim/rng.ts';
import { decodeStreamMessage } from '../src/venues/bybit/decode.ts';
import { encodeTickerMessage } from '../src/venues/bybit/encode.ts';
import type { Candle } from '../src/venues/sim/prices.ts';
import { candlePath } from '../src/venues/sim/prices.ts';
import type { OrderReply } from '../src/venues/sim/rest.ts';
import { answerOrderCommand } from '../src/venues/sim/rest.ts';
import type { VenueFact } from '../src/venues/sim/venue.ts';
import { SimVenue } from '../src/venues/sim/venue.ts';

// Before any code runs long enough to be flushed: the heap figures would move with it.
setFlagsFromString('--no-flush-bytecode');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const { values } = parseArgs({
  options: { passes: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' }, symbols: { type: 'string', default: '200' }, runs: { type: 'string' }, child: { type: 'string' } },
});
const passes = Number(values.passes);
const rounds = Number(values.rounds);
const symbolCount = Number(values.symbols);
if (!(Number.isSafeInteger(passes) && passes >= 1)) throw new Error(`--passes must be a whole number >= 1: ${values.passes ?? ''}`);
if (!(Number.isSafeInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number >= 1: ${values.rounds ?? ''}`);
if (!(Number.isSafeInteger(symbolCount) && symbolCount >= 1 && symbolCount <= 999)) throw new Error(`--symbols must be 1 to 999: ${values.symbols ?? ''}`);

/** Points on each leg of a candle's path. */
const pointsPerSegment = 5;
const tickersPerCandle = 3 * pointsPerSegment + 1;
const tickEveryMs = 250;
const candleMs = tickersPerCandle * tickEveryMs;
const candlesPerSymbol = 94; // 1,504 tickers a symbol: about 300,000 for 200 symbols
const targetRatio = 1.1;

// Instruments and prices.

const baseSeries = ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'] as const;
const seriesCandles = baseSeries.map((symbol) => loadCandles(symbol));

/** Symbol `index` trades like one of the three bundled series (its tick and lot), as S001USDT and so on. */
function instrumentFor(index: number): Instrument {
  const base = bybitLinearSpecs.find((spec) => spec.symbol === baseSeries[index % baseSeries.length]);
  if (base === undefined) throw new Error('no base instrument');
  const parsed = defineInstrument({ ...base, symbol: `S${String(index + 1).padStart(3, '0')}USDT` });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** The symbol's window of its series (97 candles further on for each symbol), scaled, maybe backwards, from `startMs`. */
function candlesFor(index: number, startMs: number): Candle[] {
  const series = seriesCandles[index % baseSeries.length] ?? [];
  const from = (index * 97) % (series.length - candlesPerSymbol);
  const window = series.slice(from, from + candlesPerSymbol);
  const scale = 0.5 + ((index * 0.618_034) % 1);
  const backwards = Math.floor(index / baseSeries.length) % 2 === 1;
  const ordered = backwards ? window.reverse().map((candle) => ({ ...candle, open: candle.close, close: candle.open })) : window;
  return ordered.map((candle, at) => ({
    openMs: startMs + at * candleMs, open: candle.open * scale, high: candle.high * scale, low: candle.low * scale, close: candle.close * scale, volume: candle.volume,
  }));
}

const instruments = Array.from({ length: symbolCount }, (_, index) => instrumentFor(index));
const indexBySymbol = new Map(instruments.map((instrument, index) => [instrument.symbol, index]));
/** tickers[slot][symbol], in time order (symbols staggered inside the 250 ms); one copy for every run. */
const tickers: EventOf<'TickerUpdated'>[][] = Array.from({ length: candlesPerSymbol * tickersPerCandle }, () => []);
for (const [index, instrument] of instruments.entries()) {
  const staggerMs = Math.floor((index * tickEveryMs) / symbolCount);
  const points = candlePath(instrument.symbol, instrument, candlesFor(index, 1_000 + staggerMs), { pointsPerSegment, candleMs });
  for (const [slot, point] of points.entries()) {
    tickers[slot]?.push({ type: 'TickerUpdated', atMs: point.atMs, symbol: point.symbol, lastTicks: point.lastTicks, markTicks: point.lastTicks, venueMs: point.atMs });
  }
}

/**
 * Each ticker as the live bot receives it: the text of a Bybit v5 tickers delta with the fields a
 * live one carries (prices, best bid and ask, turnover, volume; as bench/engine.ts builds them).
 */
const frameOf = new Map<Event, string>();
/** The same frames as JSON.parse makes them, for decode + step alone. */
const parsedOf = new Map<Event, unknown>();
for (const slot of tickers) {
  for (const ticker of slot) {
    const instrument = instruments[indexBySymbol.get(ticker.symbol) ?? -1];
    if (instrument === undefined || ticker.lastTicks === null) throw new Error(`${ticker.symbol}: no instrument or price`);
    const message = encodeTickerMessage(ticker.symbol, ticker.lastTicks, ticker.markTicks, ticker.venueMs, instrument, 'delta', ticker.venueMs);
    Object.assign(message.data, {
      bid1Price: ticksToPrice(instrument, ticker.lastTicks - 1), bid1Size: '23789.165', ask1Price: ticksToPrice(instrument, ticker.lastTicks), ask1Size: '23775.469',
      turnover24h: '4936790807.6521', volume24h: '73191.3870',
    });
    frameOf.set(ticker, JSON.stringify(message));
    parsedOf.set(ticker, JSON.parse(JSON.stringify(message)));
  }
}

// The runs.

const trailing = { mode: 'bot', activation: { percent: 0.5 }, callback: { percent: 1 }, amendEveryMs: 1_000 } as const;
const fullPlan: ProtectionRequest = {
  ladder: [{ target: { percent: 1.5 }, sizePercent: 50 }, { target: { percent: 3 }, sizePercent: 50 }],
  breakevenAfterFirstTarget: true,
  trailing,
  aged: { maxAgeMs: 120_000, graceMs: 30_000, step: { percent: 0.1 }, stepEveryMs: 10_000, hardLimitMs: 300_000 },
};

type Run = {
  readonly name: string;
  readonly attachedStops: boolean;
  readonly protection: ProtectionRequest | null;
  readonly baseline: string | null;
  /** Closes each position (CloseRequested) on the ticker after which that run's position on the symbol had closed. */
  readonly exitsOf?: string;
};
const allRuns: readonly Run[] = [
  { name: 'separate: plain stop', attachedStops: false, protection: null, baseline: null },
  { name: 'separate: trailing', attachedStops: false, protection: { trailing }, baseline: 'separate: plain stop' },
  { name: 'separate: plain, its exits', attachedStops: false, protection: null, baseline: 'separate: plain stop', exitsOf: 'separate: trailing' },
  { name: 'separate: trailing, dormant', attachedStops: false, protection: { trailing: { ...trailing, activation: { percent: 50 } } }, baseline: 'separate: plain stop' },
  { name: 'separate: trailing, held', attachedStops: false, protection: { trailing: { ...trailing, amendEveryMs: 3_600_000 } }, baseline: 'separate: plain stop' },
  { name: 'separate: trailing, 0 ms', attachedStops: false, protection: { trailing: { ...trailing, amendEveryMs: 0 } }, baseline: 'separate: plain stop' },
  { name: 'separate: trailing, min move', attachedStops: false, protection: { trailing: { ...trailing, minMove: { percent: 0.2 } } }, baseline: 'separate: plain stop' },
  { name: 'separate: full plan', attachedStops: false, protection: fullPlan, baseline: 'separate: plain stop' },
  { name: 'attached: plain stop', attachedStops: true, protection: null, baseline: null },
  { name: 'attached: trailing', attachedStops: true, protection: { trailing }, baseline: 'attached: plain stop' },
  { name: 'attached: plain, its exits', attachedStops: true, protection: null, baseline: 'attached: plain stop', exitsOf: 'attached: trailing' },
];
/**
 * `--runs` picks runs by a word of their names (`--runs separate`, `--runs "plain,full"`); a run's
 * baseline always comes along, and a trailing run and the plain run with its exits come together.
 */
const picked = new Set(values.runs === undefined ? allRuns : allRuns.filter((run) => values.runs?.split(',').some((word) => word.trim() !== '' && run.name.includes(word.trim()))));
for (let size = -1; size !== picked.size;) {
  size = picked.size;
  for (const run of allRuns) {
    if ([...picked].some((other) => other.baseline === run.name || other.exitsOf === run.name || run.exitsOf === other.name)) picked.add(run);
  }
}
const runs = allRuns.filter((run) => picked.has(run));
if (runs.length === 0) throw new Error(`--runs ${values.runs ?? ''}: no run's name has that in it: ${allRuns.map((run) => run.name).join('; ')}`);

// Recording: the engine against the simulated venues, untimed.

/**
 * The inputs by kind: tickers; the answers to changes of orders and position stops (the reply and
 * the venue's report: amends of stops and of aged exits, SetPositionStop); review timers (and the
 * stop deadlines); everything else (positions closing and opening: requests, orders, fills).
 */
const kinds = ['tickers', 'amends', 'timers', 'other', 'acting tickers'] as const;
/** `tickerKind`: a ticker whose step sent the venue nothing; `actingKind`: one that sent something (moved the stop, closed). */
const [tickerKind, amendKind, timerKind, otherKind, actingKind] = [0, 1, 2, 3, 4] as const;
type Kind = typeof tickerKind | typeof amendKind | typeof timerKind | typeof otherKind | typeof actingKind;

type Recording = {
  readonly run: Run;
  readonly config: Partial<EngineConfig>;
  /** Up to every symbol holding a position with its stop acknowledged. */
  readonly setup: readonly Event[];
  /** The timed inputs: every ticker after the first of each symbol, and all that followed from them. */
  readonly inputs: readonly Event[];
  /** What each input is, for the time spent on each kind (`kinds`). */
  readonly kinds: Uint8Array;
  readonly tickers: number;
  readonly commands: number;
  /** AmendOrder of a stop's trigger, SetPositionStop. */
  readonly stopChanges: number;
  readonly closed: number;
  readonly snapshots: number;
  /** The policies' full evaluations (EngineState.counters.policyEvaluations): their work, counted, not timed. */
  readonly evaluations: number;
  /** The timed tickers (by their place among them) after which a position was found closed. */
  readonly exits: ReadonlySet<number>;
};

/** The simulated venues, one per symbol, seen as one: ids made unique by the venue's number. */
class Venues {
  private readonly venues: SimVenue[];
  private readonly facts: { readonly index: number; readonly fact: VenueFact }[] = [];

  constructor() {
    this.venues = instruments.map((instrument, index) => new SimVenue({
      instruments: [instrument], makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 0, partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0,
      rng: new Rng(index + 1), startingBalanceE8: 1e15,
    }, (fact) => this.facts.push({ index, fact })));
  }

  setPrice(ticker: EventOf<'TickerUpdated'>): void {
    if (ticker.lastTicks === null) throw new Error(`${ticker.symbol}: a ticker without a price`);
    this.venueOf(ticker.symbol).setPrice(ticker.atMs, ticker.symbol, ticker.lastTicks);
  }

  answer(command: Exclude<VenueCommand, { readonly type: 'FetchSnapshot' }>, atMs: number): Event {
    const symbol = command.type === 'SubmitOrder' ? command.spec.symbol : command.symbol;
    const index = this.indexOf(symbol);
    const reply: OrderReply = answerOrderCommand(this.venueOf(symbol), atMs, command);
    if (reply.type === 'OrderSubmitAcked') return { ...reply, atMs, venueOrderId: uniqueOrderId(index, reply.venueOrderId) };
    if (reply.type === 'OrderQueried') return { ...reply, atMs, report: reply.report === null ? null : { ...reply.report, venueOrderId: uniqueOrderId(index, reply.report.venueOrderId) } };
    return { ...reply, atMs };
  }

  snapshot(command: Extract<VenueCommand, { readonly type: 'FetchSnapshot' }>, atMs: number): Event {
    return {
      type: 'SnapshotReceived', atMs, snapshotId: command.snapshotId, positionsVenueMs: atMs, wallet: null,
      positions: this.venues.flatMap((venue) => venue.positionReports()),
      openOrders: this.venues.flatMap((venue, index) => venue.openOrders().map((report) => ({ ...report, venueOrderId: uniqueOrderId(index, report.venueOrderId) }))),
      fills: this.venues.flatMap((venue, index) => venue.fills().filter((fill) => fill.venueMs >= command.fillsSinceMs).map((fill) => uniqueFill(index, fill))),
      tickers: this.venues.flatMap((venue) => venue.tickers(atMs)),
    };
  }

  /** The facts emitted since the last call, as the engine's inputs; the ticker is `ticker` itself. */
  takeFacts(atMs: number, ticker: EventOf<'TickerUpdated'> | null): Event[] {
    const events: Event[] = [];
    for (const { index, fact } of this.facts.splice(0)) {
      switch (fact.kind) {
        case 'ticker':
          if (ticker !== null) events.push(ticker);
          break;
        case 'order':
          events.push({ type: 'OrderUpdated', atMs, source: 'stream', ...fact.report, venueOrderId: uniqueOrderId(index, fact.report.venueOrderId) });
          break;
        case 'fill':
          events.push({ type: 'FillReceived', atMs, source: 'stream', ...uniqueFill(index, fact.fill) });
          break;
        case 'position':
          events.push({ type: 'PositionUpdated', atMs, source: 'stream', ...fact.report });
          break;
        case 'wallet':
          break; // each venue has its own balance: no one account to report
      }
    }
    return events;
  }

  private indexOf(symbol: string): number {
    const index = indexBySymbol.get(symbol);
    if (index === undefined) throw new Error(`no venue for ${symbol}`);
    return index;
  }

  private venueOf(symbol: string): SimVenue {
    const venue = this.venues[this.indexOf(symbol)];
    if (venue === undefined) throw new Error(`no venue for ${symbol}`);
    return venue;
  }
}

const uniqueOrderId = (index: number, id: VenueOrderId): VenueOrderId => `${id}v${index}` as VenueOrderId;
const uniqueFill = <T extends { readonly venueOrderId: VenueOrderId; readonly executionId: ExecutionId }>(index: number, fill: T): T =>
  ({ ...fill, venueOrderId: uniqueOrderId(index, fill.venueOrderId), executionId: `${fill.executionId}v${index}` as ExecutionId });

/** Timers the engine armed, earliest first. */
class Timers {
  private readonly pending: { readonly timerId: number; readonly fireAtMs: number }[] = [];

  add(timerId: number, fireAtMs: number): void {
    let at = this.pending.length;
    while (at > 0 && (this.pending[at - 1]?.fireAtMs ?? 0) > fireAtMs) at -= 1;
    this.pending.splice(at, 0, { timerId, fireAtMs });
  }

  /** The first timer due at or before `atMs`, as its event; null if none. */
  takeDue(atMs: number): Event | null {
    const due = (this.pending[0]?.fireAtMs ?? Infinity) <= atMs ? this.pending.shift() : undefined;
    return due === undefined ? null : { type: 'TimerFired', atMs: due.fireAtMs, timerId: due.timerId };
  }
}

function record(run: Run, recorded: readonly Recording[]): Recording {
  const exitsToCopy = run.exitsOf === undefined ? null : recorded.find((recording) => recording.run.name === run.exitsOf)?.exits;
  if (exitsToCopy === undefined) throw new Error(`${run.name}: record ${run.exitsOf ?? ''} first`);
  const config: Partial<EngineConfig> = { botId: 'bench', attachedStops: run.attachedStops, reconcileEveryMs: 24 * 3_600_000 };
  const state = createEngineState(config);
  const venues = new Venues();
  const timers = new Timers();
  const setup: Event[] = [];
  const inputs: Event[] = [];
  const inputKinds: Kind[] = [];
  let log = setup;
  const counts = { commands: 0, stopChanges: 0, snapshots: 0 };
  const queue: { readonly event: Event; readonly kind: Kind }[] = [];
  const enqueue = (kind: Kind, events: readonly Event[]): void => {
    for (const event of events) queue.push({ event, kind });
  };

  const handle = (command: Command, atMs: number): void => {
    counts.commands += 1;
    if (command.type === 'StartTimer') timers.add(command.timerId, command.fireAtMs);
    if (!isVenueCommand(command)) return;
    if (command.type === 'FetchSnapshot') {
      counts.snapshots += 1;
      enqueue(otherKind, [venues.snapshot(command, atMs)]);
      return;
    }
    if (command.type === 'SetPositionStop' || (command.type === 'AmendOrder' && command.amendment.triggerTicks !== undefined)) counts.stopChanges += 1;
    const changes = command.type === 'AmendOrder' || command.type === 'SetPositionStop';
    enqueue(changes ? amendKind : otherKind, [venues.answer(command, atMs), ...venues.takeFacts(atMs, null)]);
  };
  /** Steps what is queued and everything the venue and the engine say in answer, until nothing is left. */
  const drain = (): void => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      log.push(next.event);
      const commands = step(state, next.event);
      if (log === inputs) inputKinds.push(next.kind === tickerKind && commands.some(isVenueCommand) ? actingKind : next.kind);
      for (const command of commands) handle(command, next.event.atMs);
    }
  };
  const settle = (kind: Kind, ...events: Event[]): void => {
    enqueue(kind, events);
    drain();
  };
  const tick = (ticker: EventOf<'TickerUpdated'>): void => {
    for (let due = timers.takeDue(ticker.atMs); due !== null; due = timers.takeDue(ticker.atMs)) settle(timerKind, due);
    venues.setPrice(ticker);
    // The ticker, then what it set off on the venue (a stop or a take-profit filling).
    for (const event of venues.takeFacts(ticker.atMs, ticker)) queue.push({ event, kind: event === ticker ? tickerKind : otherKind });
    drain();
  };
  const open = (index: number, atMs: number, attempt: number): void => {
    const symbol = instruments[index]?.symbol ?? '';
    settle(otherKind, {
      type: 'OpenRequested', atMs, requestId: `r${index}-${attempt}`, symbol, side: index % 2 === 0 ? 'buy' : 'sell', size: { notional: '1000' },
      entry: { kind: 'market' }, stopLoss: { percent: 2 }, takeProfit: null, ...(run.protection === null ? {} : { protection: run.protection }),
    });
  };

  settle(otherKind, { type: 'InstrumentsLoaded', atMs: 0, instruments }, { type: 'EngineStarted', atMs: 0 }, { type: 'StreamConnected', atMs: 0, stream: 'public' });
  settle(otherKind, { type: 'StreamConnected', atMs: 0, stream: 'private' });
  const [firstTickers = [], ...later] = tickers;
  for (const ticker of firstTickers) tick(ticker);
  for (const [index, ticker] of firstTickers.entries()) open(index, ticker.atMs, 0);
  if (state.activeIntentBySymbol.size !== symbolCount) throw new Error(`${run.name}: not every position opened`);
  log = inputs;
  Object.assign(counts, { commands: 0, stopChanges: 0, snapshots: 0 });
  const evaluationsBefore = state.counters.policyEvaluations;
  let closed = 0;
  let place = 0;
  const exits = new Set<number>();
  for (const slot of later) {
    for (const [index, ticker] of slot.entries()) {
      // A position closed on an earlier ticker is opened again after this one (not in the
      // millisecond it closed in, as a strategy would not).
      const flat = !state.activeIntentBySymbol.has(ticker.symbol);
      tick(ticker);
      if (exitsToCopy?.has(place) === true && state.activeIntentBySymbol.has(ticker.symbol)) {
        settle(otherKind, { type: 'CloseRequested', atMs: ticker.atMs, requestId: `c${place}`, symbol: ticker.symbol });
      }
      if (!flat && !state.activeIntentBySymbol.has(ticker.symbol)) exits.add(place);
      place += 1;
      if (!flat || state.activeIntentBySymbol.has(ticker.symbol)) continue;
      closed += 1;
      open(index, ticker.atMs, closed);
    }
  }
  if (state.counters.requestsRejected !== 0) throw new Error(`${run.name}: ${state.counters.requestsRejected} open request(s) refused`);
  const tickerCount = later.reduce((sum, slot) => sum + slot.length, 0);
  return { run, config, setup, inputs, kinds: Uint8Array.from(inputKinds), tickers: tickerCount, ...counts, closed, evaluations: state.counters.policyEvaluations - evaluationsBefore, exits };
}

// Replay, timed.

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

/**
 * A timed pass: a fresh engine, the setup untimed, then every input; returns the time spent on
 * each kind of input. The clock is read only where one kind of input follows another (some 16,000
 * times in a pass of the trailing run: well under 1 % of its time).
 */
function replay(recording: Recording, mode: Mode): Float64Array {
  if (mode === 'pipeline') return replayPipeline(recording);
  const state = createEngineState(recording.config);
  for (const event of recording.setup) step(state, event);
  const ns = new Float64Array(kinds.length);
  const { inputs } = recording;
  const frames = mode === 'step' ? null : mode === 'decode' ? parsedOf : frameOf;
  let commands = 0;
  let kind = recording.kinds[0] ?? tickerKind;
  let stretchStarted = process.hrtime.bigint();
  for (let index = 0; index < inputs.length; index += 1) {
    const event = inputs[index] as Event;
    const next = recording.kinds[index] ?? otherKind;
    if (next !== kind) {
      const now = process.hrtime.bigint();
      ns[kind] = (ns[kind] ?? 0) + Number(now - stretchStarted);
      stretchStarted = now;
      kind = next;
    }
    const frame = frames?.get(event);
    if (frame === undefined) {
      commands += step(state, event).length;
      continue;
    }
    const message: unknown = typeof frame === 'string' ? JSON.parse(frame) : frame;
    const decoded = decodeStreamMessage(message, { instruments: state.instruments, atMs: event.atMs, source: 'stream' });
    if (!decoded.ok) throw new Error(decoded.error);
    for (const ticker of decoded.events) commands += step(state, ticker).length;
  }
  ns[kind] = (ns[kind] ?? 0) + Number(process.hrtime.bigint() - stretchStarted);
  if (commands !== recording.commands) throw new Error(`${recording.run.name}: the replay made ${commands} commands, the recording ${recording.commands}`);
  return ns;
}

/**
 * How a ticker reaches `step`: as the engine's event (step alone); decoded from its Bybit frame
 * already parsed (decode + step); from the frame's text, parsed, decoded and stepped; and through
 * the runtime's whole pipeline, journal included (DESIGN.md's engine throughput: parse -> step ->
 * journal). Other inputs are stepped (and journaled in the pipeline).
 */
type Mode = 'step' | 'decode' | 'frame' | 'pipeline';

const journalBytes = new Map<Recording, Uint32Array>();
/** Each input's record in the journal, in bytes (a ticker's as its decoded event, which is the same). */
function journalBytesOf(recording: Recording): Uint32Array {
  const known = journalBytes.get(recording);
  if (known !== undefined) return known;
  const bytes = Uint32Array.from(recording.inputs, (event) => encodeBatch([event]).length);
  journalBytes.set(recording, bytes);
  return bytes;
}

/** Inputs a batch of the pipeline, and the journal's durability: as bench/engine runs it. */
const pipelineBatch = 100;
let journalDir: string | null = null;
let journalFiles = 0;

/**
 * A timed pass through the runtime's pipeline (src/shell/runtime.ts), with a fresh SQLite journal
 * (durability normal, as bench/engine): inputs in batches of 100, each ticker's frame parsed and
 * decoded, the batch appended (one group commit), stepped, and its ledger records handed to the
 * journal (which writes a snapshot of the state every 50,000 events). Parse, decode and step are
 * split by input as in `replay`. The journal's append of a batch is shared by its inputs in
 * proportion to their records' bytes (encoding, checksum and SQLite's write all grow with them: a
 * ticker's record is 42 bytes, an order report's about 400); what follows the step (the ledger's
 * rows, snapshots) is shared evenly, which charges the tickers part of what the records of moves
 * and closes cost: against the trailing, never for it.
 */
function replayPipeline(recording: Recording): Float64Array {
  const bytes = journalBytesOf(recording);
  journalDir ??= mkdtempSync(join(tmpdir(), 'vigil-bench-protection-'));
  const journal = SqliteJournal.open(join(journalDir, `p${++journalFiles}.db`), { durability: 'normal' });
  const state = createEngineState(recording.config);
  journal.append(recording.setup);
  const setupRecords: LedgerRecord[] = [];
  for (const event of recording.setup) setupRecords.push(...step(state, event).flatMap((command) => (command.type === 'Record' ? [command.record] : [])));
  journal.applied(state, setupRecords);
  const ns = new Float64Array(kinds.length);
  const { inputs } = recording;
  const kindAt = (index: number): Kind => (recording.kinds[index] ?? otherKind) as Kind;
  let commands = 0;
  const batch: Event[] = [];
  const records: LedgerRecord[] = [];
  /** Times `work` over inputs [from, to), the clock read where one kind of input follows another. */
  const byKind = (from: number, to: number, work: (index: number) => void): void => {
    let kind = kindAt(from);
    let stretchStarted = process.hrtime.bigint();
    for (let index = from; index < to; index += 1) {
      const next = kindAt(index);
      if (next !== kind) {
        const now = process.hrtime.bigint();
        ns[kind] = (ns[kind] ?? 0) + Number(now - stretchStarted);
        stretchStarted = now;
        kind = next;
      }
      work(index);
    }
    ns[kind] = (ns[kind] ?? 0) + Number(process.hrtime.bigint() - stretchStarted);
  };
  /** Times the journal's `work` on inputs [from, to), shared by them in proportion to `weight`. */
  const shared = (from: number, to: number, weight: (index: number) => number, work: () => void): void => {
    const started = process.hrtime.bigint();
    work();
    const elapsed = Number(process.hrtime.bigint() - started);
    let total = 0;
    for (let index = from; index < to; index += 1) total += weight(index);
    for (let index = from; index < to; index += 1) ns[kindAt(index)] = (ns[kindAt(index)] ?? 0) + (elapsed * weight(index)) / total;
  };
  const byBytes = (index: number): number => bytes[index] ?? 0;
  const evenly = (): number => 1;
  for (let from = 0; from < inputs.length; from += pipelineBatch) {
    const to = Math.min(inputs.length, from + pipelineBatch);
    batch.length = 0;
    records.length = 0;
    byKind(from, to, (index) => {
      const event = inputs[index] as Event;
      const frame = frameOf.get(event);
      if (frame === undefined) {
        batch.push(event);
        return;
      }
      const decoded = decodeStreamMessage(JSON.parse(frame), { instruments: state.instruments, atMs: event.atMs, source: 'stream' });
      if (!decoded.ok) throw new Error(decoded.error);
      const [ticker] = decoded.events;
      if (ticker === undefined || decoded.events.length !== 1) throw new Error(`${recording.run.name}: a ticker frame decoded to ${decoded.events.length} events`);
      batch.push(ticker);
    });
    shared(from, to, byBytes, () => journal.append(batch));
    byKind(from, to, (index) => {
      for (const command of step(state, batch[index - from] as Event)) {
        commands += 1;
        if (command.type === 'Record') records.push(command.record);
      }
    });
    shared(from, to, evenly, () => journal.applied(state, records));
  }
  journal.close();
  if (commands !== recording.commands) throw new Error(`${recording.run.name}: the pipeline made ${commands} commands, the recording ${recording.commands}`);
  return ns;
}

type Heap = { readonly setupMb: number; readonly endMb: number };

/** The warm-up pass, which also measures the heap the engine holds after the setup and after the run (above the heap without it). */
function warmUp(recording: Recording): Heap {
  const before = heapMb();
  const state = createEngineState(recording.config);
  for (const event of recording.setup) step(state, event);
  const setupMb = heapMb() - before;
  for (const event of recording.inputs) step(state, event);
  const endMb = heapMb() - before;
  if (state.counters.eventsApplied === 0) throw new Error('nothing applied');
  return { setupMb, endMb };
}

/**
 * The evaluation's own cost, away from the stream: after the run, every symbol's last ticker again
 * (same price, same time: no new best price, nothing due), each symbol in turn, a million steps,
 * fastest of 5. The records stay hot and the tickers are the same few objects, so this is the
 * quiet ticker's work alone; a step that sends anything fails the bench. The same state with its
 * retired records put back among the live ones (core/tiered-map.ts) is timed in turn, in the same
 * process, with the same compiled code: what the tiers save a ticker.
 */
function quietInPlace(recording: Recording): { readonly tiered: number; readonly flat: number } {
  const stateAfterRun = (): EngineState => {
    const state = createEngineState(recording.config);
    for (const event of [...recording.setup, ...recording.inputs]) step(state, event);
    return state;
  };
  const tiered = stateAfterRun();
  const flat = stateAfterRun();
  for (const [key, order] of [...flat.orders]) flat.orders.set(key, order); // set: into the live tier
  for (const [id, intent] of [...flat.intents]) flat.intents.set(id, intent);
  const quietTickers = (state: EngineState): Event[] => [...state.activeIntentBySymbol.keys()].flatMap((symbol): Event[] => {
    const market = state.markets.get(symbol);
    return market === undefined ? [] : [{ type: 'TickerUpdated', atMs: market.venueMs, symbol, lastTicks: market.lastTicks, markTicks: market.markTicks, venueMs: market.venueMs }];
  });
  const steps = 1_000_000;
  const timed = (state: EngineState, again: readonly Event[]): number => {
    let sent = 0;
    const started = process.hrtime.bigint();
    for (let index = 0; index < steps; index += 1) sent += step(state, again[index % again.length] as Event).length;
    const ns = Number(process.hrtime.bigint() - started) / steps;
    if (sent !== 0) throw new Error(`${recording.run.name}: a ticker at an unchanged price made ${sent} commands`);
    return ns;
  };
  const [tieredTickers, flatTickers] = [quietTickers(tiered), quietTickers(flat)];
  const fastest = { tiered: Infinity, flat: Infinity };
  for (let round = 0; round < 5; round += 1) {
    fastest.tiered = Math.min(fastest.tiered, timed(tiered, tieredTickers));
    fastest.flat = Math.min(fastest.flat, timed(flat, flatTickers));
  }
  return fastest;
}

/** What a child process sends back: one run, recorded and timed in a process of its own. */
type Measured = {
  readonly name: string;
  readonly recordS: number;
  readonly tickers: number;
  readonly stopChanges: number;
  readonly closed: number;
  readonly snapshots: number;
  readonly evaluations: number;
  /** Inputs of each kind. */
  readonly kindCounts: readonly number[];
  readonly heap: Heap;
  /** The fastest pass of each mode (see fastestPass), split by kind. */
  readonly fastest: Readonly<Record<Mode, readonly number[]>>;
  /** A quiet ticker stepped in place (quietInPlace): the state as it is, and untiered. */
  readonly inPlace: number;
  readonly inPlaceFlat: number;
};

const modes = ['step', 'decode', 'frame', 'pipeline'] as const;

/** The child's work: the run named (after the run whose exits it copies, recorded only for them), timed pass after pass, mode after mode. */
function measure(name: string): Measured {
  const run = allRuns.find((candidate) => candidate.name === name);
  if (run === undefined) throw new Error(`no run named ${name}`);
  const started = process.hrtime.bigint();
  const recorded: Recording[] = [];
  const source = allRuns.find((candidate) => candidate.name === run.exitsOf);
  if (source !== undefined) recorded.push(record(source, recorded));
  const recording = record(run, recorded);
  const recordS = Number(process.hrtime.bigint() - started) / 1e9;
  const heap = warmUp(recording);
  const passTimes = new Map<Mode, Float64Array[]>(modes.map((mode) => [mode, []]));
  for (let pass = 0; pass < passes; pass += 1) {
    for (const mode of modes) {
      gc(); // a pass starts with the heap collected: a major collection inside it would be charged to whichever pass it fell in
      passTimes.get(mode)?.push(replay(recording, mode));
    }
  }
  if (journalDir !== null) rmSync(journalDir, { recursive: true, force: true });
  const fastest = Object.fromEntries(modes.map((mode) => [mode, [...fastestPass(passTimes.get(mode) ?? [])]])) as Record<Mode, number[]>;
  const kindCounts = kinds.map((_, kind) => recording.kinds.reduce((sum, value) => sum + (value === kind ? 1 : 0), 0));
  const { tickers: tickerCount, stopChanges, closed, snapshots, evaluations } = recording;
  const quiet = quietInPlace(recording);
  return { name, recordS, tickers: tickerCount, stopChanges, closed, snapshots, evaluations, kindCounts, heap, fastest, inPlace: quiet.tiered, inPlaceFlat: quiet.flat };
}

function total(ns: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < ns.length; index += 1) sum += ns[index] ?? 0;
  return sum;
}
/**
 * The fastest pass, whose split by kind is reported with it: the work is deterministic, so a slower
 * pass measures the machine's other work (on a shared 2-core machine, up to 20 % of a pass), and
 * the fastest is the figure that repeats from process to process.
 */
function fastestPass(times: readonly Float64Array[]): Float64Array {
  return [...times].sort((a, b) => total(a) - total(b))[0] ?? new Float64Array(kinds.length);
}

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(measure(values.child))}\n`);
  process.exit(0);
}

// The parent: each run in a process of its own, in rounds, the order of the runs turned each round.

/**
 * One process per run and round. A run timed in a process that ran others first inherits the
 * JIT's feedback from them (the call sites `step` shares between runs see every run's shapes): in
 * one process, two runs whose tickers do the same work measured a third apart in `step` alone.
 * A process of its own still varies (the JIT's choices differ from process to process, about 10 %
 * in `step` alone here), which the rounds show: each figure below is the median of the rounds, and
 * each ratio the median of the ratios within a round (with their range), the run and its baseline
 * timed minutes apart at most.
 */
function inChild(name: string): Measured {
  const output = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', name, '--passes', String(passes), '--symbols', String(symbolCount)], {
    encoding: 'utf8', maxBuffer: 16 * 1_048_576, stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(output) as Measured;
}

const benchStarted = process.hrtime.bigint();
/** measured[round]: the runs by name. */
const measured: Map<string, Measured>[] = [];
for (let round = 0; round < rounds; round += 1) {
  const results = new Map<string, Measured>();
  for (let at = 0; at < runs.length; at += 1) {
    const run = runs[(at + round) % runs.length] as Run;
    const childStarted = process.hrtime.bigint();
    results.set(run.name, inChild(run.name));
    process.stderr.write(`  round ${round + 1}/${rounds}: ${run.name} (${(Number(process.hrtime.bigint() - childStarted) / 1e9).toFixed(1)} s)\n`);
  }
  measured.push(results);
}
const benchS = Number(process.hrtime.bigint() - benchStarted) / 1e9;

/** The runs' figures in each round; counts (changes, closes, evaluations) are the same in every round: the work is deterministic. */
const roundsOf = (run: Run): Measured[] => measured.map((round) => round.get(run.name)).filter((one) => one !== undefined);
const firstOf = (run: Run): Measured => {
  const first = roundsOf(run)[0];
  if (first === undefined) throw new Error(`${run.name}: not measured`);
  return first;
};
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
/** A measure of a run: the median of its rounds. */
const figure = (run: Run, measureOf: (one: Measured) => number): number => median(roundsOf(run).map(measureOf));
/** A run's measure over its baseline's, round by round: their median, least and greatest. */
function ratioOf(run: Run, base: Run, measureOf: (one: Measured) => number): { readonly median: number; readonly low: number; readonly high: number } {
  const ratios = measured.flatMap((round) => {
    const [one, other] = [round.get(run.name), round.get(base.name)];
    return one === undefined || other === undefined ? [] : [measureOf(one) / measureOf(other)];
  });
  return { median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}
const byName = new Map(runs.map((run) => [run.name, run]));
const baselineOf = (run: Run): Run => byName.get(run.baseline ?? '') ?? run;
const nsPerTick = (mode: Mode) => (one: Measured): number => total(one.fastest[mode]) / one.tickers;
const kindPerTick = (mode: Mode, kind: Kind) => (one: Measured): number => (one.fastest[mode][kind] ?? 0) / one.tickers;
/** All the tickers' own steps, quiet and acting, per ticker. */
const tickersPerTick = (mode: Mode) => (one: Measured): number => kindPerTick(mode, tickerKind)(one) + kindPerTick(mode, actingKind)(one);
/** The tickers' own steps and the work their stop changes bring: the answers, the review timers. */
const trailingPerTick = (mode: Mode) => (one: Measured): number => tickersPerTick(mode)(one) + kindPerTick(mode, amendKind)(one) + kindPerTick(mode, timerKind)(one);
/** ns per ticker of one kind (quiet or acting), over the tickers of that kind. */
const nsPerKindTicker = (mode: Mode, kind: Kind) => (one: Measured): number => (one.fastest[mode][kind] ?? 0) / Math.max(1, one.kindCounts[kind] ?? 0);
const format = (value: number): string => Math.round(value).toLocaleString('en-US');
const perK = (one: Measured, count: number): string => ((1000 * count) / one.tickers).toFixed(1);
const range = (ratio: { readonly median: number; readonly low: number; readonly high: number }): string =>
  rounds === 1 ? `${ratio.median.toFixed(2)}x` : `${ratio.median.toFixed(2)}x (${ratio.low.toFixed(2)}-${ratio.high.toFixed(2)})`;

const anyRun = runs[0] as Run;
const tickerCount = firstOf(anyRun).tickers;
console.log(`bench/protection: ${symbolCount} symbols with open positions, ${format(tickerCount)} tickers (${format(tickerCount / symbolCount)} a symbol, ${tickEveryMs} ms apart), ` +
  `each run in a process of its own, ${rounds} round${rounds === 1 ? '' : 's'} of the fastest of ${passes} passes (medians of the rounds), node ${process.version}; ` +
  `${runs.length * rounds} processes in ${benchS.toFixed(0)} s (recording a run against the simulated venue: ${median(measured.flatMap((round) => [...round.values()].map((one) => one.recordS))).toFixed(1)} s)`);
/** The runs' names, padded to the longest. */
const nameWidth = Math.max(26, ...runs.map((run) => run.name.length));
for (const mode of modes) {
  console.log({
    step: '  step alone: ns per ticker with every input charged to the tickers, then split by input: the tickers\' own steps, amends and position\n' +
      '  stops answered (reply and report), review timers, other (positions closing and opening); ratios to the plain stop of the same kind',
    decode: '  decode + step: each ticker decoded from the Bybit v5 tickers delta that carries it (already parsed), then stepped',
    frame: '  parse + decode + step: the text of each ticker\'s Bybit v5 tickers delta parsed (JSON.parse), decoded and stepped',
    pipeline: `  the engine's pipeline (DESIGN.md's engine throughput: parse -> step -> journal): parsed, decoded, journaled in SQLite in batches of\n` +
      `  ${pipelineBatch} inputs (durability normal, as bench/engine), stepped, records to the journal; a batch's append shared by its inputs' bytes, the rest evenly`,
  }[mode]);
  const pad = ' '.repeat(nameWidth - 26);
  console.log(`  run${pad}                         ns/tick   tickers/s  ratio   tickers  ratio  amends  timers  other   stop changes  closed  engine heap MB`);
  console.log(`${pad}                                                                                                   /1k tickers    /1k   setup    end`);
  for (const run of runs) {
    const one = firstOf(run);
    const part = (kind: Kind): string => figure(run, kindPerTick(mode, kind)).toFixed(0);
    const perTick = figure(run, nsPerTick(mode));
    console.log(`  ${run.name.padEnd(nameWidth)} ${perTick.toFixed(0).padStart(8)} ${format(1e9 / perTick).padStart(11)}  ` +
      `${ratioOf(run, baselineOf(run), nsPerTick(mode)).median.toFixed(2).padStart(5)}  ${figure(run, tickersPerTick(mode)).toFixed(0).padStart(8)}  ` +
      ratioOf(run, baselineOf(run), tickersPerTick(mode)).median.toFixed(2).padStart(5) +
      `  ${part(amendKind).padStart(6)}  ${part(timerKind).padStart(6)}  ${part(otherKind).padStart(5)}  ${perK(one, one.stopChanges).padStart(13)}  ` +
      `${perK(one, one.closed).padStart(6)}  ${figure(run, (each) => each.heap.setupMb).toFixed(1).padStart(6)} ${figure(run, (each) => each.heap.endMb).toFixed(1).padStart(6)}`);
  }
}
const modeNames: Readonly<Record<Mode, string>> = { step: 'step alone', decode: 'decode + step', frame: 'parse + decode + step', pipeline: 'pipeline' };
console.log(`  a quiet ticker stepped in place: after the run, each symbol's last ticker again (${format(symbolCount)} symbols in turn, hot, nothing sent; fastest of 5 x 1,000,000)`);
console.log(`  ${runs.map((run) => `${run.name} ${figure(run, (one) => one.inPlace).toFixed(0)} ns (${ratioOf(run, baselineOf(run), (one) => one.inPlace).median.toFixed(2)}x)`).join('; ')}`);
console.log(`  the same with the settled records in the live tier (untiered, timed in turn in the same process): ${runs.map((run) => {
  const saved = median(roundsOf(run).map((one) => one.inPlaceFlat / one.inPlace));
  return `${run.name} ${figure(run, (one) => one.inPlaceFlat).toFixed(0)} ns (${saved.toFixed(2)}x the tiered)`;
}).join('; ')}`);
for (const name of ['separate: trailing', 'attached: trailing']) {
  const run = byName.get(name);
  if (run === undefined) continue;
  const one = firstOf(run);
  // What the trailing adds to a ticker, by each measure of a ticker's cost: the tickers' own steps
  // (quiet ones and those that move the stop alike); then with the moves' answers and review timers
  // charged to the tickers too (the trailing's whole cost); then with everything. Against two
  // baselines: the plain stop; and the plain stop closing each position where the trailing closed
  // it (its exits), so that both trade alike. A trailing stop closes positions nine times as often
  // as the plain one here, and the bench opens them again: that trading (its orders, fills and the
  // state its closed trades keep) slows every ticker after it, trailing or not, so only the second
  // baseline measures what the trailing itself adds.
  const bases = [baselineOf(run), runs.find((other) => other.exitsOf === name)].filter((base) => base !== undefined);
  console.log(`  ${name}: what the trailing adds to a ticker (target <= ${targetRatio.toFixed(2)}x; the median of ${rounds} round${rounds === 1 ? '' : 's'}, their range in brackets)`);
  for (const base of bases) {
    const ratios = (measureOf: (mode: Mode) => (each: Measured) => number, verdict: boolean): string => modes.map((mode) => {
      const ratio = ratioOf(run, base, measureOf(mode));
      return `${modeNames[mode]} ${range(ratio)}${verdict ? (ratio.median <= targetRatio ? ' PASS' : ' FAIL') : ''}`;
    }).join(', ');
    console.log(`    against ${base.name} (${perK(firstOf(base), firstOf(base).closed)} positions closed per 1,000 tickers, the trailing ${perK(one, one.closed)}):`);
    console.log(`      the tickers' own steps: ${ratios(tickersPerTick, true)}`);
    console.log(`      with its moves' answers and review timers: ${ratios(trailingPerTick, true)}`);
    console.log(`      everything: ${ratios(nsPerTick, false)}`);
    const quiet = nsPerKindTicker('step', tickerKind);
    console.log(`      step alone: a ticker that sends nothing ${figure(run, quiet).toFixed(0)} ns against ${figure(base, quiet).toFixed(0)} (${range(ratioOf(run, base, quiet))})`);
  }
  console.log(`    a ticker that moves the stop or closes: ${figure(run, nsPerKindTicker('step', actingKind)).toFixed(0)} ns in step alone, ${perK(one, one.kindCounts[actingKind] ?? 0)} per 1,000`);
}
const coalesced = byName.get('separate: trailing');
const eager = byName.get('separate: trailing, 0 ms');
if (coalesced !== undefined && eager !== undefined) {
  const [few, many] = [firstOf(coalesced), firstOf(eager)];
  console.log(`  stop changes per 1,000 tickers: ${perK(few, few.stopChanges)} coalesced (at most one a second), ${perK(many, many.stopChanges)} without ` +
    `(every tightening ticker, one in flight): coalescing sends ${((100 * few.stopChanges) / Math.max(1, many.stopChanges)).toFixed(0)}% of them`);
}
const stepped = byName.get('separate: trailing, min move');
if (coalesced !== undefined && stepped !== undefined) {
  const [few, fewer] = [firstOf(coalesced), firstOf(stepped)];
  console.log(`  with a minimum move of 0.2 % as well: ${perK(fewer, fewer.stopChanges)} stop changes per 1,000 tickers (${((100 * fewer.stopChanges) / Math.max(1, few.stopChanges)).toFixed(0)}% of the trailing's), ` +
    `${perK(fewer, fewer.closed)} positions closed (the trailing ${perK(few, few.closed)})`);
}
console.log(`  the policies' full evaluations per 1,000 tickers (the rest answered without one; counted, so no machine's noise moves them): ${
  runs.map((run) => `${run.name} ${perK(firstOf(run), firstOf(run).evaluations)}`).join(', ')}`);
const snapshots = runs.filter((run) => firstOf(run).snapshots > 0).map((run) => `${run.name} ${firstOf(run).snapshots}`);
if (snapshots.length > 0) console.log(`  snapshots the engine asked for during the runs (charged to "other"): ${snapshots.join(', ')}`);
