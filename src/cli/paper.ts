// `vigil paper`: a paper-trading session on the built-in simulated venue. Real one-minute candles
// (bundled in data/candles) drive the venue's prices; an example strategy sends open and close
// requests; the real engine places entries with their stops, protects every position and books
// every fill. Time is simulated and paced against the wall clock (`--speed`), so a day of trading
// takes seconds; `--speed 1` is real time, `--speed max` as fast as the machine goes.

import { existsSync } from 'node:fs';
import type { Notice } from '../core/commands.ts';
import type { Instrument } from '../core/instrument.ts';
import { lotsToQty } from '../core/instrument.ts';
import { formatE8 } from '../core/money.ts';
import { describeHealth, healthOf } from '../core/health.ts';
import { effectiveSizeLots } from '../core/position/position.ts';
import { bundledCandleSymbols, loadCandles } from '../shell/candles.ts';
import { instrument } from '../sim/instruments.ts';
import { noFaults } from '../sim/network.ts';
import type { Workload, WorldHandle } from '../sim/workload.ts';
import { StrategyWorkload } from '../sim/workload.ts';
import { TpCycle, tpCycleDefaults } from '../strategies/tp-cycle.ts';
import { SimWorld } from '../sim/world.ts';
import type { SymbolStatus } from '../strategies/sma-cross.ts';
import { SmaCross, smaCrossDefaults } from '../strategies/sma-cross.ts';
import type { Candle } from '../venues/sim/prices.ts';
import { candlePath } from '../venues/sim/prices.ts';
import { parseFlags, UsageError } from './args.ts';

export const paperUsage = `usage: vigil paper [--strategy NAME] [--days N] [--speed X|max] [--symbols A,B] [--separate-stops] [--journal FILE] [--quiet]
  --strategy NAME   sma-cross (a moving-average crossover, default) or tp-cycle (a limit entry below the
                    market, a take-profit above it, again and again: the bot of seed 002)
  --days N          days of bundled candles to trade, 1 to 3 (default 1)
  --speed X         simulated seconds per wall-clock second (default 6000; 1 is real time; max: unpaced)
  --symbols A,B     from ${bundledCandleSymbols().join(', ')} (default: all)
  --separate-stops  trade as on a venue without attached stops (the stop follows the first fill)
  --journal FILE    keep the session's journal and ledger in this new SQLite file (see: vigil status)
  --quiet           only the summary`;

const minuteMs = 60_000;
const dayMs = 86_400_000;

type StrategyName = 'sma-cross' | 'tp-cycle';

type Options = {
  readonly strategy: StrategyName; readonly days: number; readonly speed: number | null; readonly symbols: readonly string[];
  readonly separateStops: boolean; readonly quiet: boolean; readonly journal: string | null;
};

export async function runPaperCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(paperUsage);
    return 0;
  }
  const options = parseOptions(argv);
  const candles = new Map(options.symbols.map((symbol) => [symbol, loadCandles(symbol)]));
  const firstMs = Math.min(...[...candles.values()].map((series) => series[0]?.openMs ?? Infinity));
  const endMs = firstMs + options.days * dayMs;
  const trades = new Map<string, { count: number; wins: number }>();
  console.log(`Vigil paper session: ${options.strategy} on ${options.symbols.join(', ')}, ${options.days} day(s) of 1-minute candles from ${isoMinute(firstMs)}, ` +
    `speed ${options.speed === null ? 'max' : `${options.speed}x`}, stops ${options.separateStops ? 'separate (sent on the first fill)' : 'attached to the entry'}`);
  const world = buildWorld(options, candles, firstMs, endMs, (notice, atMs) => {
    if (notice.code === 'position-closed' && notice.symbol !== null) countTrade(trades, notice);
    if (!options.quiet) printNotice(notice, atMs);
  });
  const startedMs = performance.now();
  await runPaced(world, options.speed, endMs);
  world.settle(1_000_000);
  world.close({ snapshot: true });
  printSummary(world, trades, performance.now() - startedMs);
  if (options.journal !== null) console.log(`  journal and ledger: ${options.journal} (vigil status --journal ${options.journal})`);
  return world.auditor.violationCount === 0 ? 0 : 1;
}

function parseOptions(argv: readonly string[]): Options {
  const values = parseFlags(argv, {
      strategy: { type: 'string', default: 'sma-cross' }, days: { type: 'string', default: '1' }, speed: { type: 'string', default: '6000' }, symbols: { type: 'string' },
      'separate-stops': { type: 'boolean', default: false }, quiet: { type: 'boolean', default: false }, journal: { type: 'string' },
    });
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3) throw new UsageError(`--days: expected 1, 2 or 3 (the bundled data holds three days), got "${values.days}"`);
  const speed = values.speed === 'max' ? null : Number(values.speed);
  if (speed !== null && !(speed >= 1 && Number.isFinite(speed))) throw new UsageError(`--speed: expected a number >= 1 or "max", got "${values.speed}"`);
  const symbols = values.symbols === undefined ? bundledCandleSymbols() : values.symbols.split(',').map((symbol) => symbol.trim().toUpperCase());
  for (const symbol of symbols) {
    if (!bundledCandleSymbols().includes(symbol)) throw new UsageError(`--symbols: no bundled candles for "${symbol}"; available: ${bundledCandleSymbols().join(', ')}`);
  }
  if (values.strategy !== 'sma-cross' && values.strategy !== 'tp-cycle') throw new UsageError(`--strategy: expected sma-cross or tp-cycle, got "${values.strategy}"`);
  const journal = values.journal ?? null;
  if (journal !== null && existsSync(journal)) throw new UsageError(`--journal: ${journal} exists; a paper session starts a new journal (its simulated venue starts empty)`);
  return { strategy: values.strategy, days, speed, symbols, separateStops: values['separate-stops'], quiet: values.quiet, journal };
}

function buildWorld(options: Options, candles: ReadonlyMap<string, Candle[]>, firstMs: number, endMs: number, onNotice: (notice: Notice, atMs: number) => void): SimWorld {
  const symbols = [...candles].map(([symbol, series]) => {
    const inWindow = series.filter((candle) => candle.openMs < endMs);
    return { instrument: instrument(symbol), prices: candlePath(symbol, instrument(symbol), inWindow, { pointsPerSegment: 2 }), candles: inWindow };
  });
  return SimWorld.create({
    seed: 7,
    startMs: firstMs,
    symbols,
    network: {
      restRequest: { min: 15, max: 60 }, restReply: { min: 15, max: 80 }, privateStream: { min: 5, max: 40 }, publicStream: { min: 5, max: 20 },
      streamSetup: { min: 150, max: 300 },
      restTimeoutMs: 3_000, faults: noFaults,
    },
    venue: { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 1, partialFillChance: 0.2, fillPartsMax: 3, limitPartialChance: 0.2 },
    engine: { botId: 'paper', attachedStops: !options.separateStops },
    // Synced to the OS on every commit, without a lock, so `vigil status` can read it meanwhile.
    ...(options.journal === null ? {} : { journalPath: options.journal, journalOptions: { durability: 'normal', exclusive: false, snapshotEveryEvents: 50_000 } }),
    activeMs: endMs - firstMs,
    onNotice,
    workload: options.strategy === 'tp-cycle' ? tpCycleWorkload(options, endMs - firstMs) : smaCrossWorkload(symbols),
  });
}

function smaCrossWorkload(symbols: readonly { readonly instrument: Instrument; readonly candles: readonly Candle[] }[]): Workload {
  const strategy = new SmaCross(smaCrossDefaults);
  return {
    start(world: WorldHandle): void {
      for (const { instrument: traded, candles: series } of symbols) {
        for (const candle of series) {
          world.at(candle.openMs + minuteMs, () => {
            const request = strategy.onBarClose(traded.symbol, candle.close, statusOf(world, traded));
            if (request !== null) world.request(request);
          });
        }
      }
    },
  };
}

/** The cycle bot looks every ten seconds; its entries rest 0.2 % under the market for up to ten minutes. */
function tpCycleWorkload(options: Options, untilMs: number): Workload {
  const bot = new TpCycle({ ...tpCycleDefaults, symbols: options.symbols, notionalUsdt: '1000', entryTimeoutMs: 10 * minuteMs });
  return new StrategyWorkload({ decide: (state, atMs) => bot.decide(state, atMs), everyMs: 10_000, untilMs });
}

function statusOf(world: WorldHandle, traded: Instrument): SymbolStatus {
  const { state } = world.runtime();
  const intentId = state.activeIntentBySymbol.get(traded.symbol);
  if (intentId === undefined) return 'flat';
  const intent = state.intents.get(intentId);
  const position = [...state.positions.values()].find((candidate) => candidate.symbol === traded.symbol);
  const size = position === undefined ? 0 : effectiveSizeLots(position);
  if (intent?.phase.name !== 'open' || size === 0) return 'busy';
  return size > 0 ? 'long' : 'short';
}

/** Runs the world, keeping simulated time at `speed` times the wall clock. */
async function runPaced(world: SimWorld, speed: number | null, endMs: number): Promise<void> {
  const wallStartMs = performance.now();
  const virtualStartMs = world.scheduler.nowMs();
  for (;;) {
    const next = world.scheduler.nextAtMs();
    if (next === null || next > endMs) return;
    if (speed !== null) {
      const dueWallMs = wallStartMs + (next - virtualStartMs) / speed;
      const waitMs = dueWallMs - performance.now();
      if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 100)));
    }
    const horizonMs = speed === null ? next + minuteMs : virtualStartMs + (performance.now() - wallStartMs) * speed;
    world.run({ stepsMax: 100_000, untilMs: Math.min(Math.max(horizonMs, next), endMs) });
  }
}

function countTrade(trades: Map<string, { count: number; wins: number }>, notice: Notice): void {
  const symbol = notice.symbol ?? '?';
  const entry = trades.get(symbol) ?? { count: 0, wins: 0 };
  const net = (notice.data?.realizedPnlE8 ?? 0) - (notice.data?.feesE8 ?? 0);
  trades.set(symbol, { count: entry.count + 1, wins: entry.wins + (net > 0 ? 1 : 0) });
}

function printNotice(notice: Notice, atMs: number): void {
  const quiet = new Set(['instruments-loaded', 'position-trigger', 'intent-done', 'request-rejected']);
  if (quiet.has(notice.code)) return;
  // A periodic reconciliation that found nothing is not news.
  if (notice.code === 'reconciled' && notice.level === 'info' && notice.text.includes('(periodic)')) return;
  const mark = notice.level === 'alarm' ? '!!' : notice.level === 'warn' ? ' !' : '  ';
  console.log(`${isoMinute(atMs)}${mark} ${(notice.symbol ?? '').padEnd(8)} ${notice.code.padEnd(16)} ${notice.text}`);
}

function printSummary(world: SimWorld, trades: ReadonlyMap<string, { count: number; wins: number }>, wallMs: number): void {
  const { state } = world.runtime;
  const { auditor } = world;
  console.log('\nsummary');
  console.log(`  ${'symbol'.padEnd(9)}${'trades'.padStart(7)}${'won'.padStart(5)}${'realized'.padStart(12)}${'fees'.padStart(10)}${'net USDT'.padStart(12)}  open at end`);
  let totalNet = 0;
  for (const position of state.positions.values()) {
    const tally = trades.get(position.symbol) ?? { count: 0, wins: 0 };
    const net = position.realizedPnlE8 - position.feesE8;
    totalNet += net;
    const open = effectiveSizeLots(position);
    console.log(`  ${position.symbol.padEnd(9)}${String(tally.count).padStart(7)}${String(tally.wins).padStart(5)}${formatE8(position.realizedPnlE8).padStart(12)}${formatE8(position.feesE8).padStart(10)}${formatE8(net).padStart(12)}  ${open === 0 ? '-' : `${open > 0 ? 'long' : 'short'} ${lotsToQty(instrument(position.symbol), Math.abs(open))} (stop on the venue: ${world.venue.isProtected(position.symbol) ? 'yes' : 'NO'})`}`);
  }
  console.log(`  total realized net ${formatE8(totalNet)} USDT (the open positions' unrealized PnL is in the equity below)`);
  console.log('  (to the cent, each from the exact amounts, so a column may not add up by a cent; fees include an open position\'s entry; won: net above zero)');
  const unprotected = auditor.episodes.filter((episode) => episode.origin === 'ours').map((episode) => episode.endMs - episode.startMs);
  console.log(`  engine: ${state.counters.eventsApplied} events applied, ${state.counters.entriesSubmitted} entries, ${state.counters.stopsSubmitted} separate stops, ${state.counters.protectiveExits} protective exits, ${state.counters.requestsRejected} requests rejected`);
  console.log(`  checks: ${auditor.eventsDelivered} venue events delivered, ${auditor.eventsLost} lost; longest unprotected time ${unprotected.reduce((max, value) => Math.max(max, value), 0)} ms; ${auditor.violationCount} invariant violation(s)`);
  console.log(`  health: ${describeHealth(healthOf(state))}`);
  console.log(`  wall time ${(wallMs / 1000).toFixed(1)} s`);
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
