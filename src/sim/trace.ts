// The trace of a simulation run: one line per thing that happened, a running hash of all lines
// (so a seed can be checked to reproduce exactly), and the last lines kept for failure reports.

export const traceTailLinesMax = 80;

export class Trace {
  private hashValue = 0x811c9dc5;
  private readonly tail: string[] = [];
  private lines = 0;
  private readonly sink: ((line: string) => void) | null;

  constructor(sink: ((line: string) => void) | null) {
    this.sink = sink;
  }

  add(atMs: number, text: string): void {
    const line = `${String(atMs).padStart(8)} ${text}`;
    for (let i = 0; i < line.length; i += 1) {
      this.hashValue ^= line.charCodeAt(i);
      this.hashValue = Math.imul(this.hashValue, 0x01000193) >>> 0;
    }
    this.lines += 1;
    this.tail.push(line);
    if (this.tail.length > traceTailLinesMax) this.tail.shift();
    this.sink?.(line);
  }

  get hash(): string {
    return this.hashValue.toString(16).padStart(8, '0');
  }

  get count(): number {
    return this.lines;
  }

  lastLines(): readonly string[] {
    return this.tail;
  }
}
