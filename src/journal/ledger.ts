// The ledger: projections of the engine's ledger records into tables a person or a program can
// query: orders, fills (one row per venue execution id), positions, and realized PnL and fees per
// round trip (flat to flat), per symbol and per day. Written after each applied batch; rebuilt
// from the journal on recovery, so every write here is idempotent: an order or position row is
// replaced by its newer version, a fill is inserted once.
//
// Quantities and prices are stored twice: exact integers (lots, ticks, E8 money) for arithmetic,
// and decimal text in the instrument's own precision for reading.

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { LedgerRecord } from '../core/commands.ts';
import type { Fill } from '../core/events.ts';
import type { Instrument } from '../core/instrument.ts';
import { lotsToQty, ticksToPrice } from '../core/instrument.ts';
import type { Order } from '../core/order/order.ts';
import { filledLots, venueOrderIdOf } from '../core/order/order.ts';
import { averageEntryTicks } from '../core/position/ledger.ts';
import type { Position } from '../core/position/position.ts';
import { formatE8 } from '../core/money.ts';

type Instruments = ReadonlyMap<string, Instrument>;

export class LedgerWriter {
  private readonly upsertOrder: StatementSync;
  private readonly insertFill: StatementSync;
  private readonly upsertPosition: StatementSync;
  private readonly insertFunding: StatementSync;

  constructor(db: DatabaseSync) {
    this.upsertOrder = db.prepare(`INSERT OR REPLACE INTO orders
      (key, symbol, role, side, kind, status, qty, filled_qty, price, trigger_price, reduce_only, venue_order_id, intent_id, created_ms, reason, journal_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertFill = db.prepare(`INSERT OR IGNORE INTO fills
      (execution_id, symbol, side, lots, price_ticks, qty, price, fee_e8, realized_pnl_e8, liquidity, venue_ms, day, venue_seq,
       client_order_id, venue_order_id, role, round_trip, journal_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.upsertPosition = db.prepare(`INSERT OR REPLACE INTO positions
      (symbol, account, size_lots, cost_ticks_lots, qty, average_entry, realized_pnl_e8, fees_e8, funding_e8, fill_count, round_trip, venue_qty, stop_loss, take_profit, journal_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertFunding = db.prepare(`INSERT OR IGNORE INTO funding (execution_id, symbol, fee_e8, venue_ms, day, round_trip, journal_seq)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
  }

  /**
   * Writes batches of records; of an order or a position changed several times only the last
   * version is written (the rows hold the latest state; fills are each written). The caller holds
   * the transaction.
   */
  writeAll(batches: readonly { readonly records: readonly LedgerRecord[]; readonly instruments: Instruments; readonly journalSeq: number }[]): void {
    const latest = new Map<string, { readonly record: LedgerRecord; readonly instruments: Instruments; readonly journalSeq: number }>();
    for (const { records, instruments, journalSeq } of batches) {
      for (const record of records) {
        if (record.kind === 'fill') this.writeFill(record, instruments.get(record.fill.symbol), journalSeq);
        else if (record.kind === 'funding') this.writeFunding(record, journalSeq);
        else latest.set(record.kind === 'order' ? `o:${record.order.key}` : `p:${record.position.key}`, { record, instruments, journalSeq });
      }
    }
    for (const { record, instruments, journalSeq } of latest.values()) this.write([record], instruments, journalSeq);
  }

  /** Writes the records of events up to `journalSeq`; the caller holds the transaction. */
  write(records: readonly LedgerRecord[], instruments: Instruments, journalSeq: number): void {
    for (const record of records) {
      switch (record.kind) {
        case 'order':
          this.writeOrder(record.order, instruments.get(record.order.spec.symbol), journalSeq);
          break;
        case 'fill':
          this.writeFill(record, instruments.get(record.fill.symbol), journalSeq);
          break;
        case 'position':
          this.writePosition(record.position, instruments.get(record.position.symbol), journalSeq);
          break;
        case 'funding':
          this.writeFunding(record, journalSeq);
          break;
      }
    }
  }

  private writeOrder(order: Order, instrument: Instrument | undefined, journalSeq: number): void {
    const { spec } = order;
    const price = spec.type.kind === 'limit' ? spec.type.priceTicks : null;
    const trigger = spec.type.kind === 'stop-market' ? spec.type.triggerTicks : null;
    this.upsertOrder.run(
      order.key, spec.symbol, order.role, spec.side, spec.type.kind, order.status, qty(instrument, spec.sizeLots), qty(instrument, filledLots(order)),
      priceText(instrument, price), priceText(instrument, trigger), spec.reduceOnly ? 1 : 0, venueOrderIdOf(order), order.intentId,
      order.createdMs, 'reason' in order ? order.reason : null, journalSeq,
    );
  }

  private writeFill(record: Extract<LedgerRecord, { kind: 'fill' }>, instrument: Instrument | undefined, journalSeq: number): void {
    const fill: Fill = record.fill;
    this.insertFill.run(
      fill.executionId, fill.symbol, fill.side, fill.lots, fill.priceTicks, qty(instrument, fill.lots), priceText(instrument, fill.priceTicks) ?? String(fill.priceTicks),
      fill.feeE8, record.realizedPnlE8, fill.liquidity, fill.venueMs, new Date(fill.venueMs).toISOString().slice(0, 10), fill.seq,
      fill.clientOrderId, fill.venueOrderId, record.role, record.roundTrip, journalSeq,
    );
  }

  private writeFunding(record: Extract<LedgerRecord, { kind: 'funding' }>, journalSeq: number): void {
    const { funding } = record;
    this.insertFunding.run(funding.executionId, funding.symbol, funding.feeE8, funding.venueMs, new Date(funding.venueMs).toISOString().slice(0, 10), record.roundTrip, journalSeq);
  }

  private writePosition(position: Position, instrument: Instrument | undefined, journalSeq: number): void {
    const entry = averageEntryTicks(position);
    const venue = position.venue;
    this.upsertPosition.run(
      position.symbol, position.account, position.sizeLots, position.costTicksLots, qty(instrument, position.sizeLots),
      entry === null || instrument === undefined ? null : formatTicks(instrument, entry),
      position.realizedPnlE8, position.feesE8, position.fundingE8, position.fillCount, position.sizeLots === 0 ? null : position.openedBy,
      venue === null ? null : qty(instrument, venue.sizeLots), priceText(instrument, venue?.stopLossTicks ?? null), priceText(instrument, venue?.takeProfitTicks ?? null),
      journalSeq,
    );
  }
}

function qty(instrument: Instrument | undefined, lots: number): string {
  if (instrument === undefined) return `${lots} lots`;
  const text = lotsToQty(instrument, Math.abs(lots));
  return lots < 0 ? `-${text}` : text;
}

function priceText(instrument: Instrument | undefined, ticks: number | null): string | null {
  if (ticks === null) return null;
  return instrument === undefined ? `${ticks} ticks` : ticksToPrice(instrument, ticks);
}

/** An average entry is not on the tick grid: shown with two more decimals than the tick. */
function formatTicks(instrument: Instrument, ticks: number): string {
  const whole = ticksToPrice(instrument, Math.floor(ticks));
  const decimals = (whole.split('.')[1]?.length ?? 0) + 2;
  return (Number(ticksToPrice(instrument, 1)) * ticks).toFixed(decimals);
}

// Reading: what the CLI (and later the API and the dashboard) shows.

export type PositionRow = {
  symbol: string; size_lots: number; cost_ticks_lots: number; qty: string; average_entry: string | null; realized_pnl_e8: number; fees_e8: number; funding_e8: number;
  fill_count: number; venue_qty: string | null; stop_loss: string | null; take_profit: string | null;
};
export type OrderRow = {
  key: string; symbol: string; role: string; side: string; kind: string; status: string; qty: string; filled_qty: string;
  price: string | null; trigger_price: string | null; reduce_only: number; created_ms: number;
};
export type FillRow = {
  execution_id: string; symbol: string; side: string; qty: string; price: string; fee_e8: number; realized_pnl_e8: number;
  liquidity: string; venue_ms: number; role: string | null; client_order_id: string | null; lots: number; price_ticks: number;
};
export type PnlRow = { key: string; fills: number; realized_pnl_e8: number; fees_e8: number; funding_e8: number };

export const liveStatuses = ['submitted', 'accepted', 'partially-filled', 'unknown'] as const;

export class LedgerReader {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  positions(includeFlat = false): PositionRow[] {
    return this.db.prepare(`SELECT * FROM positions ${includeFlat ? '' : 'WHERE size_lots != 0'} ORDER BY symbol`).all() as PositionRow[];
  }

  openOrders(): OrderRow[] {
    const marks = liveStatuses.map(() => '?').join(', ');
    return this.db.prepare(`SELECT * FROM orders WHERE status IN (${marks}) ORDER BY created_ms, key`).all(...liveStatuses) as OrderRow[];
  }

  recentFills(limit: number): FillRow[] {
    return this.db.prepare('SELECT * FROM fills ORDER BY venue_ms DESC, venue_seq DESC LIMIT ?').all(limit) as FillRow[];
  }

  allFills(): FillRow[] {
    return this.db.prepare('SELECT * FROM fills ORDER BY venue_ms, venue_seq').all() as FillRow[];
  }

  /** Realized PnL, fees and funding grouped by symbol, by UTC day, or by round trip. */
  pnl(by: 'symbol' | 'day' | 'round_trip'): PnlRow[] {
    const key = by === 'round_trip' ? "symbol || ' ' || round_trip" : by;
    return this.db.prepare(`SELECT ${key} AS key, SUM(fill) AS fills, SUM(realized) AS realized_pnl_e8, SUM(fee) AS fees_e8, SUM(funding) AS funding_e8
      FROM (SELECT symbol, day, round_trip, venue_ms, 1 AS fill, realized_pnl_e8 AS realized, fee_e8 AS fee, 0 AS funding FROM fills
            UNION ALL SELECT symbol, day, round_trip, venue_ms, 0, 0, 0, fee_e8 FROM funding)
      GROUP BY ${key} ORDER BY MIN(venue_ms)`).all() as PnlRow[];
  }
}

export function formatUsdt(amountE8: number): string {
  return formatE8(amountE8, 4);
}
