// Events as journal records: a batch of events becomes one binary body, one record per event.
// Tickers are most of what a bot receives, so they get a fixed binary record, written and read
// without any text conversion; every other event is its JSON, in UTF-8, behind its length.
//
//   ticker: 0x01, f64 atMs, f64 venueMs, f64 lastTicks (NaN: none), f64 markTicks (NaN: none),
//           u8 symbol length, symbol (ASCII)
//   other:  0x02, u32 length, JSON (UTF-8)
//
// All numbers little-endian. Integers up to 2^53 are exact in an f64, which covers every tick
// count and millisecond the engine can hold (they are safe integers by construction).
//
// Invariants: decodeBatch(encodeBatch(events)) deep-equals events; a body that does not parse as
// exactly `count` records, each a valid event, decodes to an error saying where (the caller treats
// the row as damaged).

import type { Event, EventOf } from '../core/events.ts';

const tickerTag = 0x01;
const jsonTag = 0x02;
const tickerFixedBytes = 1 + 8 * 4 + 1;
/** A symbol is a few ASCII characters; anything longer goes as JSON. */
const symbolBytesMax = 64;

export function encodeBatch(events: readonly Event[]): Buffer {
  let capacity = 0;
  const texts: (string | null)[] = new Array<string | null>(events.length);
  for (let i = 0; i < events.length; i += 1) {
    const event = events[i] as Event;
    if (isCompactTicker(event)) {
      texts[i] = null;
      capacity += tickerFixedBytes + event.symbol.length;
    } else {
      const text = JSON.stringify(event);
      texts[i] = text;
      capacity += 5 + text.length * 3; // UTF-8 takes at most 3 bytes per UTF-16 unit
    }
  }
  const body = Buffer.allocUnsafe(capacity);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  for (let i = 0; i < events.length; i += 1) {
    const text = texts[i];
    if (text === null || text === undefined) {
      const ticker = events[i] as EventOf<'TickerUpdated'>;
      // Through a DataView and byte by byte, which the optimizing compiler inlines: Buffer's
      // write methods (the symbol's a call into C++) took twice as long, 108 ns a ticker against 51.
      const { symbol } = ticker;
      view.setUint8(at, tickerTag);
      view.setFloat64(at + 1, ticker.atMs, true);
      view.setFloat64(at + 9, ticker.venueMs, true);
      view.setFloat64(at + 17, ticker.lastTicks ?? Number.NaN, true);
      view.setFloat64(at + 25, ticker.markTicks ?? Number.NaN, true);
      view.setUint8(at + 33, symbol.length);
      at += tickerFixedBytes;
      for (let c = 0; c < symbol.length; c += 1) body[at + c] = symbol.charCodeAt(c);
      at += symbol.length;
    } else {
      at = body.writeUInt8(jsonTag, at);
      const length = body.write(text, at + 4, 'utf8');
      body.writeUInt32LE(length, at);
      at += 4 + length;
    }
  }
  return at === capacity ? body : body.subarray(0, at);
}

function isCompactTicker(event: Event): event is EventOf<'TickerUpdated'> {
  return event.type === 'TickerUpdated' && event.symbol.length <= symbolBytesMax && isAscii(event.symbol);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export type DecodedBatch = { readonly ok: true; readonly events: Event[] } | { readonly ok: false; readonly reason: string };

export function decodeBatch(body: Uint8Array, count: number): DecodedBatch {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const events: Event[] = [];
  let at = 0;
  while (at < buffer.length) {
    const tag = buffer[at];
    if (tag === tickerTag) {
      if (at + tickerFixedBytes > buffer.length) return { ok: false, reason: `record ${events.length + 1}: ticker cut short` };
      const symbolLength = buffer.readUInt8(at + tickerFixedBytes - 1);
      const end = at + tickerFixedBytes + symbolLength;
      if (end > buffer.length) return { ok: false, reason: `record ${events.length + 1}: ticker cut short` };
      const ticker: EventOf<'TickerUpdated'> = {
        type: 'TickerUpdated', atMs: buffer.readDoubleLE(at + 1), symbol: buffer.toString('latin1', end - symbolLength, end),
        lastTicks: orNull(buffer.readDoubleLE(at + 17)), markTicks: orNull(buffer.readDoubleLE(at + 25)), venueMs: buffer.readDoubleLE(at + 9),
      };
      if (!isValidTicker(ticker)) return { ok: false, reason: `record ${events.length + 1}: not a valid ticker` };
      events.push(ticker);
      at = end;
    } else if (tag === jsonTag) {
      if (at + 5 > buffer.length) return { ok: false, reason: `record ${events.length + 1}: cut short` };
      const end = at + 5 + buffer.readUInt32LE(at + 1);
      if (end > buffer.length) return { ok: false, reason: `record ${events.length + 1}: cut short` };
      const event = parseEvent(buffer.toString('utf8', at + 5, end));
      if (event === null) return { ok: false, reason: `record ${events.length + 1}: not a journal event` };
      events.push(event);
      at = end;
    } else {
      return { ok: false, reason: `record ${events.length + 1}: unknown tag ${String(tag)}` };
    }
  }
  if (events.length !== count) return { ok: false, reason: `${events.length} events where the row says ${count}` };
  return { ok: true, events };
}

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function isValidTicker(ticker: EventOf<'TickerUpdated'>): boolean {
  const tickOk = (ticks: number | null): boolean => ticks === null || Number.isSafeInteger(ticks);
  return Number.isSafeInteger(ticker.atMs) && Number.isSafeInteger(ticker.venueMs) && ticker.symbol !== '' && tickOk(ticker.lastTicks) && tickOk(ticker.markTicks);
}

function parseEvent(text: string): Event | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || !('type' in value) || typeof value.type !== 'string' || !('atMs' in value)) return null;
    return value as Event;
  } catch {
    return null;
  }
}
