// Assertions for the core. A failed assertion is a bug, never an expected outcome: expected
// outcomes (rejections, duplicates, timeouts) are modelled as events and results instead.

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

export function assertNever(value: never): never {
  throw new InvariantError(`unhandled variant: ${JSON.stringify(value)}`);
}

export function assertSafeInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new InvariantError(`${what} is not a safe integer: ${value}`);
  return value;
}
