// The protection plan as an operator writes it (the `protection` section of `vigil run`'s file, and
// the per-signal overrides of the operator API and the webhook), and its resolution into the parts
// of an open request the engine takes (`stopLoss`, `takeProfit`, `protection`: src/core/protection/plan.ts).
//
// One vocabulary everywhere: `stopLoss`, `stopTriggerBy`, `takeProfits` (the ladder),
// `breakevenAfterFirstTarget`, `trailing`, `aged`. Percents are measured from the entry; durations
// of the aged-position policy are in minutes (fractions allowed), the trailing stop's amend interval
// in milliseconds (it is sub-second). A fixed price (a stop at 145.10, a target at 160) belongs to
// one trade, so it is accepted in a signal and refused in the file; price *distances*
// (`callbackPrice`, `stepPrice`) are fine in both.
//
// Merging is field by field over the plan's six top-level fields: a field a layer gives replaces the
// one below it whole (a `trailing` object replaces the default's trailing, it is not merged key by
// key); `null` switches a part off (`trailing: null`, `aged: null`, `takeProfits: null`). Layers,
// lowest first: `protection.default`, `protection.symbols.<SYMBOL>`, the signal's own fields. The
// external plan (adopted positions) is a layer of its own: it does not inherit the default.
//
// Invariants: every check here names the field it is about (the caller prefixes the path); the
// resolution is pure and total on validated settings; a resolved ProtectionRequest never carries a
// ladder together with a single take-profit (the engine takes them as exclusive).

import { z } from 'zod';
import { formatScaled, parseScaled } from '../core/decimal.ts';
import type { PriceRequest } from '../core/events.ts';
import { moneyScale } from '../core/money.ts';
import type { AgedRequest, DistanceRequest, LadderRungRequest, ProtectionRequest, TrailingRequest } from '../core/protection/plan.ts';
import { breakevenNeedsBotTrailing } from '../core/protection/plan.ts';
import type { EngineConfig } from '../core/state.ts';
import type { TriggerBy } from '../core/types.ts';

/** More rungs than this is not a ladder but a grid, and each rung must clear the instrument's minimum. */
export const takeProfitsMax = 10;
/** Thirty days: an aged-position limit beyond it is a typo (hours written as minutes twice). */
export const agedMinutesMax = 30 * 24 * 60;
export const amendEveryMsDefault = 1_000;
const amendEveryMsMax = 3_600_000;
/** Profit-side distances (targets, activation) may be large (a short's target is at most 100 % away, a long's is not bounded). */
const targetPercentMax = 1_000;

/**
 * A decimal given as a JSON number, as the plain text the engine parses: JavaScript's own shortest
 * digits (the ones that read back as the same number, so no float noise), written out without the
 * exponent it uses below 1e-6 and from 1e21 (0.0000001 is "0.0000001", not "1e-7").
 */
export function decimalTextOf(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text; // no exponent (NaN and Infinity too: the check after this refuses them)
  const [, sign = '', lead = '', rest = '', exponent = '0'] = match;
  const digits = `${lead}${rest}`;
  const point = 1 + Number(exponent); // where the decimal point goes among the digits
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * A refinement of a notional in USDT (a decimal already checked as one): what the engine cannot
 * take. It counts USDT exactly, in 10^-8 units held in a safe integer; said here, by field, because
 * the engine's own refusal of such a notional is only "not a positive amount".
 */
export function checkNotional(text: string, context: z.RefinementCtx<string>): void {
  const parsed = parseScaled(text, moneyScale);
  // Not a decimal at all: the decimal check before this one says so.
  if (parsed.ok || parsed.problem === 'syntax') return;
  context.addIssue({
    code: 'custom',
    message: parsed.problem === 'precision'
      ? `too many decimal places: USDT is counted to ${moneyScale}`
      : `too large: at most ${formatScaled(Number.MAX_SAFE_INTEGER, moneyScale)} USDT (too many digits for the engine to count exactly)`,
  });
}

const decimal = z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'required (expected a decimal)' : 'expected a positive decimal, such as "25" or "0.5" (text keeps it exact)') })
  .transform((value) => (typeof value === 'number' ? decimalTextOf(value) : value.trim()))
  .refine((text) => /^\d+(\.\d+)?$/.test(text) && Number(text) > 0, 'expected a positive decimal, such as "25" or "0.5" (text keeps it exact)');

const percentBelow = (max: number): z.ZodNumber => z.number().gt(0, 'expected a percent above 0').lt(max, `expected a percent below ${max}`);
const stopPercent = percentBelow(100);
const targetPercent = percentBelow(targetPercentMax);
const sizePercent = z.number().gt(0, 'expected a share above 0 %').max(100, 'expected a share of at most 100 %');
const minutes = z.number().min(0, 'expected minutes, 0 or more').max(agedMinutesMax, `expected at most ${agedMinutesMax} minutes (30 days)`);

/** One problem of a plan: the path below the plan's own path, and what is wrong. */
export type PlanIssue = { readonly path: readonly (string | number)[]; readonly message: string };

const refineWith = <T>(check: (value: T) => readonly PlanIssue[]) => (value: T, context: z.RefinementCtx<T>): void => {
  for (const issue of check(value)) context.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
};

// ---- the settings, as written (the superset a signal may give; the file gives less) ----

export type StopSetting = { readonly price?: string | undefined; readonly percent?: number | undefined };
export type TargetSetting = StopSetting & { readonly sizePercent: number };
export type TrailingSetting = {
  readonly mode: 'bot' | 'venue';
  readonly activationPercent?: number | undefined;
  readonly activationPrice?: string | undefined;
  readonly callbackPercent?: number | undefined;
  readonly callbackPrice?: string | undefined;
  readonly amendEveryMs: number;
  readonly minMovePercent?: number | undefined;
  readonly minMovePrice?: string | undefined;
};
export type AgedSetting = {
  readonly maxAgeMinutes: number;
  readonly graceMinutes: number;
  readonly stepPercent?: number | undefined;
  readonly stepPrice?: string | undefined;
  readonly stepEveryMinutes: number;
  readonly hardLimitMinutes: number;
};
export type PlanSettings = {
  readonly stopLoss?: StopSetting | undefined;
  readonly stopTriggerBy?: TriggerBy | undefined;
  readonly takeProfits?: readonly TargetSetting[] | null | undefined;
  readonly breakevenAfterFirstTarget?: boolean | undefined;
  readonly trailing?: TrailingSetting | null | undefined;
  readonly aged?: AgedSetting | null | undefined;
};

export function ladderIssues(targets: readonly TargetSetting[]): PlanIssue[] {
  const issues: PlanIssue[] = [];
  const total = targets.reduce((sum, target) => sum + target.sizePercent, 0);
  if (total > 100 + 1e-9) issues.push({ path: [], message: `the sizes sum to ${Math.round(total * 1e6) / 1e6} %, more than 100 % of the position` });
  // Percents are side-free: each target must be further from the entry than the one before it.
  // (Price targets depend on the side: a signal checks them, the engine checks them again.)
  for (let index = 1; index < targets.length; index += 1) {
    const before = targets[index - 1]?.percent;
    const here = targets[index]?.percent;
    if (before !== undefined && here !== undefined && !(here > before)) {
      issues.push({ path: [index, 'percent'], message: `expected a target further from the entry than the one before it (${before} %): targets go in increasing order` });
    }
  }
  return issues;
}

const laggingTooFar = 'a stop that moves only in steps this large lags the best price by up to the two together';

export function trailingIssues(trailing: TrailingSetting): PlanIssue[] {
  const issues: PlanIssue[] = [];
  if (trailing.callbackPercent !== undefined && trailing.callbackPrice !== undefined) {
    issues.push({ path: ['callbackPercent'], message: 'give callbackPercent or callbackPrice, not both' });
  } else if (trailing.callbackPercent === undefined && trailing.callbackPrice === undefined) {
    issues.push({ path: ['callbackPercent'], message: 'required: the callback distance, as callbackPercent (of the price) or callbackPrice (a price distance)' });
  }
  if (trailing.activationPercent !== undefined && trailing.activationPrice !== undefined) {
    issues.push({ path: ['activationPercent'], message: 'give activationPercent or activationPrice, not both' });
  }
  if (trailing.minMovePercent !== undefined && trailing.minMovePrice !== undefined) {
    issues.push({ path: ['minMovePercent'], message: 'give minMovePercent or minMovePrice, not both' });
  } else if (trailing.mode === 'venue' && (trailing.minMovePercent !== undefined || trailing.minMovePrice !== undefined)) {
    const field = trailing.minMovePercent !== undefined ? 'minMovePercent' : 'minMovePrice';
    issues.push({ path: [field], message: 'applies to mode: bot (the venue moves its own trailing stop, tick by tick)' });
  } else if (trailing.minMovePercent !== undefined && trailing.callbackPercent !== undefined && !(trailing.minMovePercent < trailing.callbackPercent)) {
    // (A price against a percent is checked when the plan is resolved against the entry.)
    issues.push({ path: ['minMovePercent'], message: `expected less than callbackPercent (${trailing.callbackPercent}): ${laggingTooFar}` });
  } else if (trailing.minMovePrice !== undefined && trailing.callbackPrice !== undefined && !(Number(trailing.minMovePrice) < Number(trailing.callbackPrice))) {
    issues.push({ path: ['minMovePrice'], message: `expected less than callbackPrice (${trailing.callbackPrice}): ${laggingTooFar}` });
  }
  return issues;
}

/** The engine counts durations in whole milliseconds; a minute given in the file or a signal is rounded to them. */
const msOfMinutes = (value: number): number => Math.round(value * 60_000);
/** The engine steps an aged exit's price at most once per interval, which must be at least this long. */
const agedStepEveryMsMin = 1;

export function agedIssues(aged: AgedSetting): PlanIssue[] {
  const issues: PlanIssue[] = [];
  // Compared as the engine will see them: two ages a fraction of a millisecond apart are the same.
  if (!(msOfMinutes(aged.hardLimitMinutes) > msOfMinutes(aged.maxAgeMinutes))) {
    issues.push({ path: ['hardLimitMinutes'], message: `expected more than maxAgeMinutes (${aged.maxAgeMinutes}): the market close comes after the position is aged` });
  }
  if ((aged.stepPercent === undefined) === (aged.stepPrice === undefined)) {
    issues.push({ path: ['stepPercent'], message: 'expected exactly one of stepPercent (of the price) or stepPrice (a price distance)' });
  }
  // Above 0 but rounded to 0 ms, the engine would refuse every entry of the plan (0 and below: the field's own check says so).
  if (aged.stepEveryMinutes > 0 && msOfMinutes(aged.stepEveryMinutes) < agedStepEveryMsMin) {
    issues.push({ path: ['stepEveryMinutes'], message: `expected at least ${agedStepEveryMsMin} millisecond (${(agedStepEveryMsMin / 60_000).toPrecision(3)} minutes): durations are counted in whole milliseconds` });
  }
  return issues;
}

const agedSchema = z.strictObject({
  /** Past this age, a reduce-only limit exit at breakeven (fees included). */
  maxAgeMinutes: minutes.gt(0, 'expected minutes above 0'),
  /** Then this long at breakeven before the exit's price starts stepping toward the market. */
  graceMinutes: minutes.default(0),
  stepPercent: stopPercent.optional(),
  stepPrice: decimal.optional(),
  stepEveryMinutes: minutes.gt(0, 'expected minutes above 0'),
  /** At this age, a market close. */
  hardLimitMinutes: minutes.gt(0, 'expected minutes above 0'),
}).superRefine(refineWith(agedIssues));

const trailingFields = {
  mode: z.enum(['bot', 'venue']).default('bot'),
  activationPercent: targetPercent.optional(),
  callbackPercent: stopPercent.optional(),
  callbackPrice: decimal.optional(),
  amendEveryMs: z.number().int('expected whole milliseconds').min(0).max(amendEveryMsMax).default(amendEveryMsDefault),
  /** The least a move of the bot's trailing stop tightens it by (fewer amends); absent: any tick. */
  minMovePercent: stopPercent.optional(),
  minMovePrice: decimal.optional(),
};

const ladder = <T extends z.ZodType<TargetSetting>>(target: T) => z.array(target).max(takeProfitsMax, `expected at most ${takeProfitsMax} targets`)
  .superRefine(refineWith<readonly TargetSetting[]>(ladderIssues));

const exactlyOnePriceOrPercent = (value: StopSetting): boolean => (value.price === undefined) !== (value.percent === undefined);

// ---- the file's plan: percents only for the stop and the targets ----

const configStop = z.strictObject({ percent: stopPercent });
const configTarget = z.strictObject({ percent: targetPercent, sizePercent });
const configTrailing = z.strictObject(trailingFields).superRefine(refineWith(trailingIssues));

export const configPlanSchema = z.strictObject({
  stopLoss: configStop.optional(),
  stopTriggerBy: z.enum(['mark', 'last']).optional(),
  takeProfits: ladder(configTarget).nullable().optional(),
  breakevenAfterFirstTarget: z.boolean().optional(),
  trailing: configTrailing.nullable().optional(),
  aged: agedSchema.nullable().optional(),
});

export const protectionSchema = z.strictObject({
  /** Every symbol of the bot (its strategy's entries and its signals). */
  default: configPlanSchema.optional(),
  /** Per symbol: fields over the default's. */
  symbols: z.record(z.string(), configPlanSchema).default({}),
  /** Positions the bot adopts (opened by hand or by another program); not layered on the default. */
  external: configPlanSchema.optional(),
});

export type ProtectionConfig = z.output<typeof protectionSchema>;
export const noProtection: ProtectionConfig = { symbols: {} };

// ---- a signal's plan: fixed prices allowed ----

const signalStop = z.strictObject({ price: decimal.optional(), percent: stopPercent.optional() })
  .refine(exactlyOnePriceOrPercent, 'expected exactly one of price or percent');
const signalTarget = z.strictObject({ price: decimal.optional(), percent: targetPercent.optional(), sizePercent })
  .refine(exactlyOnePriceOrPercent, 'expected exactly one of price or percent');
const signalTrailing = z.strictObject({ ...trailingFields, activationPrice: decimal.optional() }).superRefine(refineWith(trailingIssues));

/** The plan fields a signal may carry (each overrides the configured plan's). */
export const signalPlanFields = {
  stopLoss: signalStop.optional(),
  stopTriggerBy: z.enum(['mark', 'last']).optional(),
  takeProfits: ladder(signalTarget).nullable().optional(),
  breakevenAfterFirstTarget: z.boolean().optional(),
  trailing: signalTrailing.nullable().optional(),
  aged: agedSchema.nullable().optional(),
};

/** The keys of each part, for the message about an unknown key in the file. */
export function planKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const [part, second] = path;
  switch (part) {
    case undefined:
      return Object.keys(configPlanSchema.shape);
    case 'stopLoss':
      return Object.keys(configStop.shape);
    case 'takeProfits':
      return typeof second === 'number' ? Object.keys(configTarget.shape) : [];
    case 'trailing':
      return Object.keys(configTrailing.shape);
    case 'aged':
      return Object.keys(agedSchema.shape);
    default:
      return [];
  }
}

/** The keys the file knows below `protection`, for the message about an unknown one. */
export function protectionKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const [section, ...rest] = path;
  if (section === undefined) return Object.keys(protectionSchema.shape);
  if (section === 'default' || section === 'external') return planKeysAt(rest);
  if (section === 'symbols' && rest.length > 0) return planKeysAt(rest.slice(1));
  return [];
}

/** A fixed price where the file wants a percent: say why, rather than only "unknown key". */
export function protectionKeyHint(path: readonly PropertyKey[], key: string): string | null {
  if (path[0] !== 'protection') return null;
  const part = path.at(-1) === 'stopLoss' ? 'stopLoss' : path.at(-2) === 'takeProfits' ? 'takeProfits' : path.at(-1) === 'trailing' ? 'trailing' : null;
  if (part === null || (key !== 'price' && key !== 'activationPrice')) return null;
  return `a fixed price belongs to one trade (a signal may give one); the file takes ${part === 'trailing' ? 'activationPercent' : 'percent'}, measured from the entry`;
}

/**
 * What the file's protection section cannot be, given the rest of the file: a per-symbol plan for a
 * symbol the bot does not trade; a venue-side trailing stop without attached stops (the venue
 * trails the position's own stop, which only exists when stops are attached).
 */
export function protectionConfigIssues(protection: ProtectionConfig, symbols: readonly string[], attachedStops: boolean): PlanIssue[] {
  const issues: PlanIssue[] = [];
  for (const symbol of Object.keys(protection.symbols)) {
    if (!symbols.includes(symbol)) issues.push({ path: ['symbols', symbol], message: `not one of the bot's symbols (${symbols.join(', ')}): a plan for a symbol it does not trade` });
  }
  const plans: [readonly string[], PlanSettings | undefined][] = [
    [['default'], protection.default], [['external'], protection.external],
    ...Object.entries(protection.symbols).map(([symbol, plan]): [readonly string[], PlanSettings] => [['symbols', symbol], plan]),
  ];
  for (const [path, plan] of plans) {
    if (plan?.trailing?.mode === 'venue' && !attachedStops) issues.push({ path: [...path, 'trailing', 'mode'], message: venueTrailingNeedsAttachedStops });
  }
  // An adopted position gets a stop, trailing and an aged exit from its plan, never take-profits (it
  // may be someone's trade with targets of its own), so nor a breakeven that waits for the first.
  for (const field of ['takeProfits', 'breakevenAfterFirstTarget'] as const) {
    const value = protection.external?.[field];
    if (value !== undefined && value !== false && !(Array.isArray(value) && value.length === 0)) {
      issues.push({ path: ['external', field], message: 'not for adopted positions: they get a stop, trailing and an aged exit, never take-profits (nor a breakeven after the first)' });
    }
  }
  // Breakeven with a venue-trailed stop, as each symbol's entries get the plan (the default under
  // the symbol's own).
  const merged = symbols.map((symbol): [readonly string[], PlanSettings] => [protection.symbols[symbol] === undefined ? ['default'] : ['symbols', symbol], settingsForSymbol(protection, symbol)]);
  const said = new Set<string>();
  for (const [path, plan] of merged) {
    if (plan.breakevenAfterFirstTarget !== true || plan.trailing?.mode !== 'venue' || said.has(path.join('.'))) continue;
    said.add(path.join('.'));
    issues.push({ path: [...path, 'breakevenAfterFirstTarget'], message: breakevenNeedsBotTrailing });
  }
  return issues;
}

export const venueTrailingNeedsAttachedStops = 'venue needs engine.attachedStops: true (the venue trails the position\'s own stop, which a separate stop order is not); use mode: bot';

// ---- merging and resolving ----

const over = <T>(base: T, layer: T | undefined): T => (layer === undefined ? base : layer);

/** `layer` over `base`, field by field; a field the layer gives (null included) replaces the base's whole. */
export function mergePlan(base: PlanSettings, layer: PlanSettings): PlanSettings {
  return {
    stopLoss: over(base.stopLoss, layer.stopLoss),
    stopTriggerBy: over(base.stopTriggerBy, layer.stopTriggerBy),
    takeProfits: over(base.takeProfits, layer.takeProfits),
    breakevenAfterFirstTarget: over(base.breakevenAfterFirstTarget, layer.breakevenAfterFirstTarget),
    trailing: over(base.trailing, layer.trailing),
    aged: over(base.aged, layer.aged),
  };
}

/** The configured plan of a symbol: its override over the default. */
export function settingsForSymbol(protection: ProtectionConfig, symbol: string): PlanSettings {
  return mergePlan(protection.default ?? {}, protection.symbols[symbol] ?? {});
}

const priceRequestOf = (setting: StopSetting): PriceRequest => (setting.price !== undefined ? { price: setting.price } : { percent: setting.percent ?? 0 });
const distanceOf = (percent: number | undefined, price: string | undefined): DistanceRequest => (price !== undefined ? { price } : { percent: percent ?? 0 });

function trailingRequestOf(trailing: TrailingSetting): TrailingRequest {
  const activation = trailing.activationPrice !== undefined ? { price: trailing.activationPrice } : trailing.activationPercent !== undefined ? { percent: trailing.activationPercent } : null;
  const minMove = trailing.minMovePercent === undefined && trailing.minMovePrice === undefined ? {} : { minMove: distanceOf(trailing.minMovePercent, trailing.minMovePrice) };
  return { mode: trailing.mode, activation, callback: distanceOf(trailing.callbackPercent, trailing.callbackPrice), amendEveryMs: trailing.amendEveryMs, ...minMove };
}

function agedRequestOf(aged: AgedSetting): AgedRequest {
  return {
    maxAgeMs: msOfMinutes(aged.maxAgeMinutes), graceMs: msOfMinutes(aged.graceMinutes), step: distanceOf(aged.stepPercent, aged.stepPrice),
    stepEveryMs: msOfMinutes(aged.stepEveryMinutes), hardLimitMs: msOfMinutes(aged.hardLimitMinutes),
  };
}

/** The engine's ProtectionRequest of settings: only what they say (an absent or null part is left out). */
export function protectionRequestOf(settings: PlanSettings): ProtectionRequest {
  const ladderRungs: LadderRungRequest[] = (settings.takeProfits ?? []).map((target) => ({ target: priceRequestOf(target), sizePercent: target.sizePercent }));
  return {
    ...(settings.stopTriggerBy === undefined ? {} : { stopTriggerBy: settings.stopTriggerBy }),
    ...(ladderRungs.length === 0 ? {} : { ladder: ladderRungs }),
    ...(settings.breakevenAfterFirstTarget === undefined ? {} : { breakevenAfterFirstTarget: settings.breakevenAfterFirstTarget }),
    ...(settings.trailing === undefined || settings.trailing === null ? {} : { trailing: trailingRequestOf(settings.trailing) }),
    ...(settings.aged === undefined || settings.aged === null ? {} : { aged: agedRequestOf(settings.aged) }),
  };
}

/** The parts of an OpenRequested a plan gives: its stop, no single take-profit (the ladder replaces it), the rest. */
export type PlanParts = { readonly stopLoss: PriceRequest; readonly takeProfit: null; readonly protection: ProtectionRequest };

/** The parts of settings that have a stop; null when they have none (a signal must then give it). */
export function planPartsOf(settings: PlanSettings): PlanParts | null {
  if (settings.stopLoss === undefined) return null;
  return { stopLoss: priceRequestOf(settings.stopLoss), takeProfit: null, protection: protectionRequestOf(settings) };
}

/** The configured request parts for a symbol (its override over the default), or null when no stop is configured for it. */
export function planForSymbol(protection: ProtectionConfig, symbol: string): PlanParts | null {
  return planPartsOf(settingsForSymbol(protection, symbol));
}

/** How adopted positions are protected: the stop distance in percent and the rest of the plan. */
export type ExternalPlan = { readonly stopPercent: number; readonly protection: ProtectionRequest };

/** The external plan: `protection.external.stopLoss` wins over `engine.externalStopPercent` when given. */
export function externalPlanOf(protection: ProtectionConfig, externalStopPercent: number): ExternalPlan {
  const external = protection.external ?? {};
  return { stopPercent: external.stopLoss?.percent ?? externalStopPercent, protection: protectionRequestOf(external) };
}

/**
 * A strategy decides its own entry, stop and take-profit (tp-cycle's cycle is its single
 * take-profit); the configured plan adds what the strategy does not decide: the stop's trigger
 * price, the trailing stop and the aged-position policy. The stop-loss, the ladder and breakeven
 * of the plan apply to signals.
 */
export function strategyExtrasOf(protection: ProtectionConfig, symbol: string): ProtectionRequest | null {
  const { stopTriggerBy, trailing, aged } = settingsForSymbol(protection, symbol);
  const extras = protectionRequestOf({ stopTriggerBy, trailing, aged });
  return Object.keys(extras).length === 0 ? null : extras;
}

/**
 * The plan of the bot's own positions by symbol, for one restored from the venue without its
 * journal (EngineConfig.restoredProtection): what its entries get, a strategy's extras or, with no
 * strategy (signals), the configured plan. A signal's own overrides were never on the venue.
 */
export function restoredPlanOf(protection: ProtectionConfig, symbols: readonly string[], strategy: boolean): EngineConfig['restoredProtection'] {
  const planOf = (symbol: string): ProtectionRequest => (strategy ? strategyExtrasOf(protection, symbol) ?? {} : protectionRequestOf(settingsForSymbol(protection, symbol)));
  return { default: planOf(''), symbols: Object.fromEntries(symbols.map((symbol) => [symbol, planOf(symbol)])) };
}
