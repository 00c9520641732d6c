// A map of records in two tiers: those in play, and those kept only to be recognized.
//
// The state remembers every order and intent of the last hour (retainSettledMs), so that a late or
// stale report of a finished one is known for what it is. A bot that trades often holds several
// settled records for each live one, and every ticker looks up its symbol's intent and stop among
// them: in bench/protection, a table three times as large cost each quiet ticker about 10 ns more.
// Retiring a settled record moves it to the second tier: looked up only when the first misses, it
// no longer crowds the records a ticker reads.
//
// It reads like a Map holding both tiers: what a lookup finds does not depend on the tier; only
// iteration order does (the live tier first, each in insertion order), which is as deterministic
// as the steps that retire, and kept by the journal's snapshots (see journal/state-codec.ts).

export class TieredMap<K, V> {
  readonly #live = new Map<K, V>();
  readonly #retired = new Map<K, V>();

  get size(): number {
    return this.#live.size + this.#retired.size;
  }

  /** How many records are retired: the tail of an iteration. */
  get retiredSize(): number {
    return this.#retired.size;
  }

  get(key: K): V | undefined {
    const value = this.#live.get(key);
    return value !== undefined ? value : this.#retired.get(key);
  }

  has(key: K): boolean {
    return this.#live.has(key) || this.#retired.has(key);
  }

  /** Stores a record in play: a retired one that changes comes back to the live tier. */
  set(key: K, value: V): this {
    if (this.#retired.size !== 0) this.#retired.delete(key);
    this.#live.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.#live.delete(key) || this.#retired.delete(key);
  }

  /** Stores a record kept only to be recognized (a settled one): in the retired tier. */
  setRetired(key: K, value: V): this {
    if (this.#live.size !== 0) this.#live.delete(key);
    this.#retired.set(key, value);
    return this;
  }

  /** Moves a live record to the retired tier (nothing if it is retired already, or absent). */
  retire(key: K): void {
    const value = this.#live.get(key);
    if (value === undefined) return;
    this.#live.delete(key);
    this.#retired.set(key, value);
  }

  *entries(): Generator<[K, V]> {
    yield* this.#live;
    yield* this.#retired;
  }

  *keys(): Generator<K> {
    yield* this.#live.keys();
    yield* this.#retired.keys();
  }

  *values(): Generator<V> {
    yield* this.#live.values();
    yield* this.#retired.values();
  }

  [Symbol.iterator](): Generator<[K, V]> {
    return this.entries();
  }
}
