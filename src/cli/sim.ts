// `vigil sim`: seeded simulation runs of the real engine against the simulated venue.
//
//   npm run sim -- --seeds 1..500            many seeds, a summary, exit 1 on any violation
//   npm run sim -- --seed 42 --trace         one seed, one line per event
//   npm run sim -- --scenario NAME           a named scenario (see src/sim/scenarios.ts)
//   npm run sim -- --faults duplicate,reorder --json

import type { MutantName } from '../sim/mutants.ts';
import { mutant, mutantStories } from '../sim/mutants.ts';
import { parseFlags, UsageError } from './args.ts';
import { noFaults } from '../sim/network.ts';
import { runScenario, scenarios } from '../sim/scenarios.ts';
import type { SeedResult } from '../sim/swarm.ts';
import type { ForcedFaults } from '../sim/swarm.ts';
import { runSeed } from '../sim/swarm.ts';
import type { SimSummary } from '../sim/summary.ts';
import { summarize } from '../sim/summary.ts';

export const simUsage = `usage: vigil sim [--seeds A..B | --seed N [--trace] | --scenario NAME] [--faults LIST] [--json]
  --seeds A..B     run every seed from A to B (default 1..100)
  --seed N         run one seed
  --trace          print one line per event (with --seed or --scenario)
  --scenario NAME  run a named scenario: ${Object.keys(scenarios).join(', ')}
  --faults LIST    force faults on every seed: duplicate, reorder, request-lost, reply-lost, stream-reset, stream-stall,
                   stale-snapshot, crash (kills at random points, recovery from the journal file),
                   clock-skew (the venue's clock up to 2 s ahead of or behind the bot's, some drifting),
                   server-error (a 5xx: done or not, the outcome unknown), rate-limit (refused for its rate
                   before the venue acted; sent again after the wait), pause (the bot's process frozen now
                   and then, for 50 ms to a minute, the venue going on), delist (the venue announcing
                   delistings now and then, some withdrawn: what the bot holds there it must close in time),
                   none (restarts follow the seed)
  --mutant NAME    run a deliberately broken engine, to see the harness catch it: ${Object.keys(mutantStories).join(', ')}
  --json           print a machine-readable summary`;

const faultPresets: Readonly<Record<string, ForcedFaults>> = {
  crash: { crashes: true },
  'clock-skew': { clockSkew: true },
  pause: { pauses: true },
  delist: { delistings: true },
  duplicate: { duplicateChance: 0.2 },
  reorder: { reorderChance: 0.2, reorderDelayMs: { min: 1, max: 300 } },
  'request-lost': { requestLostChance: 0.05 },
  'reply-lost': { replyLostChance: 0.05 },
  'stream-reset': { streamFaultEveryMs: 30_000, stallShare: 0 },
  'stream-stall': { streamFaultEveryMs: 30_000, stallShare: 1 },
  'stale-snapshot': { staleSnapshotChance: 0.5, staleSnapshotDelayMs: { min: 50, max: 2_000 } },
  'server-error': { serverErrorChance: 0.05 },
  'rate-limit': { rateLimitChance: 0.1, rateLimitWaitMs: { min: 50, max: 2_000 } },
  none: { ...noFaults, crashes: false, clockSkew: false, pauses: false, delistings: false },
};

export { UsageError } from './args.ts';

export function runSimCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(simUsage);
    return 0;
  }
  const values = parseFlags(argv, {
    seeds: { type: 'string' }, seed: { type: 'string' }, scenario: { type: 'string' },
    faults: { type: 'string' }, mutant: { type: 'string' }, trace: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
  });
  // Flags that would be ignored are refused: a run that is not the one asked for wastes minutes.
  const given = (names: readonly (keyof typeof values)[]): string[] => names.filter((name) => values[name] !== undefined).map((name) => `--${name}`);
  const alongside = given(values.scenario !== undefined ? ['seed', 'seeds', 'faults', 'mutant'] : values.seed !== undefined ? ['seeds'] : []);
  if (alongside.length > 0) throw new UsageError(`${values.scenario !== undefined ? '--scenario' : '--seed'} runs alone: ${alongside.join(', ')} would be ignored`);
  if (values.trace && values.scenario === undefined && values.seed === undefined) throw new UsageError('--trace prints one run: give --seed N (or --scenario NAME)');
  if (values.scenario !== undefined) return runNamedScenario(values.scenario, values.trace, values.json);
  const forcedFaults = parseFaults(values.faults);
  const step = values.mutant === undefined ? undefined : mutant(parseMutant(values.mutant));
  const seeds = values.seed !== undefined ? [parseSeed(values.seed, '--seed')] : parseSeedRange(values.seeds ?? '1..100');
  const traceSink = values.trace ? (line: string): void => console.log(line) : undefined;
  const startedMs = performance.now();
  const results: SeedResult[] = [];
  for (const seed of seeds) {
    const result = runSeed(seed, { forcedFaults, ...(traceSink === undefined ? {} : { traceSink }), ...(step === undefined ? {} : { step }) });
    results.push(result);
    if (!values.json && result.violationCount > 0) console.log(`seed ${seed}: ${result.violationCount} violation(s)`);
  }
  const summary = summarize(results);
  const elapsedMs = Math.round(performance.now() - startedMs);
  if (values.json) console.log(JSON.stringify({ ...summary, elapsedMs }, null, 2));
  else printSummary(summary, seeds, elapsedMs, results);
  return summary.violations === 0 ? 0 : 1;
}

function runNamedScenario(name: string, trace: boolean, json: boolean): number {
  const scenario = scenarios[name];
  if (scenario === undefined) throw new UsageError(`no scenario named "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
  if (!json) console.log(`scenario ${name}: ${scenario.story}`);
  const world = runScenario(scenario, trace ? { traceSink: (line) => console.log(line) } : {});
  const { auditor } = world;
  const outcome = { scenario: name, violations: auditor.violationCount, eventsLost: auditor.eventsLost, episodes: auditor.episodes.length, details: auditor.violations };
  if (json) console.log(JSON.stringify(outcome, null, 2));
  else {
    for (const line of trace ? [] : world.trace.lastLines()) console.log(line);
    console.log(`${auditor.violationCount} violation(s), ${auditor.eventsLost} event(s) lost, trace hash ${world.trace.hash}`);
    for (const violation of auditor.violations) console.log(`  ${violation.invariant} at +${violation.atMs} ms: ${violation.detail}`);
  }
  return auditor.violationCount === 0 ? 0 : 1;
}

function printSummary(summary: SimSummary, seeds: readonly number[], elapsedMs: number, results: readonly SeedResult[]): void {
  const { unprotectedMs: u } = summary;
  const range = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  console.log(`${range}: ${summary.seeds} run(s), ${summary.steps} steps, ${elapsedMs} ms`);
  console.log(`violations: ${summary.violations} ${JSON.stringify(summary.violationsByInvariant)}`);
  console.log(`events delivered: ${summary.eventsDelivered}, lost: ${summary.eventsLost}`);
  const opened = summary.positionsOpened;
  console.log(`positions opened on the venue: ${opened.attached} entries with an attached stop, ${opened.separate} with a separate stop, ${opened.external} external (adopted)`);
  console.log(`unprotected episodes, ms (count / p50 / p99 / max): attached ${fmt(u.attached)}; separate ${fmt(u.separate)}; adopted ${fmt(u.adopted)}; while the bot was blind (a request lost, the private stream down, a restart, a freeze) ${fmt(u.faulted)}`);
  console.log(`worst separate-stop episode: ${summary.maxUnprotectedRoundTrips} round trips (slowest delivery of the fill's evidence + one request)`);
  console.log(`faults exercised: ${JSON.stringify(summary.faultsExercised)}`);
  const engine = Object.entries(summary.engine).filter(([key]) => !key.startsWith('reconcile.'));
  const drift = Object.entries(summary.engine).filter(([key]) => key.startsWith('reconcile.')).map(([key, value]) => [key.slice('reconcile.'.length), value]);
  console.log(`engine: ${JSON.stringify(Object.fromEntries(engine))}`);
  console.log(`reconciliation found and healed: ${JSON.stringify(Object.fromEntries(drift))}`);
  if (seeds.length === 1 && results[0] !== undefined) console.log(`trace hash ${results[0].traceHash}`);
  for (const failure of summary.failures) {
    console.log(`\nseed ${failure.seed} failed (reproduce: npm run sim -- --seed ${failure.seed} --trace):`);
    console.log(`  parameters: ${failure.parameters}`);
    for (const line of failure.violations) console.log(`  ${line}`);
    console.log('  the trace before the first violation (tickers left out):');
    for (const line of failure.traceTail.filter((text) => !text.includes(' deliver ticker ')).slice(-30)) console.log(`    ${line}`);
  }
  if (summary.failingSeeds.length > 0) console.log(`\nfailing seeds: ${summary.failingSeeds.join(' ')}`);
}

function fmt(d: SimSummary['unprotectedMs']['attached']): string {
  return `${d.count} / ${d.p50} / ${d.p99} / ${d.max}`;
}

function parseSeed(text: string, flag: string): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`${flag}: expected a non-negative integer, got "${text}"`);
  return seed;
}

export function parseSeedRange(text: string): number[] {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  if (match === null) throw new UsageError(`--seeds: expected A..B (for example 1..500), got "${text}"`);
  const from = parseSeed(match[1] ?? '', '--seeds');
  const to = parseSeed(match[2] ?? '', '--seeds');
  if (to < from) throw new UsageError(`--seeds: ${to} is before ${from}`);
  if (to - from >= 1_000_000) throw new UsageError('--seeds: at most 1,000,000 seeds per run');
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function parseMutant(name: string): MutantName {
  const known = Object.keys(mutantStories);
  if (!known.includes(name)) throw new UsageError(`--mutant: unknown mutant "${name}"; known: ${known.join(', ')}`);
  return name as MutantName;
}

export function parseFaults(text: string | undefined): ForcedFaults {
  if (text === undefined) return {};
  let faults: ForcedFaults = {};
  for (const name of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const preset = faultPresets[name];
    if (preset === undefined) throw new UsageError(`--faults: unknown fault "${name}"; known: ${Object.keys(faultPresets).join(', ')}`);
    faults = { ...faults, ...preset };
  }
  return faults;
}
