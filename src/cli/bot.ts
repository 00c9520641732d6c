// `vigil bot` and `vigil venue`: the bot as a long-running process, and the simulated venue it trades
// against served over loopback by another process; together, the two halves of the crash test
// (test/e2e/crash.test.ts).
//
// `vigil venue` hosts the simulated venue on the real clock (src/venues/sim/server.ts), prints
// `listening 127.0.0.1:<port>` once it accepts connections and, with --print-created,
// `order-created <clientOrderId>` the moment it accepts a create.
//
// `vigil bot` runs the real engine, runtime and stream supervisor on the real clock against it
// (src/venues/sim/remote.ts), with the tp-cycle strategy deciding every `decideEveryMs`, and prints
// the engine's notices one per line. Its instruments come from src/sim/instruments.ts, the table the
// venue server is built from, so both sides agree by construction (a live venue would be asked).
// Boot: state and journal from `openBotState`, then InstrumentsLoaded, EngineStarted, and only then
// the streams; the lifecycle does the rest (a snapshot once the private stream is up, trading once it
// is reconciled). SIGTERM or SIGINT stops it cleanly (exit 0); a halted runtime stops it (exit 1).
//
// TEST-ONLY FAULT POINT: the environment variable VIGIL_FAULT_KILL=<when>:<role>:<n> makes the bot
// SIGKILL itself at the n-th SubmitOrder of that role (entry, stop, take-profit, exit) to reach the
// gateway in this process:
//   before-send:entry:3   before the 3rd entry is sent; the event that produced it is journaled by
//                         then (the runtime journals a batch before it steps it);
//   after-send:entry:2    as soon as the 2nd entry's bytes are handed to the operating system,
//                         before any reply can arrive.
// It is read from the environment only, so no command line turns it on by accident, and a value
// that does not parse stops the bot (exit 2) instead of being ignored.

import { writeSync } from 'node:fs';
import type { Notice } from '../core/commands.ts';
import type { OrderRole } from '../core/ids.ts';
import { isValidBotId, parseClientOrderId } from '../core/ids.ts';
import type { Instrument } from '../core/instrument.ts';
import type { EngineConfig, EngineState } from '../core/state.ts';
import { createEngineState } from '../core/state.ts';
import { RealClock } from '../shell/clock.ts';
import type { Incoming, Journal, VenueCommand, VenueGateway } from '../shell/ports.ts';
import { InMemoryJournal } from '../shell/ports.ts';
import { Runtime } from '../shell/runtime.ts';
import { recover } from '../journal/recovery.ts';
import { SqliteJournal } from '../journal/sqlite.ts';
import { StreamSupervisor } from '../shell/streams.ts';
import { instrument } from '../sim/instruments.ts';
import type { TpCycleConfig } from '../strategies/tp-cycle.ts';
import { TpCycle } from '../strategies/tp-cycle.ts';
import type { Endpoint } from '../venues/sim/remote.ts';
import { RemoteSimStreams, RemoteSimVenue } from '../venues/sim/remote.ts';
import { serverDefaults, SimVenueServer, simVenueSymbols } from '../venues/sim/server.ts';
import { serveUntilSignal, wholeNumberOption } from './serve.ts';
import { parseFlags, UsageError } from './args.ts';

export const botUsage = `usage: vigil bot --venue HOST:PORT --symbols A,B [--journal PATH] [--strategy tp-cycle] [--bot-id ID] [--separate-stops]
  --venue HOST:PORT  the simulated venue that \`vigil venue\` serves
  --symbols A,B      the symbols to trade, from ${simVenueSymbols.join(', ')}
  --journal PATH     the journal and ledger (SQLite): a restart recovers the state from it; without one,
                     every start is cold (the engine learns everything from the venue)
  --strategy NAME    tp-cycle (the only one here): a limit entry 0.1 % under the market, a take-profit
                     0.3 % above it and a stop 0.6 % under it, again and again
  --bot-id ID        the prefix of this bot's client order ids (default vigil)
  --separate-stops   trade as on a venue without attached stops: the stop follows the first fill`;

export const venueUsage = `usage: vigil venue [--port N] [--symbols A,B] [--seed N] [--reply-delay-ms N] [--print-created]
  --port N            the TCP port on 127.0.0.1 (default 0: a free one; the line "listening 127.0.0.1:PORT" says which)
  --symbols A,B       from ${simVenueSymbols.join(', ')} (default: all)
  --seed N            the seed of the price walks (default 1)
  --reply-delay-ms N  each reply leaves this long after the venue acted on its request (default ${serverDefaults.replyDelayMs})
  --print-created     print "order-created <clientOrderId>" when the venue accepts a create`;

/** Tuned to the venue server's walk (10 bp a tick, ten ticks a second): entries fill within seconds, and so do exits. */
const tpCycleOnLoopback: Omit<TpCycleConfig, 'symbols'> = {
  side: 'buy', entryOffsetPercent: 0.1, takeProfitPercent: 0.3, stopLossPercent: 0.6, notionalUsdt: '100', entryTimeoutMs: 2_500,
};
const decideEveryMs = 500;
/** Far above a loopback round trip plus any reply delay a test sets: a reply that is only slow is not made an unknown outcome. */
const requestTimeoutMs = 5_000;

export const faultKillVariable = 'VIGIL_FAULT_KILL';

type FaultKill = { readonly when: 'before-send' | 'after-send'; readonly role: OrderRole; readonly nth: number };

type BotOptions = {
  readonly endpoint: Endpoint;
  readonly symbols: readonly string[];
  readonly journalPath: string | null;
  readonly botId: string;
  readonly separateStops: boolean;
};

/** The engine's state and the journal it is recovered from and appends to. */
export type BotState = {
  readonly state: EngineState;
  readonly journal: Journal;
  /** Closes the journal; `clean` (the state is whole, not halted mid-event) also writes a final snapshot. Never throws: a failed last write is said, the events being all in. */
  close(clean: boolean): void;
};

/**
 * The one place the bot's engine state and journal are made: with a journal file, the state is
 * recovered from it (newest snapshot, then the tail); without one, every start is cold (the engine
 * knows only what reconciliation tells it).
 */
export function openBotState(journalPath: string | null, engineConfig: Partial<EngineConfig>): BotState {
  if (journalPath === null) return { state: createEngineState(engineConfig), journal: new InMemoryJournal(), close: () => undefined };
  let journal: SqliteJournal;
  try {
    journal = SqliteJournal.open(journalPath, { durability: 'full', log: say });
  } catch (error) {
    // Named by its path: SQLite's own messages ("file is not a database") do not say which file.
    const text = error instanceof Error ? error.message : String(error);
    throw new Error(text.startsWith('journal ') ? text : `journal ${journalPath}: ${text}`, { cause: error });
  }
  try {
    const recovered = recover(journal, engineConfig);
    say(`journal ${journalPath}: ${recovered.snapshotSeq === 0 ? 'no snapshot' : `snapshot at event ${recovered.snapshotSeq}`}, ` +
      `${recovered.replayed} event(s) replayed in ${recovered.ms.toFixed(0)} ms${recovered.cut === 0 ? '' : `, ${recovered.cut} damaged event(s) cut`}`);
    const close = (clean: boolean): void => {
      try {
        journal.close(clean ? recovered.state : undefined);
      } catch (error) {
        // A full disk, as a rule: the events are all in (each batch is written before it is
        // applied); only the final snapshot or ledger rows are not, and the next start replays.
        say(`journal ${journalPath}: the last write at close failed (${error instanceof Error ? error.message : String(error)}); every event is in, and the next start replays them`);
      }
    };
    return { state: recovered.state, journal, close };
  } catch (error) {
    journal.close();
    throw error;
  }
}

export async function runBotCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(botUsage);
    return 0;
  }
  const options = parseBotOptions(argv);
  const fault = parseFaultKill(process.env[faultKillVariable]);
  return runBot(options, fault);
}

function parseBotOptions(argv: readonly string[]): BotOptions {
  const values = parseFlags(argv, {
      venue: { type: 'string' }, symbols: { type: 'string' }, journal: { type: 'string' }, strategy: { type: 'string', default: 'tp-cycle' },
      'bot-id': { type: 'string', default: 'vigil' }, 'separate-stops': { type: 'boolean', default: false },
    });
  if (values.venue === undefined) throw new UsageError('--venue HOST:PORT is required (the address `vigil venue` prints)');
  if (values.symbols === undefined) throw new UsageError('--symbols A,B is required');
  if (values.strategy !== 'tp-cycle') throw new UsageError(`--strategy: expected tp-cycle, got "${values.strategy}"`);
  const botId = values['bot-id'];
  if (!isValidBotId(botId)) throw new UsageError(`--bot-id: expected 1 to 16 characters of A-Z, a-z, 0-9 and _, got "${botId}"`);
  return {
    endpoint: parseEndpoint(values.venue), symbols: parseSymbols(values.symbols), journalPath: values.journal ?? null,
    botId, separateStops: values['separate-stops'],
  };
}

function parseEndpoint(text: string): Endpoint {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65_535) throw new UsageError(`--venue: expected HOST:PORT (for example 127.0.0.1:4100), got "${text}"`);
  return { host: match[1] ?? '127.0.0.1', port };
}

function parseSymbols(text: string): string[] {
  const symbols = text.split(',').map((symbol) => symbol.trim().toUpperCase()).filter((symbol) => symbol !== '');
  if (symbols.length === 0) throw new UsageError('--symbols: expected at least one symbol');
  for (const symbol of symbols) {
    if (!simVenueSymbols.includes(symbol)) throw new UsageError(`--symbols: the simulated venue has no "${symbol}"; it lists ${simVenueSymbols.join(', ')}`);
  }
  return symbols;
}

function parseFaultKill(value: string | undefined): FaultKill | null {
  if (value === undefined || value === '') return null;
  const match = /^(before-send|after-send):(entry|stop|take-profit|exit):([1-9]\d{0,5})$/.exec(value);
  if (match === null) throw new UsageError(`${faultKillVariable}: expected <before-send|after-send>:<entry|stop|take-profit|exit>:<n>, got "${value}"`);
  const [, when, role, nth] = match;
  return { when: when as FaultKill['when'], role: role as OrderRole, nth: Number(nth) };
}

/** Runs until a signal or a halt; resolves to the exit code. */
function runBot(options: BotOptions, fault: FaultKill | null): Promise<number> {
  const { endpoint, botId } = options;
  const { promise: exited, resolve: exit } = Promise.withResolvers<number>();
  const instruments: Instrument[] = options.symbols.map((symbol) => instrument(symbol));
  const bot = openBotState(options.journalPath, { botId, attachedStops: !options.separateStops });
  // Every input is applied at once: after a timer (the clock's hook) and after anything delivered.
  const clock = new RealClock({ afterFire: () => runtime.drain() });
  const deliver = (incoming: Incoming): void => {
    runtime.receive(incoming);
    runtime.drain();
  };
  const gateway = new RemoteSimVenue({ endpoint, clock, deliver, requestTimeoutMs, log: say });
  const runtime = new Runtime({
    state: bot.state, clock, journal: bot.journal, gateway: withFaultKill(gateway, fault, botId),
    onNotice: (notice, atMs) => {
      say(noticeLine(notice, atMs));
      // The runtime says it halted (a broken invariant) with this notice: stop taking risk; the venue keeps the stops.
      // Stopped on the next turn: the notice comes from inside the runtime's drain, which must finish first.
      if (notice.code === 'halted') setImmediate(() => stop(1, notice.text));
    },
  });
  const supervisor = new StreamSupervisor({
    clock, transport: new RemoteSimStreams({ endpoint, log: say }), random: Math.random, report: deliver,
    onNotice: (notice) => say(noticeLine(notice, clock.nowMs())),
  });
  const strategy = new TpCycle({ ...tpCycleOnLoopback, symbols: options.symbols });
  let stopped = false;
  function stop(code: number, why: string): void {
    if (stopped) return;
    stopped = true;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    supervisor.stop();
    gateway.close();
    clock.stop();
    bot.close(code === 0);
    say(`stopped: ${why}`);
    exit(code);
  }
  const onSignal = (signal: NodeJS.Signals): void => stop(0, signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  say(`bot ${botId}: pid ${process.pid}, venue ${endpoint.host}:${endpoint.port}, symbols ${options.symbols.join(',')}, ` +
    `journal ${options.journalPath ?? 'none (in memory: a cold start)'}, stops ${options.separateStops ? 'separate' : 'attached'}` +
    (fault === null ? '' : `, fault ${fault.when}:${fault.role}:${fault.nth}`));
  deliver({ type: 'InstrumentsLoaded', instruments });
  deliver({ type: 'EngineStarted' });
  supervisor.start();
  const decide = (): void => {
    for (const request of strategy.decide(runtime.state, clock.nowMs())) deliver(request);
    clock.schedule(clock.nowMs() + decideEveryMs, decide);
  };
  clock.schedule(clock.nowMs() + decideEveryMs, decide);
  return exited;
}

/** The gateway behind the test-only fault point, if one is set. */
function withFaultKill(gateway: RemoteSimVenue, fault: FaultKill | null, botId: string): VenueGateway {
  if (fault === null) return gateway;
  let seen = 0;
  return {
    execute(command: VenueCommand): void {
      const matches = command.type === 'SubmitOrder' && parseClientOrderId(botId, command.clientOrderId)?.role === fault.role;
      if (matches) seen += 1;
      if (!matches || seen !== fault.nth) {
        gateway.execute(command);
        return;
      }
      const what = `${fault.when}:${fault.role}:${fault.nth} ${command.clientOrderId}`;
      if (fault.when === 'before-send') killSelf(what);
      else gateway.execute(command, () => killSelf(what));
    },
  };
}

/** SIGKILL, as an operating system kills a process: no handler runs, nothing is flushed. */
function killSelf(what: string): void {
  try {
    // Synchronous, so the line is out before the process is gone (stdout to a pipe is asynchronous).
    writeSync(1, `fault ${what}: SIGKILL\n`);
  } catch {
    // The line is for whoever reads the output; the kill is what matters.
  }
  process.kill(process.pid, 'SIGKILL');
}

function say(line: string): void {
  console.log(line);
}

/** A notice as one line of a live bot's output: time of day, level mark, symbol, code, text. */
export function noticeLine(notice: Notice, atMs: number): string {
  const mark = notice.level === 'alarm' ? '!!' : notice.level === 'warn' ? ' !' : notice.level === 'debug' ? ' .' : '  ';
  return `${new Date(atMs).toISOString().slice(11, 23)}${mark} ${(notice.symbol ?? '').padEnd(8)} ${notice.code.padEnd(16)} ${notice.text}`;
}

export async function runVenueCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(venueUsage);
    return 0;
  }
  const values = parseFlags(argv, {
      port: { type: 'string', default: '0' }, symbols: { type: 'string' }, seed: { type: 'string', default: '1' },
      'reply-delay-ms': { type: 'string', default: String(serverDefaults.replyDelayMs) }, 'print-created': { type: 'boolean', default: false },
    });
  const server = new SimVenueServer({
    symbols: values.symbols === undefined ? simVenueSymbols : parseSymbols(values.symbols),
    seed: wholeNumberOption('--seed', values.seed, 0, 2 ** 32 - 1),
    replyDelayMs: wholeNumberOption('--reply-delay-ms', values['reply-delay-ms'], 0, 60_000),
    tickMs: serverDefaults.tickMs,
    volatilityBps: serverDefaults.volatilityBps,
    log: (line) => console.error(line),
    ...(values['print-created'] ? { onOrderCreated: (clientOrderId: string) => console.log(`order-created ${clientOrderId}`) } : {}),
  });
  const port = await server.listen(wholeNumberOption('--port', values.port, 0, 65_535));
  console.log(`listening 127.0.0.1:${port}`);
  return serveUntilSignal(server);
}

