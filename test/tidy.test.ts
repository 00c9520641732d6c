// Tidy: checks of the source tree itself. The core stays pure (no clock, randomness, timers, I/O,
// console or process, and no imports from outside it); there are no import cycles; every module
// opens with a comment that says what it is for.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const source = join(root, 'src');

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const forbiddenInCore: readonly [RegExp, string][] = [
  [/\bDate\.now\b|\bnew Date\b/, 'reads the clock'],
  [/\bperformance\.now\b/, 'reads the clock'],
  [/\bMath\.random\b/, 'uses ambient randomness'],
  [/\bset(?:Timeout|Interval|Immediate)\b|\bqueueMicrotask\b/, 'starts timers'],
  [/\bprocess\./, 'reaches the process'],
  [/\bconsole\./, 'writes to the console'],
  [/from ['"](?:node:)?(?:fs|net|http|https|child_process|crypto|os|worker_threads)['"]/, 'does I/O'],
  [/from ['"](?:ccxt|ws|pino)['"]/, 'imports a venue or logging library'],
];

function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gms)].map((match) => resolve(dirname(path), match[1] ?? ''));
}

describe('tidy', () => {
  it('keeps src/core free of clock, randomness, timers, I/O and console', () => {
    const problems: string[] = [];
    for (const path of filesUnder(join(source, 'core'))) {
      for (const [index, line] of readFileSync(path, 'utf8').split('\n').entries()) {
        if (line.includes('determinism-ok')) continue;
        for (const [pattern, what] of forbiddenInCore) {
          if (pattern.test(line)) problems.push(`${relative(root, path)}:${index + 1} ${what}: ${line.trim()}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('keeps src/core depending on nothing outside it', () => {
    const core = join(source, 'core');
    const problems = filesUnder(core).flatMap((path) =>
      importsOf(path).filter((target) => !target.startsWith(core)).map((target) => `${relative(root, path)} imports ${relative(root, target)}`));
    assert.deepEqual(problems, []);
  });

  it('has no import cycles in src', () => {
    const graph = new Map(filesUnder(source).map((path) => [path, importsOf(path)]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (path: string, trail: string[]): void => {
      if (state.get(path) === 'done') return;
      if (state.get(path) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(path)), path].map((item) => relative(source, item)).join(' -> '));
        return;
      }
      state.set(path, 'visiting');
      for (const target of graph.get(path) ?? []) visit(target, [...trail, path]);
      state.set(path, 'done');
    };
    for (const path of graph.keys()) visit(path, []);
    assert.deepEqual(cycles, []);
  });

  it('opens every module with a comment that says what it is for', () => {
    const bare = filesUnder(source).filter((path) => !/^(?:#!.*\n)?\/\//.test(readFileSync(path, 'utf8'))).map((path) => relative(root, path));
    assert.deepEqual(bare, []);
  });
});
