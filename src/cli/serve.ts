// What the commands that serve something (`vigil venue`, `vigil emulator`) share: whole-number
// options checked with a message that names the flag, and serving until SIGTERM or SIGINT.

import { UsageError } from './sim.ts';

export function wholeNumberOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${name}: expected a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

/** Runs until the process is asked to stop, then closes the server and says why it stopped. */
export async function serveUntilSignal(server: { close(): Promise<void> }): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  console.log(`stopped: ${signal}`);
  return 0;
}
