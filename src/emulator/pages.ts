// Cursor pagination of the emulator's list endpoints, as Bybit pages: `limit` items at most, and a
// `nextPageCursor` that is "" on the last page.
//
// A cursor names the rank of the last item it returned (keyset paging), so a list that changes
// between pages neither repeats nor skips an item that stayed in it. It is written the way Bybit
// writes its own, percent-encoded (`page_args%3D12%26`), which a client must send back as it came;
// the emulator also accepts it encoded once more, and refuses anything else with 10001.
//
// Invariants: the items are given in list order with ranks strictly monotonic in that order; a
// page never holds more than `limit` items; the cursor of the last page is "".

import { badParam } from './replies.ts';

export type PageOf<T> = { readonly items: T[]; readonly nextPageCursor: string };

/** The page after `cursor` ("" for the first), items ranked descending (`newestFirst`) or ascending. */
export function pageAfter<T>(items: readonly T[], rankOf: (item: T) => number, cursor: string, limit: number, newestFirst: boolean): PageOf<T> {
  const afterRank = cursor === '' ? null : cursorRank(cursor);
  const start = afterRank === null ? 0 : items.findIndex((item) => (newestFirst ? rankOf(item) < afterRank : rankOf(item) > afterRank));
  const from = start < 0 ? items.length : start;
  const page = items.slice(from, from + limit);
  const last = page[page.length - 1];
  const more = from + limit < items.length;
  return { items: page, nextPageCursor: more && last !== undefined ? `page_args%3D${rankOf(last)}%26` : '' };
}

function cursorRank(cursor: string): number {
  let text = cursor;
  for (let round = 0; round < 3 && text.includes('%'); round += 1) {
    try {
      text = decodeURIComponent(text);
    } catch {
      break;
    }
  }
  const match = /^page_args=(\d{1,15})&$/.exec(text);
  return match?.[1] === undefined ? badParam(`params error: cursor is invalid: ${cursor}`) : Number(match[1]);
}
