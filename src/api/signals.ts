// Signals: what POST /api/signals accepts, how it becomes an engine event, and how the engine's
// answer becomes an HTTP answer.
//
// A signal is validated whole before anything happens (a bad one changes nothing and is not
// journaled); a valid one becomes OpenRequested or CloseRequested with request id `api:<id>` (its
// own namespace: an operator's id can never collide with a strategy's). The engine remembers every
// request id with its outcome (state.requests), so a signal repeated with the same id is a no-op,
// across restarts too (the memory is in the journal), and the API answers it from that memory.
//
// The engine's outcome is text ("accepted as <intent>", "closing <intent>", "rejected: <reason>");
// `answerOf` is the one place that reads it. A rejection is 409 when the request is sound but the
// bot's state refuses it now (not trading yet, the symbol already has a position, nothing to
// close, no price yet) and 422 when the request itself cannot be carried out as asked (an unknown
// symbol, a size below the minimum, a stop on the wrong side of the entry).

import { z } from 'zod';
import type { Incoming } from '../shell/ports.ts';

export const signalIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
export const requestIdPrefix = 'api:';

const decimal = z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'required (expected a decimal)' : 'expected a positive decimal, such as "1.5" (text keeps it exact)') })
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .refine((text) => /^\d+(\.\d+)?$/.test(text) && Number(text) > 0, 'expected a positive decimal, such as "1.5" (text keeps it exact)');

const percent = z.number().gt(0, 'expected a percent above 0').lt(100, 'expected a percent below 100');

/** A price, or a distance in percent from the entry: exactly one of the two. */
const priceOrPercent = z.strictObject({ price: decimal.optional(), percent: percent.optional() })
  .refine((value) => (value.price === undefined) !== (value.percent === undefined), 'expected exactly one of price or percent');

const entry = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('market') }),
  z.strictObject({ kind: z.literal('limit'), price: decimal }),
]);

const id = z.string().regex(signalIdPattern, 'expected 1 to 64 characters of A-Z, a-z, 0-9 and . _ : - (a repeat with the same id is a no-op)');
const symbol = z.string().regex(/^[A-Z0-9]{2,30}$/, 'expected a symbol in capitals, such as SOLUSDT');

const openSignal = z.strictObject({
  id,
  action: z.literal('open'),
  symbol,
  side: z.enum(['buy', 'sell']),
  quantity: decimal.optional(),
  notional: decimal.optional(),
  entry: entry.default({ kind: 'market' }),
  stopLoss: priceOrPercent,
  takeProfit: priceOrPercent.nullable().default(null),
}).superRefine((value, context) => {
  if ((value.quantity === undefined) === (value.notional === undefined)) {
    context.addIssue({ code: 'custom', path: ['quantity'], message: 'expected exactly one of quantity (in the base coin) or notional (in USDT)' });
  }
});

const closeSignal = z.strictObject({ id, action: z.literal('close'), symbol });

export const signalSchema = z.discriminatedUnion('action', [openSignal, closeSignal]);

export type Signal = z.output<typeof signalSchema>;

export type SignalParse = { readonly ok: true; readonly signal: Signal } | { readonly ok: false; readonly reasons: readonly string[] };

export function parseSignal(body: unknown): SignalParse {
  const parsed = signalSchema.safeParse(body);
  if (parsed.success) return { ok: true, signal: parsed.data };
  const reasons = parsed.error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${path === '' ? '' : `${path}.`}${key}: unknown field`);
    const message = issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? `required (expected ${issue.expected})` : issue.message.replace(/^Invalid input: /, '');
    return [`${path === '' ? '(body)' : path}: ${message}`];
  });
  return { ok: false, reasons };
}

export function requestIdOf(signal: Signal): string {
  return `${requestIdPrefix}${signal.id}`;
}

/** The engine event a valid signal becomes. */
export function incomingOf(signal: Signal): Incoming {
  const requestId = requestIdOf(signal);
  if (signal.action === 'close') return { type: 'CloseRequested', requestId, symbol: signal.symbol };
  const priceRequest = (value: { readonly price?: string | undefined; readonly percent?: number | undefined }): { readonly price: string } | { readonly percent: number } =>
    value.price !== undefined ? { price: value.price } : { percent: value.percent ?? 0 };
  return {
    type: 'OpenRequested',
    requestId,
    symbol: signal.symbol,
    side: signal.side,
    size: signal.quantity !== undefined ? { quantity: signal.quantity } : { notional: signal.notional ?? '0' },
    entry: signal.entry,
    stopLoss: priceRequest(signal.stopLoss),
    takeProfit: signal.takeProfit === null ? null : priceRequest(signal.takeProfit),
  };
}

export type SignalAnswer =
  | { readonly result: 'accepted'; readonly status: 200; readonly intent: string | null; readonly outcome: string }
  | { readonly result: 'rejected'; readonly status: 409 | 422; readonly reason: string; readonly outcome: string };

/** Rejections about the bot's state at the moment, not about the request (see the header). */
const stateConflicts = [
  /already has an? (?:active position|open position)/,
  /^no open position or entry on /,
  /^not trading yet/,
  /stream is down/,
  /^no (?:market price|live prices|price to measure)/,
];

/** Reads the engine's remembered outcome of a request. */
export function answerOf(outcome: string): SignalAnswer {
  const rejected = /^rejected: (.*)$/s.exec(outcome);
  if (rejected !== null) {
    const reason = rejected[1] ?? outcome;
    return { result: 'rejected', status: stateConflicts.some((pattern) => pattern.test(reason)) ? 409 : 422, reason, outcome };
  }
  const intent = /^(?:accepted as|closing) (\S+)$/.exec(outcome)?.[1] ?? null;
  return { result: 'accepted', status: 200, intent, outcome };
}
