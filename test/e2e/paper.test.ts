// End to end: the CLI as a user runs it, in its own process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const vigil = (...args: string[]) => spawnSync(process.execPath, [join(root, 'src', 'cli', 'main.ts'), ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });

describe('vigil paper', () => {
  it('trades a day of bundled candles, protects every position and says so', () => {
    const run = vigil('paper', '--speed', 'max');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /entry-sent .* stop .* \(attached\)/);
    assert.match(run.stdout, /stop-working .* armed with the fill/);
    assert.match(run.stdout, /position-closed {2}position closed by/);
    assert.match(run.stdout, /checks: \d+ venue events delivered, 0 lost; longest unprotected time 0 ms; 0 invariant violation\(s\)/);
    assert.match(run.stdout, /total realized net -?\d+\.\d\d USDT/);
  });

  it('sends a separate stop on the first evidence of the fill when asked to', () => {
    const run = vigil('paper', '--speed', 'max', '--separate-stops', '--symbols', 'SOLUSDT');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /stop-sent .* on first evidence of the fill/);
    assert.match(run.stdout, /stop-working .* working, \d+ ms after the first evidence of the fill/);
  });

  it('refuses bad options with a message that names them', () => {
    const run = vigil('paper', '--days', 'seven');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--days: expected 1, 2 or 3/);
  });
});

describe('vigil sim', () => {
  it('prints a JSON summary with the agreed fields and exits 0 without violations', () => {
    const run = vigil('sim', '--seeds', '1..20', '--json');
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const field of ['seeds', 'violations', 'eventsLost', 'maxUnprotectedMs', 'failingSeeds']) assert.ok(field in summary, field);
    assert.equal(summary.seeds, 20);
    assert.equal(summary.violations, 0);
  });

  it('runs a named scenario and rejects an unknown one', () => {
    assert.equal(vigil('sim', '--scenario', 'stream-before-rest-reply').status, 0);
    const unknown = vigil('sim', '--scenario', 'nope');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no scenario named "nope"/);
  });
});
