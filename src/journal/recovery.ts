// Recovery: the engine's state rebuilt from the journal after a restart, planned or not.
//
//   1. the newest intact snapshot (or an empty state), checked against the hash stored with it;
//   2. the tail of events after it, replayed through the same `step`, commands discarded (they
//      were acted on, or not, by the process that died; what became of them is the venue's to
//      say); the ledger records of the tail are projected again (idempotently);
//   3. a damaged entry in the tail ends the replay there: the journal is cut back to it, and the
//      ledger to the entries before it. An entry intact but unreadable (a newer build's) stops the
//      start instead: it is not damage.
//
// Then the caller starts the engine (`EngineStarted`): in-flight orders become unknown and are
// settled by client order id, and the startup lifecycle reconciles everything with the venue.
//
// Invariants: the state after recovery equals the state the dead process had after its last
// journaled event (replay is deterministic); recovery never sends anything.

import type { LedgerRecord } from '../core/commands.ts';
import { stateHash } from '../core/digest.ts';
import { step as engineStep } from '../core/engine/step.ts';
import type { StepFunction } from '../shell/runtime.ts';
import type { EngineConfig, EngineState } from '../core/state.ts';
import { createEngineState } from '../core/state.ts';
import type { SqliteJournal, StoredSnapshot } from './sqlite.ts';
import { decodeState, stateFormat } from './state-codec.ts';

export type Recovered = {
  readonly state: EngineState;
  /** The snapshot the state started from (0: none, replayed from the first event). */
  readonly snapshotSeq: number;
  readonly replayed: number;
  /** Entries cut from a damaged tail. */
  readonly cut: number;
  readonly ms: number;
};

export class RecoveryError extends Error {}

/** Records are projected in chunks of this many events (one transaction each). */
const projectEvery = 10_000;

/** `step` is the engine's; replaceable only so the simulation can recover a deliberately broken one. */
export function recover(journal: SqliteJournal, config: Partial<EngineConfig>, step: StepFunction = engineStep): Recovered {
  const startedMs = performance.now();
  const { usable, unusable, formats } = journal.snapshots();
  const problems = [...unusable];
  let state = createEngineState(config);
  let snapshotSeq = 0;
  // The newest snapshot that decodes to the state it was written from; an older one, or the events
  // from the start, if it does not (a build that changed the state's shape without its format).
  for (const snapshot of usable) {
    const decoded = decodedSnapshot(snapshot, config);
    if (decoded.ok) {
      state = decoded.state;
      snapshotSeq = snapshot.seq;
      break;
    }
    problems.push(`the snapshot at event ${snapshot.seq} ${decoded.reason}`);
    journal.log(`journal ${journal.path}: snapshot at event ${snapshot.seq} ${decoded.reason}; not used`);
  }
  // (Every snapshot an earlier release's: one damaged, or a newer release's, is no upgrade.)
  if (formats.length > 0 && formats.every((format) => format < stateFormat) && journal.firstSeq > 1) {
    // An upgrade whose state format is new, after a clean stop (its final snapshot, the events
    // before it pruned): what a start without a journal does, from the venue alone (the startup
    // reconciliation restores our orders by client order id, the positions with their symbol's
    // configured plan), in this file, which keeps the ledger's history. A fresh snapshot in this
    // build's format marks where the new state starts.
    const fresh = createEngineState(config);
    journal.log(`journal ${journal.path}: its snapshots are in state format ${Math.max(...formats)}, from an earlier release (this one reads ${stateFormat}), ` +
      `and the events before ${journal.firstSeq} were pruned: the state starts afresh from the venue, as without a journal; the ledger's history is kept. ` +
      "A signal's own protection plan (its overrides) is not known any more: its position gets its symbol's configured plan.");
    journal.writeSnapshot(fresh);
    return { state: fresh, snapshotSeq: journal.size, replayed: 0, cut: 0, ms: performance.now() - startedMs };
  }
  if (snapshotSeq === 0 && journal.firstSeq > 1) {
    // Older events were pruned and no snapshot is usable: the state cannot be rebuilt from the
    // journal. Start as a bot without a journal does, from the venue alone (reconciliation restores
    // our orders by client order id); the journal's events stay as they are.
    throw new RecoveryError(`journal ${journal.path}: no usable snapshot (${problems.length === 0 ? 'none written' : problems.join('; ')}), and the events before ${journal.firstSeq} were pruned: ` +
      'the state cannot be rebuilt from this file. Start the build that wrote it, or move the file aside and start with a new journal: the startup reconciliation rebuilds the state from the venue.');
  }
  let replayed = 0;
  let cut = 0;
  let records: LedgerRecord[] = [];
  let lastSeq = snapshotSeq;
  for (const row of journal.rowsAfter(snapshotSeq)) {
    if ('damage' in row) {
      if (row.unreadable) {
        throw new RecoveryError(`journal ${journal.path}: entry ${row.seq} is intact but this build cannot read it (${row.damage}): a newer release wrote it. ` +
          'Start that release; the journal is left as it is.');
      }
      if (row.seq <= snapshotSeq) {
        // (Snapshots are taken between batches, so a row never holds both sides of one.)
        throw new RecoveryError(`journal ${journal.path}: entry ${row.seq}, inside the row that holds the snapshot's last event, is damaged (${row.damage}); ` +
          'the journal needs a look before this bot trades again.');
      }
      journal.project(records, state, lastSeq);
      records = [];
      cut = journal.truncateFrom(row.seq, row.damage);
      break;
    }
    let commands;
    try {
      commands = step(state, row.event);
    } catch (error) {
      throw new RecoveryError(`journal ${journal.path}: replaying entry ${row.seq} (${row.event.type}) failed: ${error instanceof Error ? error.message : String(error)}. ` +
        'The process that wrote it halted on the same entry; the journal needs a look before this bot trades again.');
    }
    for (const command of commands) if (command.type === 'Record') records.push(command.record);
    replayed += 1;
    lastSeq = row.seq;
    if (replayed % projectEvery === 0) {
      journal.project(records, state, lastSeq);
      records = [];
    }
  }
  // After a cut, the ledger's order and position rows as the recovered state has them: a row a cut
  // entry wrote is ahead of it (truncateFrom dropped the cut entries' fills and positions).
  if (cut > 0) {
    for (const order of state.orders.values()) records.push({ kind: 'order', order });
    for (const position of state.positions.values()) records.push({ kind: 'position', position });
  }
  journal.project(records, state, lastSeq);
  return { state, snapshotSeq, replayed, cut, ms: performance.now() - startedMs };
}

function decodedSnapshot(snapshot: StoredSnapshot, config: Partial<EngineConfig>): { readonly ok: true; readonly state: EngineState } | { readonly ok: false; readonly reason: string } {
  let state: EngineState;
  try {
    state = decodeState(snapshot.state, config);
  } catch (error) {
    return { ok: false, reason: `does not decode (${error instanceof Error ? error.message : String(error)})` };
  }
  const hash = stateHash(state);
  return hash === snapshot.stateHash ? { ok: true, state } : { ok: false, reason: `decodes to state ${hash}, not ${snapshot.stateHash} as written` };
}

/**
 * Replays the whole journal from its first event and checks the state against every snapshot's
 * hash on the way: the proof that the journal alone reproduces the state the engine had.
 */
export function verifyReplay(journal: SqliteJournal, config: Partial<EngineConfig>): { readonly events: number; readonly snapshotsChecked: number; readonly mismatches: readonly string[] } {
  const hashes = new Map((journal.database.prepare('SELECT seq, state_hash FROM snapshots').all() as { seq: number; state_hash: string }[]).map((row) => [row.seq, row.state_hash]));
  const state = createEngineState(config);
  const mismatches: string[] = [];
  let events = 0;
  let snapshotsChecked = 0;
  if (journal.firstSeq > 1) return { events, snapshotsChecked, mismatches: [`the events before ${journal.firstSeq} were pruned (keepAllEvents keeps them)`] };
  for (const row of journal.rowsAfter(0)) {
    if ('damage' in row) {
      mismatches.push(`entry ${row.seq}: ${row.damage}`);
      break;
    }
    engineStep(state, row.event);
    events += 1;
    const expected = hashes.get(row.seq);
    if (expected === undefined) continue;
    snapshotsChecked += 1;
    const actual = stateHash(state);
    if (actual !== expected) mismatches.push(`after entry ${row.seq}: replay gives ${actual}, the snapshot says ${expected}`);
  }
  return { events, snapshotsChecked, mismatches };
}
