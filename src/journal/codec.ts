// Events as journal lines: one event per line, a batch's lines joined into one journal row.
// Tickers are most of what a bot receives, so they get a compact line of their own, written and
// read without JSON (`t,atMs,symbol,last,mark,venueMs`; an empty field is null); every other event
// is its JSON. Neither form contains a newline (JSON escapes them in strings; symbols have none).
//
// Invariants: decodeLine(encodeLine(event)) deep-equals event; a line that is neither form, or
// JSON that is not an event, decodes to null (the caller treats the row as damaged).

import type { Event, EventOf } from '../core/events.ts';

export function encodeLine(event: Event): string {
  if (event.type !== 'TickerUpdated') return JSON.stringify(event);
  const { atMs, symbol, lastTicks, markTicks, venueMs } = event;
  return `t,${atMs},${symbol},${lastTicks ?? ''},${markTicks ?? ''},${venueMs}`;
}

export function encodeBatch(events: readonly Event[]): string {
  let body = '';
  for (let i = 0; i < events.length; i += 1) body += (i === 0 ? '' : '\n') + encodeLine(events[i] as Event);
  return body;
}

export function decodeLine(line: string): Event | null {
  if (line.startsWith('t,')) return decodeTicker(line);
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || !('type' in value) || typeof value.type !== 'string' || !('atMs' in value)) return null;
    return value as Event;
  } catch {
    return null;
  }
}

function decodeTicker(line: string): EventOf<'TickerUpdated'> | null {
  const parts = line.split(',');
  if (parts.length !== 6) return null;
  const [, atMs, symbol, last, mark, venueMs] = parts;
  const number = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));
  const event = { type: 'TickerUpdated' as const, atMs: Number(atMs), symbol: symbol ?? '', lastTicks: number(last), markTicks: number(mark), venueMs: Number(venueMs) };
  const valid = Number.isSafeInteger(event.atMs) && Number.isSafeInteger(event.venueMs) && event.symbol !== '' &&
    (event.lastTicks === null || Number.isSafeInteger(event.lastTicks)) && (event.markTicks === null || Number.isSafeInteger(event.markTicks));
  return valid ? event : null;
}
