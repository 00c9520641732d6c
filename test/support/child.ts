// A child process of an end-to-end test (`vigil <command>` with the project's Node): its stdout as
// lines to wait on, stdout and stderr as text to search. Waiting is on a line or on the exit, with
// a timeout that says what was awaited and shows the tail of the output; never on a fixed sleep.

import type { ChildProcessByStdio } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');
export const waitMs = 15_000;

export type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };

/** A child process of this test: its stdout as lines (to wait on), stdout and stderr as text (to search). */
export class Child {
  readonly name: string;
  readonly lines: string[] = [];
  readonly closed: Promise<Exit>;
  stdout = '';
  stderr = '';
  private readonly process: ChildProcessByStdio<null, Readable, Readable>;
  private readonly listeners = new Set<() => void>();
  private exit: Exit | null = null;

  constructor(name: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.name = name;
    this.process = spawn(process.execPath, [cli, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.stdout += `${line}\n`;
      for (const listener of this.listeners) listener();
    });
    this.process.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.closed = new Promise((resolve) => {
      this.process.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal);
  }

  /** The first line from `fromIndex` on that matches: already printed, or the next to come. */
  waitFor(pattern: RegExp, fromIndex = 0): Promise<RegExpExecArray> {
    const { promise, resolve, reject } = Promise.withResolvers<RegExpExecArray>();
    const check = (): boolean => {
      for (const line of this.lines.slice(fromIndex)) {
        const match = pattern.exec(line);
        if (match !== null) {
          finish();
          resolve(match);
          return true;
        }
      }
      return false;
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${this.name}: no line matching ${pattern} within ${waitMs} ms\n${this.tail()}`));
    }, waitMs);
    const finish = (): void => {
      clearTimeout(timer);
      this.listeners.delete(listener);
    };
    const listener = (): void => void check();
    if (!check()) {
      this.listeners.add(listener);
      void this.closed.then(() => {
        if (check()) return;
        finish();
        reject(new Error(`${this.name} exited before a line matching ${pattern}\n${this.tail()}`));
      });
    }
    return promise;
  }

  /** Waits for the process to end by itself, or SIGTERMs it after `timeoutMs`. */
  async finished(timeoutMs = waitMs): Promise<Exit & { readonly timedOut: boolean }> {
    const timer = setTimeout(() => this.kill('SIGTERM'), timeoutMs);
    const running = this.running;
    const exit = await this.closed;
    clearTimeout(timer);
    return { ...exit, timedOut: running && exit.signal === 'SIGTERM' };
  }

  tail(count = 25): string {
    return `--- last lines of ${this.name} ---\n${this.lines.slice(-count).join('\n')}${this.stderr === '' ? '' : `\n--- stderr ---\n${this.stderr}`}`;
  }
}

/**
 * The children and the scratch directory of one end-to-end test: every child is SIGKILLed and the
 * directory removed when the test ends, pass or fail.
 */
export function processGroup(t: { after(fn: () => Promise<void>): void }, prefix: string): { readonly directory: string; start(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Child } {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const children: Child[] = [];
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => child.closed));
    rmSync(directory, { recursive: true, force: true });
  });
  return {
    directory,
    start(name, args, env) {
      const child = new Child(name, args, env);
      children.push(child);
      return child;
    },
  };
}
