// The crash test with real processes: the simulated venue in a process of its own (`vigil venue`,
// over loopback), the bot in another (`vigil bot`), SIGKILLed again and again and restarted with the
// same journal path: at seeded random moments, at the test-only fault points (VIGIL_FAULT_KILL: just
// before an entry is sent, just after), and the instant the venue has executed an entry whose reply
// is still on its way (the venue delays replies). Then, against the venue's own audit:
//  (a) no intent ever had more than one entry order on the venue (client order ids carry the intent
//      and the role, so this holds across processes whatever each one knew);
//  (b) every position the venue holds at the end has a stop on the venue, and no symbol ever held a
//      position without one for longer than the bound `unprotectedBound` derives (below);
//  (c) the bot's ledger (the SQLite journal's projections) equals the venue's fills and positions.
// The bot trades with separate stops (sent on the first evidence of a fill): with stops attached to
// the entry the venue arms them with the fill, and (b) could not fail.
//
// Nothing sleeps and hopes: every step waits for something observable (a line on a process's
// stdout, a process's exit, an audit), with generous timeouts; the only sleeps are the seeded random
// kill delays. Every child process is killed when the test ends, pass or fail.

import assert from 'node:assert/strict';
import type { ChildProcessByStdio } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { parseClientOrderId } from '../../src/core/ids.ts';
import { LedgerReader } from '../../src/journal/ledger.ts';
import { Rng } from '../../src/sim/rng.ts';
import type { Endpoint } from '../../src/venues/sim/remote.ts';
import { pausePrices, requestAudit } from '../../src/venues/sim/remote.ts';
import type { Audit } from '../../src/venues/sim/wire.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');

const seed = 20_260_817;
const botId = 'crash';
const symbols = 'SOLUSDT,DOGEUSDT,ETHUSDT';
/** Each reply leaves the venue this long after it acted: the window an `order-created` kill lands in. */
const replyDelayMs = 300;
const randomKillDelayMs = { min: 100, max: 3_000 } as const;
/** Generous: on a loaded two-core machine a restart to trading takes about a second. */
const waitMs = 25_000;

/**
 * The hand-offs between processes in the slowest protection (see `unprotectedBound`): the fill's
 * push to the bot, the stop's trip to the venue, the venue's refusal timer firing, the refusal's trip
 * back, the market exit's trip, and this test's own timestamp of a kill or of a process trading
 * (read from a pipe). On a loaded machine each may wait for a CPU; how long, the test measures.
 */
const handOffs = 6;

type Kill =
  | { readonly kind: 'random' }
  | { readonly kind: 'fault'; readonly fault: string }
  | { readonly kind: 'order-created' };

/** The kills in order; the random delays come from the seed. */
const plan: readonly Kill[] = [
  { kind: 'random' },
  { kind: 'fault', fault: 'before-send:entry:1' },
  { kind: 'random' },
  { kind: 'order-created' },
  { kind: 'fault', fault: 'after-send:entry:1' },
  { kind: 'random' },
  { kind: 'fault', fault: 'before-send:entry:2' },
  { kind: 'order-created' },
  { kind: 'random' },
  { kind: 'fault', fault: 'after-send:entry:2' },
];

type Line = { readonly atMs: number; readonly text: string };
type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly atMs: number };

/** A child process of this test, its stdout as timestamped lines. */
class Child {
  readonly name: string;
  readonly lines: Line[] = [];
  readonly closed: Promise<Exit>;
  stderr = '';
  private readonly process: ChildProcessByStdio<null, Readable, Readable>;
  private readonly listeners = new Set<(line: Line) => void>();
  private exit: Exit | null = null;

  constructor(name: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.process = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.process.stdout }).on('line', (text) => {
      const line = { atMs: Date.now(), text };
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
    });
    this.process.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.closed = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        this.exit = { code, signal, atMs: Date.now() };
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === null;
  }

  kill(signal: NodeJS.Signals): number {
    if (this.running) this.process.kill(signal);
    return Date.now();
  }

  /** The first line from `fromIndex` on that matches: already read, or the next to come. */
  waitFor(pattern: RegExp, timeoutMs: number, fromIndex = 0): Promise<Line> {
    const seen = this.lines.slice(fromIndex).find((line) => pattern.test(line.text));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (line: Line): void => {
        if (!pattern.test(line.text)) return;
        finish();
        resolve(line);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      this.listeners.add(listener);
      void this.closed.then((exit) => {
        finish();
        reject(new Error(`${this.name} exited (${exit.signal ?? exit.code}) before a line matching ${pattern}\n${this.tail()}`));
      });
    });
  }

  tail(count = 30): string {
    const lines = this.lines.slice(-count).map((line) => `  ${line.text}`).join('\n');
    return `--- last lines of ${this.name} ---\n${lines}${this.stderr === '' ? '' : `\n--- stderr ---\n${this.stderr}`}`;
  }
}

/** What one bot process did, as this test saw it. */
type Run = {
  readonly index: number;
  readonly kill: Kill | null;
  readonly bot: Child;
  readonly startedMs: number;
  /** When it started trading (its first reconciliation done), if it got that far. */
  readonly tradingMs: number | null;
  /** When it died; null for the last run, which is stopped, not killed. */
  readonly killedMs: number | null;
  /** The entry the kill was aimed at, when it was aimed at one. */
  readonly entryId: string | null;
};

describe('crash test: the bot SIGKILLed and restarted against the venue in another process', () => {
  it('never duplicates an entry and keeps every position protected within its bound', { timeout: 120_000 }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
    const journalPath = join(directory, 'journal.sqlite');
    const children: Child[] = [];
    t.after(async () => {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(children.map((child) => child.closed));
      rmSync(directory, { recursive: true, force: true });
    });
    // How long a process on this machine, now, waits for a CPU (this one's event loop, at worst): the reaction part of the bound.
    const cpuWait = monitorEventLoopDelay({ resolution: 10 });
    cpuWait.enable();
    t.after(() => cpuWait.disable());
    const rng = new Rng(seed);
    const start = (name: string, args: readonly string[], fault: string | null): Child => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.VIGIL_FAULT_KILL;
      if (fault !== null) env.VIGIL_FAULT_KILL = fault;
      const child = new Child(name, args, env);
      children.push(child);
      return child;
    };

    const venue = start('venue', ['venue', '--port', '0', '--symbols', symbols, '--seed', String(seed), '--reply-delay-ms', String(replyDelayMs), '--print-created'], null);
    const listening = await venue.waitFor(/^listening 127\.0\.0\.1:\d+$/, waitMs);
    const endpoint: Endpoint = { host: '127.0.0.1', port: Number(listening.text.split(':')[1]) };
    const botArgs = ['bot', '--venue', `${endpoint.host}:${endpoint.port}`, '--symbols', symbols, '--journal', journalPath, '--bot-id', botId, '--strategy', 'tp-cycle', '--separate-stops'];
    const entryCreated = new RegExp(`^order-created (${botId}-\\d+-e)$`);
    const context = (): string => `seed ${seed}\n${venue.tail(10)}`;

    const runs: Run[] = [];
    for (const [index, kill] of plan.entries()) {
      const bot = start(`bot #${index + 1} (${kill.kind === 'fault' ? kill.fault : kill.kind})`, botArgs, kill.kind === 'fault' ? kill.fault : null);
      const startedMs = Date.now();
      let killedMs: number;
      let entryId: string | null = null;
      switch (kill.kind) {
        case 'random':
          await sleep(rng.int(randomKillDelayMs.min, randomKillDelayMs.max)); // the one deliberate sleep: a random moment
          killedMs = bot.kill('SIGKILL');
          break;
        case 'fault': {
          // The bot kills itself; it says so on its way out.
          const faultLine = /^fault \S+ (\S+): SIGKILL$/;
          const line = await bot.waitFor(faultLine, waitMs);
          killedMs = line.atMs;
          entryId = faultLine.exec(line.text)?.[1] ?? null;
          break;
        }
        case 'order-created': {
          // Kill the bot the moment the venue has executed an entry of its own: its reply is still on its way.
          const line = await Promise.race([venue.waitFor(entryCreated, waitMs, venue.lines.length), bot.closed.then(() => null)]);
          assert.ok(line !== null, `${bot.name} died before the venue created an entry\n${bot.tail()}`);
          killedMs = bot.kill('SIGKILL');
          entryId = entryCreated.exec(line.text)?.[1] ?? null;
          break;
        }
      }
      const exit = await bot.closed;
      assert.equal(exit.signal, 'SIGKILL', `${bot.name} should have died by SIGKILL, not ${exit.signal ?? `exit code ${exit.code}`}\n${bot.tail()}`);
      runs.push({ index, kill, bot, startedMs, tradingMs: tradingAt(bot), killedMs, entryId });
      t.diagnostic(`${bot.name}: killed after ${killedMs - startedMs} ms${describeTrading(runs.at(-1))}`);
    }

    // The last run: it must come back to trading, trade, and protect whatever the others left.
    const last = start(`bot #${plan.length + 1} (final)`, botArgs, null);
    const lastStartedMs = Date.now();
    const lastTrading = await last.waitFor(/\bphase trading\b/, waitMs);
    await Promise.race([venue.waitFor(entryCreated, waitMs, venue.lines.length), last.closed]);
    assert.ok(last.running, `the final bot died\n${last.tail()}`);
    // No price moves from here on, so nothing fills any more: what the venue holds is final.
    await pausePrices(endpoint);
    const settled = await waitForAudit(endpoint, (audit) => audit.positions.every((position) => position.protected), waitMs);
    assert.ok(settled !== null, `positions still without a stop after ${waitMs} ms\n${last.tail()}\n${context()}`);
    last.kill('SIGTERM');
    const lastExit = await last.closed;
    assert.equal(lastExit.code, 0, `the final bot should stop cleanly on SIGTERM\n${last.tail()}`);
    runs.push({ index: plan.length, kill: null, bot: last, startedMs: lastStartedMs, tradingMs: lastTrading.atMs, killedMs: null, entryId: null });

    const audit = await requestAudit(endpoint);
    venue.kill('SIGTERM');
    assert.equal((await venue.closed).code, 0, `the venue should stop cleanly on SIGTERM\n${venue.tail()}`);
    const entries = entriesByIntent(audit);
    t.diagnostic(`seed ${seed}: ${runs.length} bot processes, ${plan.length} kills; ${entries.size} entries sent, ${audit.fills.length} fills on the venue`);

    // The harness did what it says: every targeted kill hit its target.
    const submitted = new Set(audit.submissions.map((submission) => submission.clientOrderId));
    for (const run of runs) {
      if (run.kill?.kind === 'fault') {
        assert.ok(run.entryId !== null && parseClientOrderId(botId, run.entryId)?.role === 'entry', `${run.bot.name}: killed at ${run.entryId}`);
        // Before the send, the venue never hears of it; after the send, it has it, whatever became of the bot.
        assert.equal(submitted.has(run.entryId), run.kill.fault.startsWith('after-send'), `${run.bot.name}: ${run.entryId} on the venue`);
      }
      if (run.kill?.kind === 'order-created') assert.ok(run.entryId !== null && submitted.has(run.entryId), `${run.bot.name}: killed after ${run.entryId} was created`);
      assert.ok(!run.bot.lines.some((line) => /\bhalted\b/.test(line.text)), `${run.bot.name} halted\n${run.bot.tail()}`);
      assert.equal(run.bot.stderr, '', `${run.bot.name} wrote to stderr`);
    }
    assert.equal(venue.stderr, '', 'the venue refused something');
    // The targeted kills alone put 7 entries on the venue (after-send 1 + 2, before-send:entry:2 1, order-created 2, the last run 1).
    assert.ok(entries.size >= 7, `too few entries to prove anything: ${entries.size}`);
    assert.ok(audit.fills.length > 0, 'nothing ever filled');

    // (a) No intent has more than one entry order on the venue (rejected creates count too: a resend is a resend).
    const duplicated = [...entries].filter(([, ids]) => ids.length > 1);
    assert.deepEqual(duplicated, [], `intents with more than one entry on the venue\n${context()}`);

    // (b) Every position held at the end has a stop on the venue, and none was ever without one beyond its bound.
    const bare = audit.positions.filter((position) => position.sizeLots !== 0 && !position.protected);
    assert.deepEqual(bare, [], 'positions without a stop at the end');
    const bound = unprotectedBound(runs, refusedStops(audit), Math.ceil(cpuWait.max / 1e6));
    const cutShort = bound.cutShort.length === 0 ? '' : `; cut short while protecting: ${bound.cutShort.join(', ')}`;
    t.diagnostic(`bound ${bound.ms} ms: longest blind stretch ${bound.blindMs} ms + 2 x protect ${bound.protectMs} ms (reply delay ${replyDelayMs} + ${handOffs} x CPU wait ${bound.cpuWaitMs})${cutShort}`);
    for (const position of audit.positions) {
      t.diagnostic(`${position.symbol}: longest unprotected ${position.unprotectedMsLongest} ms (bound ${bound.ms} ms)`);
      assert.ok(position.unprotectedMsLongest <= bound.ms, `${position.symbol} was unprotected for ${position.unprotectedMsLongest} ms, beyond ${bound.ms} ms\n${describeRuns(runs)}\n${context()}`);
    }

    // Every process after the first that got to trading recovered from the journal file the others
    // wrote (one killed at a random moment may not have opened it yet: on a loaded machine a random
    // kill can land before a process has printed anything).
    const replayed = runs.slice(1).filter((run) => run.tradingMs !== null)
      .map((run) => /journal \S+: (?:no snapshot|snapshot at event \d+), (\d+) event\(s\) replayed/.exec(run.bot.lines.map((line) => line.text).join('\n')));
    assert.ok(replayed.length >= plan.length / 2, `too few restarts got to trading to prove anything: ${replayed.length}`);
    assert.ok(replayed.every((match) => match !== null), 'every restart that traded recovered from the journal');
    assert.ok(replayed.some((match) => Number(match?.[1]) > 0), 'some restart replayed events');

    // (c) The bot's ledger equals the venue's fills.
    checkLedgerEqualsVenueFills(journalPath, audit);
  });
});

/**
 * (c) The ledger in the journal equals the venue's fills: every run wrote to the same file, the last
 * one stopped cleanly after the venue's prices were paused, so no fill can be missing for lack of
 * time. The same execution ids, each once, with the same symbol, side, price, lots and fee; and the
 * positions' size, cost, realized PnL and fees equal the venue's, to the last 10^-8 USDT.
 */
function checkLedgerEqualsVenueFills(journalPath: string, audit: Audit): void {
  const db = new DatabaseSync(journalPath, { readOnly: true });
  try {
    const ledger = new LedgerReader(db);
    const booked = ledger.allFills();
    assert.equal(new Set(booked.map((row) => row.execution_id)).size, booked.length, 'each fill once');
    const byId = new Map(booked.map((row) => [row.execution_id, row]));
    assert.equal(booked.length, audit.fills.length, 'as many fills in the ledger as on the venue');
    for (const fill of audit.fills) {
      const row = byId.get(fill.executionId);
      assert.ok(row !== undefined, `venue fill ${fill.executionId} in the ledger`);
      assert.deepEqual([row.symbol, row.side, row.price_ticks, row.lots, row.fee_e8], [fill.symbol, fill.side, fill.priceTicks, fill.lots, fill.feeE8], fill.executionId);
    }
    const rows = new Map(ledger.positions(true).map((row) => [row.symbol, row]));
    for (const venue of audit.positions) {
      const row = rows.get(venue.symbol);
      if (row === undefined) {
        assert.deepEqual([venue.sizeLots, venue.realizedPnlE8, venue.feesE8], [0, 0, 0], `${venue.symbol}: traded on the venue, not in the ledger`);
        continue;
      }
      assert.deepEqual([row.size_lots, row.cost_ticks_lots, row.realized_pnl_e8, row.fees_e8], [venue.sizeLots, venue.costTicksLots, venue.realizedPnlE8, venue.feesE8], venue.symbol);
    }
  } finally {
    db.close();
  }
}

function describeTrading(run: Run | undefined): string {
  return run?.tradingMs === null || run === undefined ? ', before trading' : `, trading after ${run.tradingMs - run.startedMs} ms`;
}

function tradingAt(bot: Child): number | null {
  return bot.lines.find((line) => /\bphase trading\b/.test(line.text))?.atMs ?? null;
}

/** Entry submissions on the venue per intent (by the client order id's intent and role). */
function entriesByIntent(audit: Audit): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  for (const submission of audit.submissions) {
    const parsed = submission.clientOrderId === null ? null : parseClientOrderId(botId, submission.clientOrderId);
    if (parsed?.role !== 'entry' || submission.clientOrderId === null) continue;
    entries.set(parsed.intentId, [...(entries.get(parsed.intentId) ?? []), submission.clientOrderId]);
  }
  return entries;
}

type Bound = { readonly ms: number; readonly blindMs: number; readonly protectMs: number; readonly cpuWaitMs: number; readonly cutShort: readonly string[] };

/**
 * How long a symbol may have held a position without a stop on the venue, from the design and what
 * this test measured. A bot that sees the venue protects a bare position within `protectMs`: it
 * sends the stop in the step it learns of the position (its first reconciliation, or the fill's
 * push), and the venue places it on arrival; only if the market is already past the stop does it
 * take longer: the venue refuses it one reply delay later and the bot exits at market. So
 * `protectMs` is the reply delay plus the hand-offs between processes, each of which may wait for a
 * CPU on a loaded machine as long as this test measured its own event loop waiting, at worst.
 *
 * A position is left bare only while no bot can do that: a blind stretch, from a kill (or the first
 * start) until the next process is trading. Process start, journal replay, streams and snapshot are
 * all inside the stretch, measured per restart, so the bound follows the machine's load rather
 * than a guess at it. A process killed before it traded does not end the stretch; nor does one
 * whose stop the venue refused and that died less than `protectMs` after it started trading (the
 * targeted kills land a few hundred ms after trading, often before the refusal is back): the
 * position it was protecting stays bare into the next stretch. On top of the stretch, a position may
 * have become bare up to `protectMs` before the kill (a fill its bot had not protected yet), and the
 * process that ends the stretch takes up to `protectMs` to protect it: 2 x `protectMs`.
 *
 * (Ending the stretch at every process's trading, with a flat 1.8 s margin, failed once under load:
 * 3,496 ms against 3,420, most likely a process cut short like that, two stretches in one. Idle,
 * this bound is about 2 s, a stretch of 1.2 s and 2 x 0.45 s; under load both parts grow with what
 * was measured. A position left bare past the trading of a process that lives on, a stop sent late
 * or never, still fails.)
 */
function unprotectedBound(runs: readonly Run[], refusedStopsMs: readonly number[], cpuWaitMs: number): Bound {
  const protectMs = replyDelayMs + handOffs * cpuWaitMs;
  const cutShort: string[] = [];
  let blindSinceMs = runs[0]?.startedMs ?? 0;
  let blindMs = 0;
  for (const run of runs) {
    const { startedMs, tradingMs, killedMs } = run;
    if (tradingMs === null) continue; // never saw the venue: the stretch goes on
    if (killedMs !== null && killedMs - tradingMs < protectMs && refusedStopsMs.some((atMs) => atMs >= startedMs && atMs <= killedMs)) {
      cutShort.push(run.bot.name);
      continue;
    }
    blindMs = Math.max(blindMs, tradingMs - blindSinceMs);
    if (killedMs !== null) blindSinceMs = killedMs;
  }
  return { ms: blindMs + 2 * protectMs, blindMs, protectMs, cpuWaitMs, cutShort };
}

/** When the venue refused one of the bot's stops (the market already past it), on its clock. */
function refusedStops(audit: Audit): number[] {
  return audit.submissions
    .filter((submission) => !submission.result.ok && submission.clientOrderId !== null && parseClientOrderId(botId, submission.clientOrderId)?.role === 'stop')
    .map((submission) => submission.atMs);
}

/** Each run's start, trading and kill, relative to the first start: what the bound was made of. */
function describeRuns(runs: readonly Run[]): string {
  const t0 = runs[0]?.startedMs ?? 0;
  const at = (ms: number | null): string => (ms === null ? '-' : `+${ms - t0}`);
  return runs.map((run) => `  ${run.bot.name}: started ${at(run.startedMs)}, trading ${at(run.tradingMs)}, killed ${at(run.killedMs)} ms`).join('\n');
}

/** Polls the venue's audit until `done` holds (null after `timeoutMs`): each poll is an observation. */
async function waitForAudit(endpoint: Endpoint, done: (audit: Audit) => boolean, timeoutMs: number): Promise<Audit | null> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    const audit = await requestAudit(endpoint);
    if (done(audit)) return audit;
    if (Date.now() > deadlineMs) return null;
    await sleep(100);
  }
}
