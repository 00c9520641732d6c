// The shape of `vigil run`'s configuration file (YAML or JSON), as a zod schema: what an operator
// may set, its defaults and its bounds. Loading, error messages and secrets are in load.ts.
//
// Invariants:
//  - every object is strict: an unknown key (a typo: `attachedStop`) is an error, never ignored;
//  - no secret is ever a value in this file: the venue's key and secret, the API's token and the
//    webhook's secret are named by environment variable (`apiKeyEnv`, `apiSecretEnv`, `tokenEnv`,
//    `webhook.secretEnv`), and the names must look like names (A-Z, 0-9, _), so a secret pasted
//    where its variable's name belongs is refused;
//  - the protection section (protection.ts) is checked against the rest of the file: its per-symbol
//    plans name traded symbols, and a venue-side trailing stop needs attached stops;
//  - messages never quote the value that failed (it may be a secret in the wrong place): they say
//    what was expected.

import { z } from 'zod';
import { isValidBotId } from '../core/ids.ts';
import { checkNotional, decimalTextOf, protectionConfigIssues, protectionKeysAt, protectionSchema } from './protection.ts';
import { tpCycleDefaults } from '../strategies/tp-cycle.ts';

/** The operator API's port when the configuration does not say (and `vigil signal`'s default). */
export const apiPortDefault = 7420;
export const apiTokenEnvDefault = 'VIGIL_API_TOKEN';
/** Signals accepted per second by the API, as a sustained rate (bursts up to the same number). */
export const signalsPerSecondDefault = 5;
/** The webhook's own rate (TradingView alerts), apart from the operator's signals. */
export const webhookSignalsPerSecondDefault = 5;
export const symbolsMax = 200;

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]{0,127}$/,
  'expected the NAME of an environment variable (A-Z, 0-9 and _, such as BYBIT_API_KEY), not its value; what was given is not shown');

/** A decimal amount written as text or a number in the file; kept as text (the engine parses it exactly). */
const decimal = z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'required (expected a decimal)' : 'expected a positive decimal number such as 100 or 0.5') })
  .transform((value) => (typeof value === 'number' ? decimalTextOf(value) : value.trim()))
  .refine((text) => /^\d+(\.\d+)?$/.test(text) && Number(text) > 0, 'expected a positive decimal number such as 100 or 0.5');

const percent = z.number().gt(0, 'expected a percent above 0').lt(100, 'expected a percent below 100');

const symbol = z.string().regex(/^[A-Z0-9]{2,30}$/, 'expected a symbol in capitals, such as SOLUSDT');

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'expected HOST:PORT, such as 127.0.0.1:4100', abort: true })
  .refine((text) => {
    const port = Number(text.split(':')[1]);
    return port >= 1 && port <= 65_535;
  }, 'the port must be from 1 to 65535');

/**
 * A venue URL. It is logged at startup and shown by /api/health, so it may not carry a user name or
 * password (the venue's credentials are named by apiKeyEnv and apiSecretEnv); the message does not
 * repeat the URL, which would repeat the password.
 */
const url = (pattern: RegExp, expected: string) => z.string()
  .regex(pattern, { error: expected, abort: true })
  .refine((text) => URL.canParse(text), { error: expected, abort: true })
  .refine((text) => {
    const parsed = new URL(text);
    return parsed.username === '' && parsed.password === '';
  }, 'a user name or password in the URL is refused: the URL is logged and shown by /api/health (the venue\'s key and secret go in apiKeyEnv and apiSecretEnv); what was given is not shown');
const wsUrl = url(/^wss?:\/\/\S+$/, 'expected a ws:// or wss:// URL');
const httpUrl = url(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL');

const tpCycle = z.strictObject({
  kind: z.literal('tp-cycle'),
  side: z.enum(['buy', 'sell']).default(tpCycleDefaults.side),
  entryOffsetPercent: z.number().min(0).lt(100).default(tpCycleDefaults.entryOffsetPercent),
  takeProfitPercent: percent.default(tpCycleDefaults.takeProfitPercent),
  stopLossPercent: percent.default(tpCycleDefaults.stopLossPercent),
  notionalUsdt: decimal.superRefine(checkNotional).default(tpCycleDefaults.notionalUsdt),
  entryTimeoutMs: z.number().int().min(1_000).max(86_400_000).default(tpCycleDefaults.entryTimeoutMs),
  /** How often the strategy looks at the engine's state and decides. */
  decideEveryMs: z.number().int().min(100).max(3_600_000).default(1_000),
});

const strategy = z.discriminatedUnion('kind', [
  // Signals only: the bot opens and closes what the operator API is told to, and protects everything.
  z.strictObject({ kind: z.literal('none') }),
  tpCycle,
]);

const engine = z.strictObject({
  attachedStops: z.boolean().default(true),
  stopTriggerBy: z.enum(['mark', 'last']).default('mark'),
  externalPositions: z.enum(['protect', 'watch', 'close']).default('protect'),
  externalStopPercent: percent.default(2),
  foreignOrders: z.enum(['leave', 'cancel']).default('leave'),
  reconcileEveryMs: z.number().int().min(10_000).max(3_600_000).default(120_000),
  /** The taker fee rate, in percent, that breakeven prices include (an entry and an exit): Bybit's 0.055 % by default. */
  takerFeePercent: z.number().min(0, 'expected a fee rate of 0 % or more').max(1, 'expected a fee rate of at most 1 %').default(0.055),
  /** How long finished trades stay in memory (the ledger keeps them): at least 10 minutes, so late venue messages find them. */
  retainSettledMinutes: z.number().int().min(10, 'expected 10 minutes or more (late venue messages must still find what they are about)').max(10_080).default(60),
  /** How long before a delisting the venue announces the bot closes what it holds there, at market; null: left to the venue's settlement. */
  closeBeforeDelistingMinutes: z.number().min(0, 'expected 0 minutes or more').max(10_080, 'expected at most 10080 minutes (a week)').nullable().default(60),
});

const simVenue = z.strictObject({
  kind: z.literal('sim'),
  /** Where `vigil venue` listens (it prints the address). */
  address: hostPort,
});

/**
 * For a check across fields: run it when the fields it reads are valid, whatever else is wrong (by
 * default zod skips it after any mistake of type, and the file would need a second round of fixes).
 */
function validAt(keys: readonly string[], required: readonly string[] = keys): (payload: z.core.ParsePayload) => boolean {
  return (payload) => {
    const { value, issues } = payload;
    // (After some mistakes zod leaves fields out of the value, defaults too.)
    const present = typeof value === 'object' && value !== null && required.every((key) => key in value);
    return present && issues.every((issue) => !keys.includes(String(issue.path?.[0])));
  };
}

const bybitVenue = z.strictObject({
  kind: z.literal('bybit'),
  network: z.enum(['mainnet', 'testnet', 'demo', 'custom']),
  restUrl: httpUrl.optional(),
  wsPublicUrl: wsUrl.optional(),
  wsPrivateUrl: wsUrl.optional(),
  apiKeyEnv: envName,
  apiSecretEnv: envName,
  recvWindowMs: z.number().int().min(1_000).max(60_000).optional(),
  /** How often the instruments are read again while running, to see a change of tick or lot (src/shell/instrument-watch.ts). */
  instrumentsCheckMinutes: z.number().min(0.05).max(1_440).default(5),
}).superRefine((venue, context) => {
  for (const key of ['restUrl', 'wsPublicUrl', 'wsPrivateUrl'] as const) {
    if (venue.network === 'custom' && venue[key] === undefined) {
      context.addIssue({ code: 'custom', path: [key], message: 'required with network: custom' });
    }
    if (venue.network !== 'custom' && venue[key] !== undefined) {
      context.addIssue({ code: 'custom', path: [key], message: `only for network: custom (the ${venue.network} URLs are built in)` });
    }
  }
}, { when: validAt(['network', 'restUrl', 'wsPublicUrl', 'wsPrivateUrl'], ['network']) });

/** POST /webhook, for TradingView alerts: off unless this is given (src/api/webhook.ts). */
const webhook = z.strictObject({
  /** The NAME of the variable holding the shared secret the alerts carry (TradingView cannot send a bearer token). */
  secretEnv: envName,
  signalsPerSecond: z.number().int().min(1).max(1_000).default(webhookSignalsPerSecondDefault),
});

const api = z.strictObject({
  /** 127.0.0.1 unless said otherwise: the API is plain HTTP, for the operator's own machine or a tunnel. */
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'expected a host name or an IP address').default('127.0.0.1'),
  /** 0: any free port (the log line "api listening on ..." says which). */
  port: z.number().int().min(0).max(65_535).default(apiPortDefault),
  tokenEnv: envName.default(apiTokenEnvDefault),
  signalsPerSecond: z.number().int().min(1).max(1_000).default(signalsPerSecondDefault),
  webhook: webhook.optional(),
});

export const configSchema = z.strictObject({
  botId: z.string().refine(isValidBotId, 'expected 1 to 16 characters of A-Z, a-z, 0-9 and _ (it prefixes every client order id)'),
  /** The SQLite journal and ledger; a relative path is relative to the configuration file. */
  journal: z.string().min(1, 'expected a file path'),
  symbols: z.array(symbol).min(1, 'expected at least one symbol').max(symbolsMax)
    .refine((list) => new Set(list).size === list.length, 'a symbol is listed twice'),
  strategy: strategy.default({ kind: 'none' }),
  engine: engine.prefault({}),
  venue: z.discriminatedUnion('kind', [simVenue, bybitVenue]),
  api: api.prefault({}),
  /** The protection plan of entries (per symbol) and of adopted positions (protection.ts). */
  protection: protectionSchema.prefault({}),
  /** What the log holds beyond info, warnings and alarms: `debug` adds routine lines (a trailing stop's every move). */
  log: z.strictObject({ debug: z.boolean().default(false) }).prefault({}),
  /** Connect and reconcile, but send no order (see src/cli/run.ts). `--dry-run` turns it on too. */
  dryRun: z.boolean().default(false),
}).superRefine((config, context) => {
  for (const issue of protectionConfigIssues(config.protection, config.symbols, config.engine.attachedStops)) {
    context.addIssue({ code: 'custom', path: ['protection', ...issue.path], message: issue.message });
  }
}, { when: validAt(['protection', 'symbols', 'engine']) });

/** The configuration as validated, with every default filled in; secrets are still only names. */
export type RunConfig = z.output<typeof configSchema>;
export type VenueConfig = RunConfig['venue'];
export type StrategyConfig = RunConfig['strategy'];
export type WebhookConfig = NonNullable<RunConfig['api']['webhook']>;

/** Every key the schema knows at a path, for the message about an unknown one. */
export function knownKeys(path: readonly PropertyKey[], kind: unknown): readonly string[] {
  const [first, ...rest] = path;
  if (first === undefined) return Object.keys(configSchema.shape);
  if (first === 'protection') return protectionKeysAt(rest);
  if (first === 'api' && rest.length === 1 && rest[0] === 'webhook') return Object.keys(webhook.shape);
  if (rest.length > 0) return [];
  switch (first) {
    case 'engine':
      return Object.keys(engine.shape);
    case 'api':
      return Object.keys(api.shape);
    case 'strategy':
      return kind === 'tp-cycle' ? Object.keys(tpCycle.shape) : ['kind'];
    case 'venue':
      return Object.keys(kind === 'bybit' ? bybitVenue.shape : simVenue.shape);
    default:
      return [];
  }
}
