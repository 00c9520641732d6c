// Loading `vigil run`'s configuration: read the file (YAML or JSON, by its extension), validate it
// against the schema (schema.ts), and read the secrets it names from the environment. Everything
// is checked before the bot touches its journal or the venue, and every problem is reported at
// once, each as `path: what is wrong` (`venue.apiKeyEnv: ...`), so one edit fixes them all.
//
// Invariants: a problem message never contains a value from the file or the environment (a value
// in the wrong place may be a secret): only paths, key names, variable names and what was expected;
// a secret is held as a `Secret` (secret.ts), which never prints itself; a configuration that loads
// has every default filled in and an absolute journal path.

import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { RunConfig } from './schema.ts';
import { protectionKeyHint } from './protection.ts';
import { configSchema, knownKeys } from './schema.ts';
import { Secret } from './secret.ts';

/** A configuration that cannot be used, with every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`${source}: ${problems.length} problem(s)\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The API token is compared to what clients send: a short one could be guessed. */
export const apiTokenLengthMin = 16;
/** A configuration file is a few dozen lines; anything this large is the wrong file. */
const configBytesMax = 1024 * 1024;

export type ConfigFormat = 'yaml' | 'json';

/** Reads, parses and validates a configuration file; a relative journal path is taken from the file's directory. */
export function loadConfigFile(path: string): RunConfig {
  const format = formatOf(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${error instanceof Error && 'code' in error ? String(error.code) : 'unknown error'}`]);
  }
  if (text.length > configBytesMax) throw new ConfigError(path, [`the file is larger than ${configBytesMax} bytes: not a configuration`]);
  const config = parseConfigText(text, format, path);
  return { ...config, journal: resolve(dirname(resolve(path)), config.journal) };
}

export function formatOf(path: string): ConfigFormat {
  const extension = extname(path).toLowerCase();
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json') return 'json';
  throw new ConfigError(path, [`expected a .yaml, .yml or .json file, got "${extension === '' ? 'no extension' : extension}"`]);
}

/** Parses and validates a configuration's text; `source` names it in messages. */
export function parseConfigText(text: string, format: ConfigFormat, source = 'configuration'): RunConfig {
  const raw = format === 'json' ? parseJson(text, source) : parseYaml(text, source);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, problemsOf(parsed.error.issues, raw));
  return parsed.data;
}

/**
 * JSON as JSON.parse reads it (strict: no comments, no trailing commas), less a leading byte order
 * mark (which some Windows editors write), and with every key at most once per object: JSON.parse
 * would keep the last one silently, where YAML refuses the file.
 */
function parseJson(text: string, source: string): unknown {
  const json = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(json) as unknown;
  } catch (error) {
    // Only the position: V8's message may quote a piece of the text, which could hold anything.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message) : null;
    throw new ConfigError(source, [`not valid JSON${position === null ? '' : ` at ${lineAndColumn(json, Number(position[1]))}`}`]);
  }
  const duplicates = duplicateKeys(json);
  if (duplicates.length > 0) throw new ConfigError(source, duplicates);
  return value;
}

/**
 * The keys given twice in an object of valid JSON, each as `path: ...` with the line of the repeat.
 * Valid JSON is YAML 1.2, so the YAML parser finds them with their positions (the key is a name,
 * never a value, so it may be said).
 */
function duplicateKeys(json: string): string[] {
  const problems: string[] = [];
  const visit = (node: unknown, path: readonly string[]): void => {
    if (isSeq(node)) node.items.forEach((item, index) => visit(item, [...path, String(index)]));
    if (!isMap(node)) return;
    const seen = new Set<string>();
    for (const { key, value } of node.items) {
      if (!isScalar(key)) continue; // (in JSON, a key is always a string)
      const name = String(key.value);
      const where = [...path, name];
      if (seen.has(name)) problems.push(`${where.join('.')}: the key is given twice (again at ${lineAndColumn(json, key.range?.[0] ?? 0)}); give each key once`);
      seen.add(name);
      visit(value, where);
    }
  };
  visit(parseDocument(json, { uniqueKeys: false }).contents, []);
  return problems;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

function parseYaml(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    // Only the code and the position: the library's message quotes the offending line, which could hold anything.
    throw new ConfigError(source, document.errors.map((error) => {
      const at = error.linePos?.[0];
      return `not valid YAML${at === undefined ? '' : ` at line ${at.line}, column ${at.col}`}: ${error.code.toLowerCase().replaceAll('_', ' ')}`;
    }));
  }
  return document.toJS() as unknown;
}

/** One line per problem, `path: what is wrong`, in path order. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  const problems = issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKey(issue.path, key, raw));
    return [`${path === '' ? '(the file)' : path}: ${issueText(issue)}`];
  });
  return [...new Set(problems)].sort();
}

/** The validator's problem in an operator's words (its own read "Too small: expected number to be >=0"). */
export function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `required (expected ${issue.expected})`;
  // The validator's own wording only: a message the schema gives is kept as it is.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && /^Too (small|big):/.test(issue.message)) {
    const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
    const bound = issue.code === 'too_small' ? (issue.inclusive === false ? 'above' : 'at least') : (issue.inclusive === false ? 'below' : 'at most');
    if (issue.origin === 'string') return `must be ${bound} ${limit} characters long`;
    if (issue.origin === 'array' || issue.origin === 'set') return `must have ${bound} ${limit} item(s)`;
    return `must be ${bound} ${limit}`;
  }
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option:')) return `expected one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `expected one of ${issue.options.map(String).join(', ')}`;
  }
  return issue.message.replace(/^Invalid input: /, '');
}

function unknownKey(path: readonly PropertyKey[], key: string, raw: unknown): string {
  const where = [...path.map(String), key].join('.');
  const kind = kindAt(raw, path);
  const known = knownKeys(path, kind);
  const hint = protectionKeyHint(path, key);
  if (hint !== null) return `${where}: ${hint}`;
  if (/(?:key|secret|token|password|passphrase)$/i.test(key)) {
    const named = known.find((candidate) => candidate.toLowerCase() === `${key.toLowerCase()}env`);
    return `${where}: secrets are not read from the configuration file: put the value in an environment variable and its NAME in ${named === undefined ? 'the matching ...Env key' : [...path.map(String), named].join('.')}`;
  }
  return `${where}: unknown key${known.length === 0 ? '' : ` (expected one of: ${known.join(', ')})`}`;
}

function kindAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const segment of path) node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>).kind : undefined;
}

/** The secrets a configuration names, read from the environment. */
export type RunSecrets = {
  readonly apiToken: Secret;
  /** The venue's credentials; null for the simulated venue, which needs none. */
  readonly venue: { readonly apiKey: Secret; readonly apiSecret: Secret } | null;
  /** The webhook's shared secret; null when the webhook is off (no api.webhook). */
  readonly webhookSecret: Secret | null;
};

/**
 * Reads every secret the configuration names: from its variable, or from the file named by the
 * variable with `_FILE` after its name (as Docker and Kubernetes mount secrets; the file's one
 * final line break is not part of it). Every problem is reported together, by name, never a value.
 */
export function resolveSecrets(config: RunConfig, env: NodeJS.ProcessEnv): RunSecrets {
  const problems: string[] = [];
  const read = (path: string, variable: string): Secret => {
    const value = readSecret(variable, env);
    if (!value.ok) {
      problems.push(`${path}: ${value.reason}`);
      return new Secret(variable, '');
    }
    return new Secret(variable, value.value);
  };
  const apiToken = read('api.tokenEnv', config.api.tokenEnv);
  if (apiToken.length > 0 && apiToken.length < apiTokenLengthMin) {
    problems.push(`api.tokenEnv: the token in ${config.api.tokenEnv} is shorter than ${apiTokenLengthMin} characters; use a long random one (openssl rand -hex 32)`);
  }
  const venue = config.venue.kind === 'bybit'
    ? { apiKey: read('venue.apiKeyEnv', config.venue.apiKeyEnv), apiSecret: read('venue.apiSecretEnv', config.venue.apiSecretEnv) }
    : null;
  const webhook = config.api.webhook;
  const webhookSecret = webhook === undefined ? null : read('api.webhook.secretEnv', webhook.secretEnv);
  if (webhook !== undefined && webhookSecret !== null && webhookSecret.length > 0) {
    if (webhookSecret.length < apiTokenLengthMin) {
      problems.push(`api.webhook.secretEnv: the secret in ${webhook.secretEnv} is shorter than ${apiTokenLengthMin} characters; use a long random one (openssl rand -hex 32)`);
    } else if (webhookSecret.reveal() === apiToken.reveal()) {
      // The webhook's secret is stored in alert messages at TradingView: it must not open the whole API.
      problems.push(`api.webhook.secretEnv: ${webhook.secretEnv} holds the API token; the webhook needs a secret of its own`);
    }
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return { apiToken, venue, webhookSecret };
}

/** A secret's value from `variable` or from the file `variable_FILE` names; the reason names the variable, never the value. */
function readSecret(variable: string, env: NodeJS.ProcessEnv): { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string } {
  const refused = (reason: string) => ({ ok: false, reason }) as const;
  const fileVariable = `${variable}_FILE`;
  const direct = env[variable];
  const file = env[fileVariable];
  if (direct !== undefined && direct !== '' && file !== undefined && file !== '') return refused(`both ${variable} and ${fileVariable} are set; set one`);
  let value = direct;
  let from = `the environment variable ${variable}`;
  if (file !== undefined && file !== '') {
    from = `the file ${file} (${fileVariable})`;
    try {
      value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      return refused(`cannot read ${from}: ${code}`);
    }
  }
  if (value === undefined || value.trim() === '') return refused(`${from} is not set (or is empty)`);
  // A line break or space at either end is no part of a key or token (a copy from a file, a paste):
  // kept, the secret would load, and every request would be refused, with no hint why.
  if (value.trim() !== value) return refused(`${from} has a space or line break at its start or end; remove it`);
  return { ok: true, value };
}
