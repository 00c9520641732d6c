// `vigil status --journal FILE`: what the ledger of a bot says, read from its journal database
// while the bot runs or after it stopped: open positions, open orders, recent fills, and realized
// PnL and fees per symbol, per day or per round trip. Read-only: it never migrates, locks or
// writes the file; a file from a newer Vigil is refused as the bot would refuse it.

import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { FillRow, OrderRow, PnlRow, PositionRow } from '../journal/ledger.ts';
import { formatUsdt, LedgerReader } from '../journal/ledger.ts';
import { schemaVersion, userVersion } from '../journal/schema.ts';
import { parseFlags, UsageError } from './args.ts';

export const statusUsage = `usage: vigil status --journal FILE [--fills N] [--pnl symbol|day|trip] [--json]
  --journal FILE   the bot's journal database (SQLite); it may be running
  --fills N        how many recent fills to show (default 10)
  --pnl BY         realized PnL and fees per symbol (default), per UTC day, or per round trip
  --json           print the same as JSON`;

type PnlBy = 'symbol' | 'day' | 'trip';

export function runStatusCommand(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(statusUsage);
    return 0;
  }
  const values = parseFlags(argv, { journal: { type: 'string' }, fills: { type: 'string', default: '10' }, pnl: { type: 'string', default: 'symbol' }, json: { type: 'boolean', default: false } });
  const path = values.journal;
  if (path === undefined) throw new UsageError('--journal: the bot\'s journal file is required');
  if (!existsSync(path)) throw new UsageError(`--journal: no such file: ${path}`);
  const fills = Number(values.fills);
  if (!Number.isInteger(fills) || fills < 0) throw new UsageError(`--fills: expected a whole number, got "${values.fills}"`);
  const by = values.pnl;
  if (by !== 'symbol' && by !== 'day' && by !== 'trip') throw new UsageError(`--pnl: expected symbol, day or trip, got "${by}"`);
  const report = readStatus(path, fills, by);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else printStatus(report, by);
  return 0;
}

export type StatusReport = {
  readonly journalEvents: number;
  /** The newest journal entry the ledger reflects (a running bot's ledger trails by a batch). */
  readonly ledgerAsOf: number;
  readonly positions: PositionRow[];
  readonly openOrders: OrderRow[];
  readonly recentFills: FillRow[];
  readonly pnl: PnlRow[];
};

export function readStatus(path: string, fills: number, by: PnlBy): StatusReport {
  let db: DatabaseSync;
  let version: number;
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--journal: ${path} is a directory; name the journal file in it`);
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new UsageError(`--journal: ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    try {
      version = userVersion(db);
    } catch (error) {
      // SQLite's words ("file is not a database", "disk I/O error" for a directory), with the file's name.
      throw new UsageError(`--journal: ${path} cannot be read as a journal: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (version === 0) throw new UsageError(`--journal: ${path} is not a Vigil journal (no schema in it)`);
    if (version > schemaVersion) throw new UsageError(`--journal: ${path} has schema version ${version}, newer than this build of Vigil knows (${schemaVersion}); use the release that wrote it`);
    if (version < schemaVersion) throw new UsageError(`--journal: ${path} has an older schema (version ${version}, this build reads ${schemaVersion}); the bot migrates it when it starts`);
    const ledger = new LedgerReader(db);
    const scalar = (sql: string): number => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
    return {
      // The newest event: the last row's last (a row holds a batch), or, once a clean stop pruned the
      // events its final snapshot covers, that snapshot's.
      journalEvents: Math.max(scalar('SELECT MAX(seq + count - 1) AS n FROM events'), scalar('SELECT MAX(seq) AS n FROM snapshots')),
      ledgerAsOf: scalar("SELECT CAST(value AS INTEGER) AS n FROM meta WHERE key = 'ledger_seq'"),
      positions: ledger.positions(),
      openOrders: ledger.openOrders(),
      recentFills: ledger.recentFills(fills),
      pnl: ledger.pnl(by === 'trip' ? 'round_trip' : by),
    };
  } finally {
    db.close();
  }
}

function printStatus(report: StatusReport, by: PnlBy): void {
  console.log(`journal: ${report.journalEvents} events; ledger as of event ${report.ledgerAsOf}`);
  console.log('\nopen positions');
  if (report.positions.length === 0) console.log('  none');
  for (const p of report.positions) {
    const side = p.size_lots > 0 ? 'long ' : 'short';
    const venue = p.venue_qty === null ? '' : `  venue ${p.venue_qty}`;
    console.log(`  ${p.symbol.padEnd(10)} ${side} ${p.qty.replace('-', '').padStart(10)} @ ${(p.average_entry ?? '-').padEnd(12)} stop ${(p.stop_loss ?? 'NONE').padEnd(10)} take-profit ${(p.take_profit ?? '-').padEnd(10)}${venue}`);
  }
  console.log('\nopen orders');
  if (report.openOrders.length === 0) console.log('  none');
  for (const o of report.openOrders) {
    const at = o.price ?? (o.trigger_price === null ? 'market' : `trigger ${o.trigger_price}`);
    console.log(`  ${o.key.padEnd(30)} ${o.symbol.padEnd(10)} ${o.role.padEnd(12)} ${o.side.padEnd(4)} ${o.qty.padStart(10)} ${at.padEnd(16)} ${o.status}${o.reduce_only === 1 ? ', reduce-only' : ''}`);
  }
  console.log(`\nrecent fills`);
  if (report.recentFills.length === 0) console.log('  none');
  for (const f of report.recentFills) {
    const when = new Date(f.venue_ms).toISOString().replace('T', ' ').slice(0, 19);
    console.log(`  ${when}  ${f.symbol.padEnd(10)} ${f.side.padEnd(4)} ${f.qty.padStart(10)} @ ${f.price.padEnd(12)} fee ${formatUsdt(f.fee_e8).padStart(9)}  pnl ${formatUsdt(f.realized_pnl_e8).padStart(10)}  ${f.role ?? ''}`);
  }
  console.log(`\nrealized PnL per ${by === 'trip' ? 'round trip' : by} (USDT)`);
  if (report.pnl.length === 0) console.log('  none');
  let realized = 0;
  let fees = 0;
  let funding = 0;
  for (const row of report.pnl) {
    realized += row.realized_pnl_e8;
    fees += row.fees_e8;
    funding += row.funding_e8;
    console.log(`  ${row.key.padEnd(28)} ${String(row.fills).padStart(5)} fills  realized ${formatUsdt(row.realized_pnl_e8).padStart(12)}  fees ${formatUsdt(row.fees_e8).padStart(10)}  funding ${formatUsdt(row.funding_e8).padStart(9)}  net ${formatUsdt(row.realized_pnl_e8 - row.fees_e8 - row.funding_e8).padStart(12)}`);
  }
  console.log(`  ${'total'.padEnd(28)} ${''.padStart(11)} realized ${formatUsdt(realized).padStart(12)}  fees ${formatUsdt(fees).padStart(10)}  funding ${formatUsdt(funding).padStart(9)}  net ${formatUsdt(realized - fees - funding).padStart(12)}`);
}
