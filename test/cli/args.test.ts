// The command line's own rules on top of parseArgs: an option given twice is refused (the last one
// silently winning opened the opposite position), a stray argument is refused without being
// echoed, and a secret looked for on the command line is pointed to where secrets go.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseFlags, UsageError } from '../../src/cli/args.ts';
import { runSimCommand } from '../../src/cli/sim.ts';

const root = join(import.meta.dirname, '..', '..');
const vigil = (...args: string[]) => spawnSync(process.execPath, [join(root, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', cwd: root, timeout: 60_000 });
const options = { side: { type: 'string' }, json: { type: 'boolean', default: false }, tag: { type: 'string', multiple: true } } as const;

describe('command-line flags', () => {
  it('refuses an option given twice, whatever its values', () => {
    assert.throws(() => parseFlags(['--side', 'buy', '--side', 'sell'], options), (error: unknown) => error instanceof UsageError && error.message === '--side given twice; give it once');
    assert.throws(() => parseFlags(['--side=buy', '--side', 'buy'], options), /--side given twice/);
    assert.throws(() => parseFlags(['--json', '--json'], options), /--json given twice/);
    assert.deepEqual({ ...parseFlags(['--tag', 'a', '--tag', 'b', '--side', 'buy'], options) }, { side: 'buy', json: false, tag: ['a', 'b'] });
  });

  it('refuses a stray argument without repeating it', () => {
    assert.throws(() => parseFlags(['--side', 'buy', 'sk-LIVE-0123456789'], options), (error: unknown) =>
      error instanceof UsageError && /unexpected argument in position 3 \(not shown: it may be a secret\)/.test(error.message) && !error.message.includes('sk-LIVE'));
  });

  it('vigil sim refuses flags it would ignore', () => {
    assert.throws(() => runSimCommand(['--trace']), /--trace prints one run: give --seed N/);
    assert.throws(() => runSimCommand(['--seed', '1', '--seeds', '1..3']), /--seed runs alone: --seeds would be ignored/);
    assert.throws(() => runSimCommand(['--scenario', 'x', '--mutant', 'fractional-lots']), /--scenario runs alone: --mutant would be ignored/);
  });

  it('through `vigil`: exit 2 on a repeated --side, and a key flag is pointed to the environment', () => {
    const twice = vigil('signal', 'open', '--symbol', 'ETHUSDT', '--side', 'buy', '--side', 'sell', '--quantity', '0.1');
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /vigil: --side given twice; give it once/);
    const key = vigil('run', '--config', 'x.yaml', '--api-key', 'AKIA-not-a-real-key');
    assert.equal(key.status, 2);
    assert.match(key.stderr, /Unknown option '--api-key'/);
    assert.match(key.stderr, /secrets are never taken on the command line: give them in the environment/);
    assert.ok(!key.stderr.includes('AKIA-not-a-real-key'));
    const paper = vigil('paper', '--days', '1', '--days', '2');
    assert.equal(paper.status, 2);
    assert.match(paper.stderr, /--days given twice/);
  });
});
