// Assertions for the core. A failed assertion is a bug, never an expected outcome: expected
// outcomes (rejections, duplicates, timeouts) are modelled as events and results instead.

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * Note for hot paths: the message is built before the call even when the condition holds, so a
 * template literal here costs on every call. There, write `if (!condition) fail(`...`)` instead.
 */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

export function fail(message: string): never {
  throw new InvariantError(message);
}

export function assertNever(value: never): never {
  throw new InvariantError(`unhandled variant: ${JSON.stringify(value)}`);
}

export function assertSafeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new InvariantError(`${what} is not a safe integer: ${value}`);
  return value;
}
