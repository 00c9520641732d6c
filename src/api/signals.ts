// Signals: what POST /api/signals (and POST /webhook, webhook.ts) accepts, how it becomes an
// engine event, and how the engine's answer becomes an HTTP answer.
//
// A signal is validated whole before anything happens (a bad one changes nothing and is not
// journaled); a valid one becomes OpenRequested or CloseRequested with request id `api:<id>` (or
// `tv:<id>` from the webhook: each source its own namespace, so an operator's id can never collide
// with a strategy's or an alert's). The engine remembers every request id with its outcome
// (state.requests), so a signal repeated with the same id is a no-op, across restarts too (the
// memory is in the journal), and the API answers it from that memory; a different signal under a
// used id is refused instead, told apart by the fingerprint the engine keeps of what each id asked.
//
// An open signal is laid over the configured protection plan of its symbol (src/config/protection.ts):
// it may leave out `stopLoss` when the plan has one, and may override any of the plan's fields
// (`stopLoss`, `stopTriggerBy`, `takeProfits`, `breakevenAfterFirstTarget`, `trailing`, `aged`); a
// single `takeProfit` replaces the plan's ladder. The result is one OpenRequested with its
// `protection`, or reasons naming each field that is wrong.
//
// The engine's outcome is text ("accepted as <intent>", "closing <intent>", "rejected: <reason>");
// `answerOf` is the one place that reads it. A rejection is 409 when the request is sound but the
// bot's state refuses it now (not trading yet, the symbol already has a position, nothing to
// close, no price yet) and 422 when the request itself cannot be carried out as asked (an unknown
// symbol, a size below the minimum, a stop on the wrong side of the entry).

import { z } from 'zod';
import type { EntryRequest, PriceRequest, SizeRequest } from '../core/events.ts';
import type { ProtectionRequest } from '../core/protection/plan.ts';
import type { Side } from '../core/types.ts';
import type { PlanSettings, ProtectionConfig } from '../config/protection.ts';
import { checkNotional, decimalTextOf, mergePlan, noProtection, planPartsOf, settingsForSymbol, signalPlanFields, venueTrailingNeedsAttachedStops } from '../config/protection.ts';
import { issueText } from '../config/load.ts';
import type { Incoming } from '../shell/ports.ts';

export const signalIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

export type SignalSource = 'api' | 'webhook';
/** Each source its own namespace of request ids. */
export const requestIdPrefixes: Readonly<Record<SignalSource, string>> = { api: 'api:', webhook: 'tv:' };
export const requestIdPrefix = requestIdPrefixes.api;

/** What a signal is read against: the configured plans, and whether the venue holds the stops (a venue-side trailing stop needs it). */
export type SignalContext = { readonly protection: ProtectionConfig; readonly attachedStops: boolean };
export const noPlans: SignalContext = { protection: noProtection, attachedStops: true };

const decimal = z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'required (expected a decimal)' : 'expected a positive decimal, such as "1.5" (text keeps it exact)') })
  .transform((value) => (typeof value === 'number' ? decimalTextOf(value) : value.trim()))
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

const openFields = {
  id,
  action: z.literal('open'),
  symbol,
  side: z.enum(['buy', 'sell']),
  quantity: decimal.optional(),
  notional: decimal.superRefine(checkNotional).optional(),
  entry: entry.default({ kind: 'market' }),
  /** A single take-profit; replaces the configured ladder. */
  takeProfit: priceOrPercent.nullable().default(null),
  ...signalPlanFields,
};

type OpenFields = z.output<z.ZodObject<typeof openFields>>;

type Issue = { readonly path: readonly (string | number)[]; readonly message: string };

/** What an open signal cannot be, given the configured plan and the engine (beyond each field's own checks). */
function openIssues(value: OpenFields, context: SignalContext): Issue[] {
  const issues: Issue[] = [];
  if ((value.quantity === undefined) === (value.notional === undefined)) {
    issues.push({ path: ['quantity'], message: 'expected exactly one of quantity (in the base coin) or notional (in USDT)' });
  }
  if (value.takeProfit !== null && value.takeProfits !== undefined) {
    issues.push({ path: ['takeProfits'], message: 'give takeProfit (one target) or takeProfits (a ladder), not both' });
  }
  if (value.stopLoss === undefined && settingsForSymbol(context.protection, value.symbol).stopLoss === undefined) {
    issues.push({ path: ['stopLoss'], message: `required (expected object): no stop-loss is configured for ${value.symbol} (protection)` });
  }
  if (value.trailing?.mode === 'venue' && !context.attachedStops) issues.push({ path: ['trailing', 'mode'], message: venueTrailingNeedsAttachedStops });
  const prices = (value.takeProfits ?? []).map((target) => (target.price === undefined ? null : Number(target.price)));
  for (let index = 1; index < prices.length; index += 1) {
    const before = prices[index - 1];
    const here = prices[index];
    if (before === null || before === undefined || here === null || here === undefined) continue;
    if (value.side === 'buy' ? !(here > before) : !(here < before)) {
      issues.push({ path: ['takeProfits', index, 'price'], message: `expected a target further from the entry than the one before it: ${value.side === 'buy' ? 'above' : 'below'} it for a ${value.side === 'buy' ? 'long' : 'short'}` });
    }
  }
  return issues;
}

function schemaFor(context: SignalContext) {
  const open = z.strictObject(openFields).superRefine((value, refinement) => {
    for (const issue of openIssues(value, context)) refinement.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
  });
  const close = z.strictObject({ id, action: z.literal('close'), symbol });
  return z.discriminatedUnion('action', [open, close]);
}

const schemas = new WeakMap<SignalContext, ReturnType<typeof schemaFor>>();

function cachedSchema(context: SignalContext): ReturnType<typeof schemaFor> {
  let schema = schemas.get(context);
  if (schema === undefined) {
    schema = schemaFor(context);
    schemas.set(context, schema);
  }
  return schema;
}

export type OpenSignal = {
  readonly source: SignalSource;
  readonly id: string;
  readonly action: 'open';
  readonly symbol: string;
  readonly side: Side;
  readonly size: SizeRequest;
  readonly entry: EntryRequest;
  readonly stopLoss: PriceRequest;
  readonly takeProfit: PriceRequest | null;
  /** Left out when neither the configuration nor the signal asks for more than the stop and the take-profit. */
  readonly protection?: ProtectionRequest;
};
export type CloseSignal = { readonly source: SignalSource; readonly id: string; readonly action: 'close'; readonly symbol: string };
export type Signal = OpenSignal | CloseSignal;

export type SignalParse = { readonly ok: true; readonly signal: Signal } | { readonly ok: false; readonly reasons: readonly string[] };

/** Reads a signal's body against the configured plans; every problem is a reason naming its field. */
export function parseSignal(body: unknown, context: SignalContext = noPlans, source: SignalSource = 'api'): SignalParse {
  const parsed = cachedSchema(context).safeParse(body);
  if (!parsed.success) return { ok: false, reasons: reasonsOf(parsed.error.issues) };
  const value = parsed.data;
  if (value.action === 'close') return { ok: true, signal: { source, id: value.id, action: 'close', symbol: value.symbol } };
  return openSignalOf(value, context, source);
}

/** Zod's issues as `field.path: what is wrong`, one per problem. */
export function reasonsOf(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${path === '' ? '' : `${path}.`}${key}: unknown field`);
    return [`${path === '' ? '(body)' : path}: ${issueText(issue)}`];
  });
}

function openSignalOf(value: OpenFields, context: SignalContext, source: SignalSource): SignalParse {
  const overrides: PlanSettings = {
    stopLoss: value.stopLoss, stopTriggerBy: value.stopTriggerBy, takeProfits: value.takeProfits,
    breakevenAfterFirstTarget: value.breakevenAfterFirstTarget, trailing: value.trailing, aged: value.aged,
  };
  const merged = mergePlan(settingsForSymbol(context.protection, value.symbol), overrides);
  // A single take-profit and a ladder are exclusive: the signal's single one replaces the plan's ladder.
  const parts = planPartsOf(value.takeProfit === null ? merged : { ...merged, takeProfits: null });
  if (parts === null) return { ok: false, reasons: [`stopLoss: required (expected object): no stop-loss is configured for ${value.symbol} (protection)`] };
  const protection = Object.keys(parts.protection).length === 0 ? {} : { protection: parts.protection };
  const takeProfit: PriceRequest | null = value.takeProfit === null ? null
    : value.takeProfit.price !== undefined ? { price: value.takeProfit.price } : { percent: value.takeProfit.percent ?? 0 };
  return {
    ok: true,
    signal: {
      source, id: value.id, action: 'open', symbol: value.symbol, side: value.side,
      size: value.quantity !== undefined ? { quantity: value.quantity } : { notional: value.notional ?? '0' },
      entry: value.entry, stopLoss: parts.stopLoss, takeProfit, ...protection,
    },
  };
}

export function requestIdOf(signal: Signal): string {
  return `${requestIdPrefixes[signal.source]}${signal.id}`;
}

/** The engine event a valid signal becomes. */
export function incomingOf(signal: Signal): Incoming {
  const requestId = requestIdOf(signal);
  if (signal.action === 'close') return { type: 'CloseRequested', requestId, symbol: signal.symbol };
  const { symbol: name, side, size, entry: entryRequest, stopLoss, takeProfit, protection } = signal;
  return {
    type: 'OpenRequested', requestId, symbol: name, side, size, entry: entryRequest, stopLoss, takeProfit,
    ...(protection === undefined ? {} : { protection }),
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
  /a change of the last position's stop is still unanswered/,
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
