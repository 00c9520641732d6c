#!/usr/bin/env node
// The `vigil` command line: `paper` (a paper-trading session on the simulated venue) and `sim`
// (seeded simulation runs). Usage errors say what was wrong and exit 2.

import { runPaperCommand, paperUsage } from './paper.ts';
import { runSimCommand, simUsage, UsageError } from './sim.ts';

const usage = `usage: vigil <command> [options]

commands:
  paper   a paper-trading session on the built-in simulated venue (no keys needed)
  sim     seeded simulation runs of the engine against the simulated venue

${paperUsage}

${simUsage}`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'paper':
      return runPaperCommand(rest);
    case 'sim':
      return runSimCommand(rest);
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
      console.error(`vigil: ${error.message}\n(see: vigil help)`);
      process.exitCode = 2;
      return;
    }
    console.error(error);
    process.exitCode = 1;
  },
);
