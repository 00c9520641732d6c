// A secret read from the environment (a venue key, the API token), in a wrapper that will not print
// itself: string conversion, JSON and Node's inspector (console.log, util.format, error dumps) all
// show `[secret <VARIABLE>]`. The value comes out only through `reveal()`, which names the one
// place that hands it on (a request signature, a token comparison).
//
// Invariants: no log line, error message or JSON of a configuration can contain a secret's value
// by accident; the variable's name (which is not secret) is kept, so messages can say where the
// value came from.

import { inspect } from 'node:util';

export class Secret {
  readonly variable: string;
  readonly #value: string;

  constructor(variable: string, value: string) {
    this.variable = variable;
    this.#value = value;
  }

  /** The value itself: only for the code that must use it (never for output). */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return this.redacted();
  }

  toJSON(): string {
    return this.redacted();
  }

  [inspect.custom](): string {
    return this.redacted();
  }

  private redacted(): string {
    return `[secret ${this.variable}]`;
  }
}
