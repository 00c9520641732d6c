#!/usr/bin/env node
// The `vigil` command line: `paper` (a paper-trading session on the simulated venue), `sim`
// (seeded simulation runs), `bot` with `venue` (the bot as a long-running process against the
// simulated venue served by another process), `run` (the bot as an operator runs it: a
// configuration file, a live venue, the operator API) and `signal` (talks to that API). Usage
// errors say what was wrong and exit 2.

import { botUsage, runBotCommand, runVenueCommand, venueUsage } from './bot.ts';
import { runPaperCommand, paperUsage } from './paper.ts';
import { runRunCommand, runUsage } from './run.ts';
import { runSignalCommand, signalUsage } from './signal.ts';
import { UsageError } from './args.ts';
import { runSimCommand, simUsage } from './sim.ts';
import { runStatusCommand, statusUsage } from './status.ts';
import { emulatorUsage, runEmulatorCommand } from './emulator.ts';

const usage = `usage: vigil <command> [options]

commands:
  paper   a paper-trading session on the built-in simulated venue (no keys needed)
  sim     seeded simulation runs of the engine against the simulated venue
  status  positions, open orders, recent fills and PnL from a bot's journal (running or stopped)
  bot     the bot as a long-running process, trading against \`vigil venue\` over loopback
  venue   the simulated venue in a process of its own, on the real clock, served on 127.0.0.1
  run     the bot as an operator runs it: a configuration file, a live venue, the operator HTTP API
  signal  open or close a position through a running bot's API
  emulator  the Bybit v5 emulator (the simulated venue behind Bybit's real protocol) on 127.0.0.1

${paperUsage}

${simUsage}

${statusUsage}

${botUsage}

${venueUsage}

${runUsage}

${signalUsage}

${emulatorUsage}`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'paper':
      return runPaperCommand(rest);
    case 'sim':
      return runSimCommand(rest);
    case 'status':
      return runStatusCommand(rest);
    case 'bot':
      return runBotCommand(rest);
    case 'venue':
      return runVenueCommand(rest);
    case 'run':
      return runRunCommand(rest);
    case 'signal':
      return runSignalCommand(rest);
    case 'emulator':
      return runEmulatorCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      // A key, secret or token looked for on the command line: say where it goes instead.
      const secretFlag = /^Unknown option '--[^']*(key|secret|token|password)/i.test(error.message);
      const where = secretFlag ? '\nsecrets are never taken on the command line: give them in the environment, or in the file its <VARIABLE>_FILE names (see the README, "Secrets")' : '';
      console.error(`vigil: ${error.message}${where}\n(see: vigil help)`);
      process.exitCode = 2;
      return;
    }
    // What failed, in words; where in the code only when asked for (a stack is noise to an operator).
    if (process.env.VIGIL_DEBUG === '1' || !(error instanceof Error)) console.error(error);
    else console.error(`vigil: ${error.message}\n(VIGIL_DEBUG=1 shows where it failed)`);
    process.exitCode = 1;
  },
);
