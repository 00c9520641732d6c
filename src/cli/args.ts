// Command-line options for every `vigil` command: node:util's parseArgs, strict, with two rules of
// Vigil's own. An option given twice is a usage error: parseArgs keeps the last, so
// `--side buy --side sell` opened a short. A stray argument is refused without being echoed: it
// may be a key pasted in the wrong place, and stderr ends up in logs.

import type { ParseArgsOptionsConfig } from 'node:util';
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Parsed<T extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: true; tokens: true }>>['values'];

export function parseFlags<const T extends ParseArgsOptionsConfig>(args: readonly string[], options: T): Parsed<T> {
  const { values, tokens } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new UsageError(`unexpected argument in position ${token.index + 1} (not shown: it may be a secret); this command takes only --options`);
    }
    if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new UsageError(`--${token.name} given twice; give it once`);
    seen.add(token.name);
  }
  return values;
}
