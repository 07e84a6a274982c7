/**
 * The budget function: run hourly, it counts every tenant's Bedrock tokens from the model invocation logs, prices
 * them, adds them to the tenant's month in the budget table, announces thresholds, and (with `BLOCK` enforcement)
 * writes the namespaces at or over their monthly budget into the block policies of the Bedrock role.
 *
 * 1. State: the `STATE` item holds `watermark` (the end of the last window counted) and `pending` (a window claimed
 *    but not finished). Without state, counting starts at the start of the current UTC month.
 * 2. A pending window is resumed with its own bounds; otherwise the next window, `[watermark, settled time)` cut at
 *    the month's end, is claimed with a conditional write. A run that loses the claim stops and changes nothing.
 * 3. One Logs Insights query counts a window, grouped by tenant and model. A result of `QUERY_ROW_LIMIT` rows may be
 *    truncated: that part is counted again in two halves of tenants by the last character of their name, and so
 *    on down to one character (still full: the run fails, naming the character).
 * 4. One conditional UpdateItem per tenant adds the window to its month and records `appliedThrough`, so a resumed
 *    window is never added twice; then the window is finished (watermark moved, pending removed). More settled time
 *    (a missed day, a month rollover) is counted in further windows while Lambda time lasts.
 * 5. Budgets come from the tags of the tenants' gateway-token secrets (read every run, so a re-tag takes effect on
 *    the next run); every tenant of the current month is evaluated, so at the month's start all blocks lift.
 * 6. Block policies are written only when their namespaces change; then thresholds are announced (each once per
 *    tenant and month) and blocks and unblocks notified, all on the budget topic; metrics go out as Embedded Metric
 *    Format lines (no API calls).
 *
 * Choices where the design left room, each the simple and safe one:
 * - the caller is parsed from `identity.arn` with a regular expression anchored on a whole STS assumed-role ARN, not
 *   with an unanchored glob, which an IAM user ARN with the path `/assumed-role/<role>/` would also match;
 * - a failed, cancelled or timed-out query fails the run (the pending window is resumed next run); a query still
 *   running when Lambda time is nearly out is stopped and left pending, and the run goes on to evaluate;
 * - a tenant with more than `MAX_MODELS_PER_UPDATE` models in one window has its cheapest ones added together under
 *   `OTHER_MODELS` (an UpdateExpression is at most 4 KB); its totals stay exact;
 * - a tenant with usage and no gateway-token secret (removed, or a token without the prefix) is evaluated against
 *   the default budget; two secrets naming one tenant: the lower budget counts;
 * - a tag `budget-usd` is valid when it is a positive decimal number of dollars, at most 1,000,000 and with at most
 *   9 decimals (the same bound as the tenant spec);
 * - a run at or after the month's end no longer evaluates that month: its last windows are counted into it, but
 *   its thresholds are no longer announced;
 * - block and unblock notices are sent once, when the policies change; one that fails to publish is logged, not
 *   retried (the policies are the state); threshold announcements are retried next run;
 * - when packed namespaces move between slots, the slots are written in an order that keeps each of them in some
 *   policy at every moment (the slot it moves to first).
 *
 * CDK-free: the budget function bundles this module.
 * @internal
 */
/* eslint-disable import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external) */
import {
  CloudWatchLogsClient, GetQueryResultsCommand, GetQueryResultsCommandOutput, ResultField, StartQueryCommand, StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { AttributeValue, DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import {
  CreatePolicyVersionCommand, DeletePolicyVersionCommand, GetPolicyCommand, GetPolicyVersionCommand, IAMClient, ListPolicyVersionsCommand,
  PolicyVersion,
} from '@aws-sdk/client-iam';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Env, Logger, errorFields, errorName, jsonLogger, requireEnv } from '../self-service/handler-util';
import { TAG_BUDGET_USD, TAG_TENANT_NAMESPACE } from '../tenant-spec';
import {
  BLOCKED_ACTIONS, BLOCK_CONDITION_KEY, EMPTY_SLOT_VALUE, ENV_BEDROCK_ROLE_NAME, ENV_BLOCK_POLICY_ARNS, ENV_DEFAULT_BUDGET_USD,
  ENV_ENFORCEMENT, ENV_LOG_GROUP_NAME, ENV_PRICES, ENV_SECRET_PREFIX, ENV_TABLE_NAME, ENV_THRESHOLDS, ENV_TOPIC_ARN, Enforcement,
  METRIC_BLOCKED, METRIC_BUDGET_USED, METRIC_NAMESPACE, METRIC_OVER_BUDGET, METRIC_RUN_LAG, METRIC_SPEND, METRIC_TOKENS,
  METRIC_UNBLOCKABLE, NANO_PER_USD, NanoPrice, PriceTable, QUERY_ROW_LIMIT, SETTLE_MS, STATE_KEY, TABLE_PARTITION_KEY, TABLE_SORT_KEY,
  TENANT_DIMENSION, TokenCounts, blockPolicyDocument, costNano, highestPrice, monthKey, monthOf, monthStart, nextMonthStart,
  normalizeModelId, packBlockSlots, priceOf,
} from './contract';

// ---------------------------------------------------------------------------------------------------------------
// settings

/** The budget function's settings, read from its environment by {@link budgetConfigFromEnvironment}. @internal */
export interface BudgetConfig {
  readonly tableName: string;
  readonly logGroupName: string;
  /** The name (not ARN) of the role every tenant gateway calls Bedrock with. */
  readonly bedrockRoleName: string;
  readonly topicArn: string;
  /** The block policies, in slot order (none only with `ALERT`). */
  readonly blockPolicyArns: readonly string[];
  readonly enforcement: Enforcement;
  /** Whole percentages, strictly ascending. */
  readonly thresholds: readonly number[];
  /** A tenant's budget when its token has no valid `budget-usd` tag. */
  readonly defaultBudgetUsd: number;
  readonly prices: PriceTable;
  /** Name prefix of the gateway-token secrets. */
  readonly secretPrefix: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::\d{12}:policy\/[\w+=,.@/-]{1,512}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w.-]{1,256}$/;
const LOG_GROUP_NAME = /^[\w\-/.#]{1,512}$/;
const TABLE_NAME = /^[\w.-]{3,255}$/;
/** The largest budget a tag or the default may give, in dollars (the tenant spec's bound). */
export const MAX_BUDGET_USD = 1_000_000;

/**
 * The settings from the environment: the `ENV_*` variables of contract.ts. Throws an Error naming the first
 * missing or bad variable.
 * @internal
 */
export function budgetConfigFromEnvironment(env: Env = process.env): BudgetConfig {
  const bad = (name: string, what: string) => new Error(`The environment variable ${name} must be ${what}, got '${env[name] ?? ''}'`);
  const missing = (name: string) => new Error(`The environment variable ${name} must be set for the budget function`);
  const need = (name: string, pattern: RegExp, what: string): string => {
    const value = requireEnv(env, name, missing);
    if (!pattern.test(value)) throw bad(name, what);
    return value;
  };
  const enforcement = need(ENV_ENFORCEMENT, /^(ALERT|BLOCK)$/, 'ALERT or BLOCK') as Enforcement;
  const arnList = env[ENV_BLOCK_POLICY_ARNS] ?? '';
  const blockPolicyArns = arnList === '' ? [] : arnList.split(',').map((a) => a.trim());
  if (blockPolicyArns.some((a) => !POLICY_ARN.test(a)) || new Set(blockPolicyArns).size !== blockPolicyArns.length) {
    throw bad(ENV_BLOCK_POLICY_ARNS, 'a comma-separated list of distinct IAM policy ARNs');
  }
  if (enforcement === 'BLOCK' && blockPolicyArns.length === 0) throw bad(ENV_BLOCK_POLICY_ARNS, `at least one policy ARN when ${ENV_ENFORCEMENT} is BLOCK`);
  const thresholdText = need(ENV_THRESHOLDS, /^\d{1,5}(,\d{1,5})*$/, 'comma-separated whole percentages, strictly ascending (80,100)');
  const thresholds = thresholdText.split(',').map(Number);
  if (thresholds.some((t, i) => t < 1 || (i > 0 && t <= thresholds[i - 1]))) {
    throw bad(ENV_THRESHOLDS, 'comma-separated whole percentages from 1, strictly ascending (80,100)');
  }
  const defaultBudget = parseUsd(requireEnv(env, ENV_DEFAULT_BUDGET_USD, missing));
  if (defaultBudget === undefined) throw bad(ENV_DEFAULT_BUDGET_USD, `a positive number of US dollars of at most ${MAX_BUDGET_USD}`);
  return {
    tableName: need(ENV_TABLE_NAME, TABLE_NAME, 'a DynamoDB table name'),
    logGroupName: need(ENV_LOG_GROUP_NAME, LOG_GROUP_NAME, 'a CloudWatch Logs log group name'),
    bedrockRoleName: need(ENV_BEDROCK_ROLE_NAME, ROLE_NAME, 'an IAM role name (not an ARN)'),
    topicArn: need(ENV_TOPIC_ARN, TOPIC_ARN, 'an SNS topic ARN'),
    blockPolicyArns,
    enforcement,
    thresholds,
    defaultBudgetUsd: defaultBudget.usd,
    prices: parsePriceTable(env[ENV_PRICES]),
    secretPrefix: need(ENV_SECRET_PREFIX, /^.{1,512}$/, 'a secret name prefix'),
  };
}

/** The price table of `PRICES`: a non-empty JSON object of model ids to four whole nano-dollar prices. */
function parsePriceTable(text: string | undefined): PriceTable {
  const bad = (what: string) => new Error(`The environment variable ${ENV_PRICES} must be ${what}`);
  if (!text) throw new Error(`The environment variable ${ENV_PRICES} must be set for the budget function`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw bad('a non-empty JSON object of model ids to prices');
  }
  const table: Record<string, NanoPrice> = {};
  for (const [model, price] of Object.entries(parsed as Record<string, any>)) {
    const fields = ['input', 'output', 'cacheRead', 'cacheWrite'] as const;
    if (price === null || typeof price !== 'object' || fields.some((f) => !Number.isSafeInteger(price[f]) || price[f] < 0)) {
      throw bad(`JSON whose every price has input, output, cacheRead and cacheWrite as whole nano-dollars per token; '${model}' does not`);
    }
    table[model] = { input: price.input, output: price.output, cacheRead: price.cacheRead, cacheWrite: price.cacheWrite };
  }
  return table;
}

/**
 * A positive decimal number of dollars (at most `MAX_BUDGET_USD`, at most 9 decimals) and its exact value in
 * nano-dollars; undefined for anything else.
 * @internal
 */
export function parseUsd(text: string | undefined): { usd: number; nano: number } | undefined {
  const m = /^(\d{1,7})(?:\.(\d{1,9}))?$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const nano = Number(m[1]) * NANO_PER_USD + Number((m[2] ?? '').padEnd(9, '0'));
  if (nano <= 0 || nano > MAX_BUDGET_USD * NANO_PER_USD) return undefined;
  return { usd: nano / NANO_PER_USD, nano };
}

// ---------------------------------------------------------------------------------------------------------------
// the usage query

/** A counting window: `[from, to)`, epoch ms, whole minutes, never across a month's end. @internal */
export interface UsageWindow {
  readonly from: number;
  readonly to: number;
}

/** The characters a namespace may end with, in the order the row-limit partitions cut them. @internal */
export const TENANT_LAST_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A Kubernetes namespace name (a DNS label): what a tenant in a usage row must be. @internal */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/**
 * The Logs Insights query counting one window: the Bedrock role's calls, summed by tenant (the session name) and
 * model. `lastChars` keeps the tenants whose name ends in one of those characters; `limit` is the row limit.
 * @internal
 */
export function usageQuery(window: UsageWindow, bedrockRoleName: string, options: { lastChars?: string; limit?: number } = {}): string {
  if (!ROLE_NAME.test(bedrockRoleName)) throw new Error(`'${bedrockRoleName}' is not an IAM role name`);
  if (!Number.isSafeInteger(window.from) || !Number.isSafeInteger(window.to) || window.to <= window.from) {
    throw new Error(`the window ${window.from} to ${window.to} is not a range of epoch milliseconds`);
  }
  const lines = [
    `filter schemaType = "ModelInvocationLog" and @timestamp >= fromMillis(${window.from}) and @timestamp < fromMillis(${window.to})`,
    '| parse identity.arn /^arn:aws[a-z-]*:sts::\\d{12}:assumed-role\\/(?<callerRole>[^\\/]+)\\/(?<tenant>[^\\/]+)$/',
    `| filter callerRole = "${bedrockRoleName}"`,
  ];
  if (options.lastChars !== undefined) {
    if (!/^[0-9a-z]+$/.test(options.lastChars)) throw new Error(`'${options.lastChars}' is not a set of characters a namespace ends with`);
    lines.push(`| filter tenant like /[${options.lastChars}]$/`);
  }
  lines.push(
    '| stats sum(input.inputTokenCount) as inputTokens, sum(output.outputTokenCount) as outputTokens, '
    + 'sum(input.cacheReadInputTokenCount) as cacheReadTokens, sum(input.cacheWriteInputTokenCount) as cacheWriteTokens, '
    + 'count(*) as calls by tenant, modelId',
    `| limit ${options.limit ?? QUERY_ROW_LIMIT}`,
  );
  return lines.join('\n');
}

/** One tenant's use of one model (as the caller named it) in one window. @internal */
export interface UsageRow {
  readonly tenant: string;
  readonly modelId: string;
  readonly tokens: TokenCounts;
  readonly calls: number;
}

/** A result row that was not counted, and why. @internal */
export interface RejectedRow {
  readonly reason: string;
  readonly tenant?: string;
  readonly modelId?: string;
}

/**
 * The usage rows of a query's results: a missing sum is 0; a row whose tenant is not a namespace name, whose model
 * is missing, or whose counts are not whole numbers from 0 is rejected.
 * @internal
 */
export function parseUsageRows(results: readonly (readonly ResultField[])[]): { rows: UsageRow[]; rejected: RejectedRow[] } {
  const rows: UsageRow[] = [];
  const rejected: RejectedRow[] = [];
  for (const result of results) {
    const field = (name: string) => result.find((f) => f.field === name)?.value;
    const tenant = field('tenant');
    const modelId = field('modelId');
    if (tenant === undefined || !isNamespaceName(tenant)) {
      rejected.push({ reason: 'the tenant is not a namespace name', tenant: tenant?.slice(0, 100), modelId: modelId?.slice(0, 200) });
      continue;
    }
    if (!modelId || modelId.length > 2048 || /[\s\p{Cc}]/u.test(modelId)) {
      rejected.push({ reason: 'the model id is missing or malformed', tenant, modelId: modelId?.slice(0, 200) });
      continue;
    }
    const count = (name: string): number | undefined => {
      const text = field(name);
      if (text === undefined || text === '') return 0;
      const value = Number(text);
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    };
    const [input, output, cacheRead, cacheWrite, calls] = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'calls'].map(count);
    if (input === undefined || output === undefined || cacheRead === undefined || cacheWrite === undefined || calls === undefined) {
      rejected.push({ reason: 'a count is not a whole number from 0', tenant, modelId });
      continue;
    }
    rows.push({ tenant, modelId, tokens: { input, output, cacheRead, cacheWrite }, calls });
  }
  return { rows, rejected };
}

/** The tenants' halves, by the last character of their name, that a full result is counted again in. @internal */
export function splitLastChars(chars: string): [string, string] {
  const half = Math.ceil(chars.length / 2);
  return [chars.slice(0, half), chars.slice(half)];
}

// ---------------------------------------------------------------------------------------------------------------
// prices and aggregation

/** One tenant's use of one model (normalized id) in a window, priced. @internal */
export interface ModelUsage {
  readonly tokens: TokenCounts;
  readonly calls: number;
  readonly costNano: number;
}

/** One tenant's use in a window: by model and in total. @internal */
export interface TenantUsage {
  readonly tenant: string;
  readonly models: ReadonlyMap<string, ModelUsage>;
  readonly tokens: TokenCounts;
  readonly calls: number;
  readonly costNano: number;
}

/** A tenant with more models than this in one window has the cheapest added together (see the module comment). */
export const MAX_MODELS_PER_UPDATE = 40;
/** The model name the cheapest models of such a tenant are added together under. */
export const OTHER_MODELS = '(other models)';

const addTokens = (a: TokenCounts, b: TokenCounts): TokenCounts => ({
  input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite,
});
const NO_TOKENS: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

/** Throws unless the value is a whole number below 2^53 (cost arithmetic must be exact). */
function exact(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new Error(`${what} is ${value}, beyond exact integer arithmetic (2^53)`);
  return value;
}

/**
 * Prices the rows: rows of one tenant and model (after `normalizeModelId`) are added together, each model is
 * priced by `priceOf`, an unpriced one at `highestPrice` (named in `unpriced`), and each tenant's totals are the
 * sums of its models. Pure.
 * @internal
 */
export function aggregateUsage(rows: readonly UsageRow[], prices: PriceTable): { tenants: Map<string, TenantUsage>; unpriced: string[] } {
  const byTenant = new Map<string, Map<string, { tokens: TokenCounts; calls: number }>>();
  for (const row of rows) {
    const model = normalizeModelId(row.modelId);
    const models = byTenant.get(row.tenant) ?? new Map();
    byTenant.set(row.tenant, models);
    const seen = models.get(model);
    models.set(model, { tokens: addTokens(seen?.tokens ?? NO_TOKENS, row.tokens), calls: (seen?.calls ?? 0) + row.calls });
  }
  const unpriced = new Set<string>();
  const dearest = highestPrice(prices);
  const tenants = new Map<string, TenantUsage>();
  for (const [tenant, models] of byTenant) {
    const priced = new Map<string, ModelUsage>();
    let tokens = NO_TOKENS;
    let calls = 0;
    let cost = 0;
    for (const [model, use] of models) {
      let price = priceOf(prices, model);
      if (!price) {
        unpriced.add(model);
        price = dearest;
      }
      const modelCost = exact(costNano(use.tokens, price), `the cost of ${tenant}'s use of ${model}`);
      priced.set(model, { ...use, costNano: modelCost });
      tokens = addTokens(tokens, use.tokens);
      calls += use.calls;
      cost = exact(cost + modelCost, `the cost of ${tenant}'s window`);
    }
    tenants.set(tenant, { tenant, models: priced, tokens, calls, costNano: cost });
  }
  return { tenants, unpriced: [...unpriced].sort() };
}

// ---------------------------------------------------------------------------------------------------------------
// the table

/** Attribute names of the table's items (per-model ones: `<prefix>:<model>`, contract.ts). */
const A = {
  watermark: 'watermark',
  pending: 'pending',
  from: 'from',
  to: 'to',
  costNano: 'costNano',
  inputTokens: 'inputTokens',
  outputTokens: 'outputTokens',
  cacheReadTokens: 'cacheReadTokens',
  cacheWriteTokens: 'cacheWriteTokens',
  calls: 'calls',
  appliedThrough: 'appliedThrough',
  alerted: 'alerted',
} as const;

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const tableKey = (key: { readonly pk: string; readonly sk: string }) => ({ [TABLE_PARTITION_KEY]: S(key.pk), [TABLE_SORT_KEY]: S(key.sk) });

/** A number attribute as a safe integer (absent: 0). */
function intOf(item: Record<string, AttributeValue> | undefined, name: string): number {
  const text = item?.[name]?.N;
  if (text === undefined) return 0;
  return exact(Number(text), `the attribute ${name}`);
}

/**
 * The UpdateItem adding one tenant's window to its month: per model and totals by `ADD`, `appliedThrough` set to
 * the window's end, on condition that no window ending after this one's start was added. Zero counts are left out
 * (except the totals `costNano` and `calls`); a tenant with more than `MAX_MODELS_PER_UPDATE` models has the
 * cheapest added together under `OTHER_MODELS`.
 * @internal
 */
export function tenantUpdate(tableName: string, month: string, usage: TenantUsage, window: UsageWindow): UpdateItemCommandInput {
  let models = [...usage.models].sort(([a, x], [b, y]) => y.costNano - x.costNano || (a < b ? -1 : 1));
  if (models.length > MAX_MODELS_PER_UPDATE) {
    const rest = models.slice(MAX_MODELS_PER_UPDATE - 1).reduce((sum, [, m]) => ({
      tokens: addTokens(sum.tokens, m.tokens), calls: sum.calls + m.calls, costNano: sum.costNano + m.costNano,
    }), { tokens: NO_TOKENS, calls: 0, costNano: 0 });
    models = [...models.slice(0, MAX_MODELS_PER_UPDATE - 1), [OTHER_MODELS, rest]];
  }
  const names: Record<string, string> = { '#applied': A.appliedThrough };
  const values: Record<string, AttributeValue> = { ':to': N(window.to), ':from': N(window.from) };
  const adds: string[] = [];
  const add = (attribute: string, value: number, always = false) => {
    if (value === 0 && !always) return;
    const i = adds.length;
    names[`#a${i}`] = attribute;
    values[`:a${i}`] = N(value);
    adds.push(`#a${i} :a${i}`);
  };
  add(A.costNano, usage.costNano, true);
  add(A.calls, usage.calls, true);
  add(A.inputTokens, usage.tokens.input);
  add(A.outputTokens, usage.tokens.output);
  add(A.cacheReadTokens, usage.tokens.cacheRead);
  add(A.cacheWriteTokens, usage.tokens.cacheWrite);
  for (const [model, use] of models) {
    add(`in:${model}`, use.tokens.input);
    add(`out:${model}`, use.tokens.output);
    add(`cr:${model}`, use.tokens.cacheRead);
    add(`cw:${model}`, use.tokens.cacheWrite);
    add(`calls:${model}`, use.calls);
    add(`cost:${model}`, use.costNano);
  }
  return {
    TableName: tableName,
    Key: tableKey(monthKey(month, usage.tenant)),
    UpdateExpression: `ADD ${adds.join(', ')} SET #applied = :to`,
    ConditionExpression: 'attribute_not_exists(#applied) OR #applied <= :from',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// block policies

/**
 * The namespaces a block policy document denies, sorted; undefined when the document is not a block policy as
 * `blockPolicyDocument` writes it (one Deny of the blocked actions on `*` for the namespace tag).
 * @internal
 */
export function deniedNamespaces(document: unknown): string[] | undefined {
  const statements = (document as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  if (list.length !== 1) return undefined;
  const s = list[0] as Record<string, any> | undefined;
  const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  const actions = asList(s?.Action);
  if (s?.Effect !== 'Deny' || (s.Resource !== '*' && JSON.stringify(s.Resource) !== '["*"]')) return undefined;
  if (actions.length !== BLOCKED_ACTIONS.length || !BLOCKED_ACTIONS.every((a) => actions.includes(a))) return undefined;
  const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
  if (!condition || Object.keys(condition).length !== 1) return undefined;
  if (!condition.StringEquals || Object.keys(condition.StringEquals).length !== 1) return undefined;
  const values = asList(condition.StringEquals[BLOCK_CONDITION_KEY]);
  if (values.some((v) => typeof v !== 'string')) return undefined;
  return [...new Set(values as string[])].filter((v) => v !== EMPTY_SLOT_VALUE).sort();
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

// ---------------------------------------------------------------------------------------------------------------
// messages and metrics

/** Nano-dollars as dollars with cents (`$1,234.57`), rounded half up. @internal */
export function formatUsd(nano: number): string {
  const cents = (BigInt(nano) + 5_000_000n) / 10_000_000n;
  const dollars = (cents / 100n).toString().replace(/\B(?=(\d{3})+$)/g, ',');
  return `$${dollars}.${(cents % 100n).toString().padStart(2, '0')}`;
}

/** `cost * 100 >= percent * budget`, exactly. */
const reached = (cost: number, budgetNano: number, percent: number) => BigInt(cost) * 100n >= BigInt(percent) * BigInt(budgetNano);

/** One Embedded Metric Format line: the metrics given (name → [value, unit]), with the dimensions' values. */
function emfLine(
  timestamp: number, metrics: Record<string, [number, string]>, dimensions: Record<string, string> = {}, fields: Record<string, number> = {},
): object {
  const names = Object.keys(metrics);
  if (names.length > 100) throw new Error('an EMF directive holds at most 100 metrics');
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: METRIC_NAMESPACE,
        Dimensions: [Object.keys(dimensions)],
        Metrics: names.map((name) => ({ Name: name, Unit: metrics[name][1] })),
      }],
    },
    ...dimensions,
    ...fields,
    ...Object.fromEntries(names.map((name) => [name, metrics[name][0]])),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the handler

/** What the budget function works with; tests pass fakes. @internal */
export interface BudgetDeps {
  readonly logs: CloudWatchLogsClient;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly iam: IAMClient;
  /** The settings; called once per run. */
  readonly config: () => BudgetConfig;
  /** @default Date.now */
  readonly now?: () => number;
  /** Waits between polls of a running query. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Writes one Embedded Metric Format line. @default a JSON line on stdout */
  readonly emit?: (line: object) => void;
  /** @default jsonLogger */
  readonly log?: Logger;
  /** Lambda time left, in ms. @default the invocation context's, else unlimited */
  readonly remainingMs?: () => number;
  /** The rows a query may return (tests lower it). @default QUERY_ROW_LIMIT */
  readonly queryRowLimit?: number;
  /** How long to wait between polls of a running query. @default 1000 */
  readonly pollMs?: number;
  /** Tenants updated, and thresholds announced, at once. @default 16 */
  readonly concurrency?: number;
}

/** The parts of Lambda's invocation context the function reads. @internal */
export interface BudgetContext {
  readonly getRemainingTimeInMillis?: () => number;
}

/** What one run did. @internal */
export interface BudgetRunSummary {
  /** Windows finished. */
  windows: number;
  /** Logs Insights queries started. */
  queries: number;
  /** Tenant-months a window was added to. */
  tenantsUpdated: number;
  /** Tenant-months skipped because the window was already added (a resumed window). */
  tenantsAlreadyApplied: number;
  /** Query rows rejected as malformed. */
  rowsRejected: number;
  /** Models charged the highest price. */
  unpricedModels: string[];
  /** Tenants of the current month evaluated. */
  tenantsEvaluated: number;
  alertsSent: number;
  alertsFailed: number;
  /** Tenants newly blocked, and unblocked, by this run's policy writes. */
  blocked: number;
  unblocked: number;
  /** Tenants in the block policies after the run. */
  tenantsBlocked: number;
  tenantsOverBudget: number;
  /** Tenants that should be blocked but fit in no policy. */
  tenantsOverBlockCapacity: number;
  policyVersionsCreated: number;
  policyVersionsDeleted: number;
  /** The end of the last window counted, epoch ms. */
  watermark: number;
  lagMinutes: number;
  /** A window is still pending (its query was stopped for lack of time). */
  windowLeftPending: boolean;
  /** Another run claimed the window first: this one did nothing. */
  claimLost: boolean;
}

/** A new window is started only with this much Lambda time left. */
export const WINDOW_MARGIN_MS = 120_000;
/** A running query is stopped (its window left pending) when less than this is left: time to evaluate. */
export const POLL_MARGIN_MS = 60_000;

/**
 * The scheduled handler: one run (count, evaluate, enforce, report), returning its summary. It throws when the run
 * failed (a window is resumed next run), and returns quietly when another run held the claim.
 * @internal
 */
export function createHandler(deps: BudgetDeps): (event?: unknown, context?: BudgetContext) => Promise<BudgetRunSummary> {
  const log = deps.log ?? jsonLogger;
  return async (_event, context) => {
    const remaining = deps.remainingMs
      ?? (typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis!() : () => Number.POSITIVE_INFINITY);
    try {
      const summary = await new BudgetRun(deps, deps.config(), log, remaining).run();
      log('info', 'budget run finished', { ...summary });
      return summary;
    } catch (error) {
      log('error', 'budget run failed; the next run tries again (a pending window is resumed)', { error: errorFields(error) });
      throw error;
    }
  };
}

/** Stops the run quietly (another run holds the claim). */
class ClaimLost {}

interface MonthUsage {
  costNano: number;
  tokens: number;
  alerted: Set<string>;
}

interface Tenant {
  readonly name: string;
  readonly budgetUsd: number;
  readonly budgetNano: number;
  readonly costNano: number;
  readonly tokens: number;
  readonly alerted: ReadonlySet<string>;
  readonly percent: number;
}

class BudgetRun {
  private readonly now: number;
  private readonly emit: (line: object) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly rowLimit: number;
  private readonly concurrency: number;
  private readonly summary: BudgetRunSummary;
  private readonly defaultBudget: { usd: number; nano: number };

  constructor(
    private readonly deps: BudgetDeps,
    private readonly config: BudgetConfig,
    private readonly log: Logger,
    private readonly remaining: () => number,
  ) {
    this.now = (deps.now ?? Date.now)();
    this.emit = deps.emit ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.rowLimit = deps.queryRowLimit ?? QUERY_ROW_LIMIT;
    this.concurrency = Math.max(1, deps.concurrency ?? 16);
    this.defaultBudget = { usd: config.defaultBudgetUsd, nano: Math.round(config.defaultBudgetUsd * NANO_PER_USD) };
    this.summary = {
      windows: 0,
      queries: 0,
      tenantsUpdated: 0,
      tenantsAlreadyApplied: 0,
      rowsRejected: 0,
      unpricedModels: [],
      tenantsEvaluated: 0,
      alertsSent: 0,
      alertsFailed: 0,
      blocked: 0,
      unblocked: 0,
      tenantsBlocked: 0,
      tenantsOverBudget: 0,
      tenantsOverBlockCapacity: 0,
      policyVersionsCreated: 0,
      policyVersionsDeleted: 0,
      watermark: monthStart(this.now),
      lagMinutes: 0,
      windowLeftPending: false,
      claimLost: false,
    };
  }

  public async run(): Promise<BudgetRunSummary> {
    try {
      await this.countWindows();
    } catch (error) {
      if (!(error instanceof ClaimLost)) throw error;
      this.summary.claimLost = true;
      this.log('info', 'another run claimed the next window first; this run stops without changes');
      return this.summary;
    }
    await this.evaluate();
    return this.summary;
  }

  // -------------------------------------------------------------------------------------------------------------
  // counting

  private async countWindows(): Promise<void> {
    const unpriced = new Set<string>();
    for (;;) {
      const state = await this.readState();
      this.summary.watermark = state.watermark ?? monthStart(this.now);
      if (this.remaining() < WINDOW_MARGIN_MS) {
        this.log('warn', 'little Lambda time left: the rest of the settled time is counted next run', { remainingMs: this.remaining() });
        this.summary.windowLeftPending = state.pending !== undefined;
        break;
      }
      let window = state.pending;
      if (window) {
        this.log('info', 'resuming a pending window', { ...this.windowFields(window) });
      } else {
        const from = state.watermark ?? monthStart(this.now);
        const to = Math.min(Math.floor((this.now - SETTLE_MS) / 60_000) * 60_000, nextMonthStart(from));
        if (to - from < 60_000) break;
        window = { from, to };
        await this.claim(window, state.watermark !== undefined);
      }
      const rows = await this.countWindow(window);
      if (!rows) {
        this.summary.windowLeftPending = true;
        break;
      }
      const usage = aggregateUsage(rows, this.config.prices);
      for (const model of usage.unpriced) {
        if (!unpriced.has(model)) this.log('warn', 'a model has no price: charged the highest price of the table', { model });
        unpriced.add(model);
      }
      this.summary.unpricedModels = [...unpriced].sort();
      await this.applyWindow(window, [...usage.tenants.values()]);
      await this.finishWindow(window);
      this.summary.watermark = window.to;
      this.summary.windows++;
    }
  }

  private windowFields(window: UsageWindow) {
    return { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() };
  }

  private async readState(): Promise<{ watermark?: number; pending?: UsageWindow }> {
    const got = await this.deps.dynamodb.send(new GetItemCommand({
      TableName: this.config.tableName,
      Key: tableKey(STATE_KEY),
      ConsistentRead: true,
      ProjectionExpression: '#watermark, #pending',
      ExpressionAttributeNames: { '#watermark': A.watermark, '#pending': A.pending },
    }));
    const item = got.Item;
    const watermark = item?.[A.watermark] ? intOf(item, A.watermark) : undefined;
    const pendingMap = item?.[A.pending]?.M;
    let pending: UsageWindow | undefined;
    if (item?.[A.pending]) {
      pending = { from: intOf(pendingMap, A.from), to: intOf(pendingMap, A.to) };
      if (!pendingMap || pending.to <= pending.from || pending.to > nextMonthStart(pending.from)) {
        throw new Error(`the state item's pending window is malformed: ${JSON.stringify(item[A.pending])}`);
      }
    }
    return { watermark, pending };
  }

  /** Claims the window: the watermark still at its start and no window pending, else another run was first. */
  private async claim(window: UsageWindow, hasWatermark: boolean): Promise<void> {
    try {
      await this.deps.dynamodb.send(new UpdateItemCommand({
        TableName: this.config.tableName,
        Key: tableKey(STATE_KEY),
        UpdateExpression: 'SET #watermark = :from, #pending = :pending',
        ConditionExpression: hasWatermark
          ? '#watermark = :from AND attribute_not_exists(#pending)'
          : 'attribute_not_exists(#watermark) AND attribute_not_exists(#pending)',
        ExpressionAttributeNames: { '#watermark': A.watermark, '#pending': A.pending },
        ExpressionAttributeValues: { ':from': N(window.from), ':pending': { M: { [A.from]: N(window.from), [A.to]: N(window.to) } } },
      }));
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') {
        this.log('info', 'lost the claim of a window to another run', { ...this.windowFields(window) });
        throw new ClaimLost();
      }
      throw error;
    }
    this.log('info', 'claimed a window', { ...this.windowFields(window) });
  }

  private async finishWindow(window: UsageWindow): Promise<void> {
    try {
      await this.deps.dynamodb.send(new UpdateItemCommand({
        TableName: this.config.tableName,
        Key: tableKey(STATE_KEY),
        UpdateExpression: 'SET #watermark = :to REMOVE #pending',
        ConditionExpression: '#pending.#from = :from',
        ExpressionAttributeNames: { '#watermark': A.watermark, '#pending': A.pending, '#from': A.from },
        ExpressionAttributeValues: { ':to': N(window.to), ':from': N(window.from) },
      }));
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
      this.log('info', 'another run finished the window first', { ...this.windowFields(window) });
    }
  }

  /** The window's usage rows, by one query, or more when a result is full; undefined when time ran out. */
  private async countWindow(window: UsageWindow): Promise<UsageRow[] | undefined> {
    const rows: UsageRow[] = [];
    const rejected: RejectedRow[] = [];
    const parts: (string | undefined)[] = [undefined];
    while (parts.length > 0) {
      const lastChars = parts.shift();
      const results = await this.query(window, lastChars);
      if (!results) return undefined;
      if (results.length >= this.rowLimit) {
        if (lastChars !== undefined && lastChars.length === 1) {
          throw new Error(`more than ${this.rowLimit} tenant-model pairs whose tenant ends in '${lastChars}' were active between `
            + `${new Date(window.from).toISOString()} and ${new Date(window.to).toISOString()}: the usage query cannot count them`);
        }
        const halves = splitLastChars(lastChars ?? TENANT_LAST_CHARS);
        this.log('warn', 'a usage query returned the row limit: counting its tenants again in two halves', {
          ...this.windowFields(window), rows: results.length, lastChars: lastChars ?? 'all', halves,
        });
        parts.push(...halves);
        continue;
      }
      const parsed = parseUsageRows(results);
      rows.push(...parsed.rows);
      rejected.push(...parsed.rejected);
    }
    if (rejected.length > 0) {
      this.summary.rowsRejected += rejected.length;
      this.log('warn', 'usage rows rejected as malformed', { ...this.windowFields(window), count: rejected.length, examples: rejected.slice(0, 5) });
    }
    return rows;
  }

  /** One query's complete results (all pages); undefined when Lambda time ran out before it completed. */
  private async query(window: UsageWindow, lastChars: string | undefined): Promise<ResultField[][] | undefined> {
    const logs = this.deps.logs;
    const started = await logs.send(new StartQueryCommand({
      logGroupName: this.config.logGroupName,
      startTime: Math.floor(window.from / 1000),
      endTime: Math.ceil(window.to / 1000),
      queryString: usageQuery(window, this.config.bedrockRoleName, { lastChars, limit: this.rowLimit }),
    }));
    this.summary.queries++;
    const queryId = started.queryId;
    if (!queryId) throw new Error('StartQuery returned no query id');
    let got: GetQueryResultsCommandOutput;
    for (;;) {
      got = await logs.send(new GetQueryResultsCommand({ queryId }));
      if (got.status === 'Complete') break;
      if (got.status !== 'Scheduled' && got.status !== 'Running') {
        throw new Error(`the usage query ${queryId} ended ${got.status ?? 'without a status'}; the window is counted again next run`);
      }
      if (this.remaining() < POLL_MARGIN_MS) {
        this.log('warn', 'the usage query is still running with little Lambda time left: stopped, its window is counted next run', { queryId });
        try {
          await logs.send(new StopQueryCommand({ queryId }));
        } catch (error) {
          this.log('warn', 'could not stop the usage query', { queryId, error: errorFields(error) });
        }
        return undefined;
      }
      await this.sleep(this.deps.pollMs ?? 1000);
    }
    const results = [...got.results ?? []];
    for (let token = got.nextToken; token;) {
      const page = await logs.send(new GetQueryResultsCommand({ queryId, nextToken: token }));
      results.push(...page.results ?? []);
      token = page.nextToken;
    }
    return results;
  }

  private async applyWindow(window: UsageWindow, tenants: TenantUsage[]): Promise<void> {
    const month = monthOf(window.from);
    let skipped = 0;
    await forEachLimit(tenants, this.concurrency, async (usage) => {
      try {
        await this.deps.dynamodb.send(new UpdateItemCommand(tenantUpdate(this.config.tableName, month, usage, window)));
        this.summary.tenantsUpdated++;
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
        skipped++;
      }
    });
    this.summary.tenantsAlreadyApplied += skipped;
    if (skipped > 0) this.log('info', 'tenants whose share of a resumed window was already added were skipped', { ...this.windowFields(window), skipped });
  }

  // -------------------------------------------------------------------------------------------------------------
  // evaluating

  private async evaluate(): Promise<void> {
    const month = monthOf(this.now);
    const budgets = await this.readBudgets();
    const usage = await this.readMonth(month);
    const names = [...new Set([...budgets.keys(), ...usage.keys()])].sort();
    const tenants: Tenant[] = [];
    const withoutToken: string[] = [];
    for (const name of names) {
      let budget = budgets.get(name);
      if (!budget) {
        withoutToken.push(name);
        budget = this.defaultBudget;
      }
      const use = usage.get(name) ?? { costNano: 0, tokens: 0, alerted: new Set<string>() };
      const percent = (use.costNano / budget.nano) * 100;
      const { costNano: cost, tokens, alerted } = use;
      tenants.push({ name, budgetUsd: budget.usd, budgetNano: budget.nano, costNano: cost, tokens, alerted, percent });
    }
    if (withoutToken.length > 0) {
      this.log('warn', 'tenants with usage this month but no gateway-token secret: evaluated against the default budget', {
        count: withoutToken.length, tenants: withoutToken.slice(0, 20), defaultBudgetUsd: this.config.defaultBudgetUsd,
      });
    }
    this.summary.tenantsEvaluated = tenants.length;
    const over = tenants.filter((t) => reached(t.costNano, t.budgetNano, 100));
    this.summary.tenantsOverBudget = over.length;

    const wanted = this.config.enforcement === 'BLOCK' ? over.map((t) => t.name) : [];
    const packed = packBlockSlots(wanted, this.config.blockPolicyArns.length);
    if (packed.overflow.length > 0) {
      this.log('error', 'more tenants are over budget than the block policies hold: these are NOT blocked', {
        count: packed.overflow.length, tenants: packed.overflow.slice(0, 20), policies: this.config.blockPolicyArns.length,
      });
    }
    this.summary.tenantsOverBlockCapacity = packed.overflow.length;
    const blocks = await this.enforce(packed.slots);

    const byName = new Map(tenants.map((t) => [t.name, t]));
    const overflow = new Set(packed.overflow);
    await forEachLimit(tenants, this.concurrency, (tenant) => this.announce(month, tenant, blocks.after, overflow));
    for (const name of blocks.added) await this.notify(month, byName.get(name), name, 'blocked');
    for (const name of blocks.removed) await this.notify(month, byName.get(name), name, 'unblocked');

    this.summary.tenantsBlocked = blocks.after.size;
    this.summary.lagMinutes = Math.floor((this.now - this.summary.watermark) / 60_000);
    for (const t of tenants) {
      // Two metrics per tenant (each custom metric is billed monthly); the share of the budget is a log field only.
      this.emit(emfLine(this.now, {
        [METRIC_SPEND]: [t.costNano / NANO_PER_USD, 'None'],
        [METRIC_TOKENS]: [t.tokens, 'Count'],
      }, { [TENANT_DIMENSION]: t.name }, { [METRIC_BUDGET_USED]: t.percent }));
    }
    this.emit(emfLine(this.now, {
      [METRIC_BLOCKED]: [this.summary.tenantsBlocked, 'Count'],
      [METRIC_OVER_BUDGET]: [this.summary.tenantsOverBudget, 'Count'],
      [METRIC_UNBLOCKABLE]: [this.summary.tenantsOverBlockCapacity, 'Count'],
      [METRIC_RUN_LAG]: [this.summary.lagMinutes, 'None'],
    }));
    // A policy that could not be written fails the run (after the rest was done), to be alarmed on and retried.
    if (blocks.failure) throw blocks.failure.error;
  }

  /** Tenants and their budgets, from the tags of the gateway-token secrets. */
  private async readBudgets(): Promise<Map<string, { usd: number; nano: number }>> {
    const budgets = new Map<string, { usd: number; nano: number }>();
    const invalid: { secret: string; value: string }[] = [];
    let token: string | undefined;
    do {
      const page = await this.deps.secrets.send(new ListSecretsCommand({
        Filters: [{ Key: 'tag-key', Values: [TAG_TENANT_NAMESPACE] }, { Key: 'name', Values: [this.config.secretPrefix] }],
        MaxResults: 100,
        NextToken: token,
      }));
      for (const secret of page.SecretList ?? []) {
        const tag = (key: string) => secret.Tags?.find((t) => t.Key === key)?.Value;
        const tenant = tag(TAG_TENANT_NAMESPACE);
        if (!secret.Name?.startsWith(this.config.secretPrefix)) continue;
        if (tenant === undefined || !isNamespaceName(tenant)) {
          this.log('warn', `a gateway-token secret's ${TAG_TENANT_NAMESPACE} tag is not a namespace name: ignored`, { secret: secret.Name });
          continue;
        }
        let budget = parseUsd(tag(TAG_BUDGET_USD));
        if (!budget) {
          invalid.push({ secret: secret.Name ?? '', value: (tag(TAG_BUDGET_USD) ?? '(none)').slice(0, 40) });
          budget = this.defaultBudget;
        }
        const seen = budgets.get(tenant);
        if (seen) this.log('warn', 'two gateway-token secrets name one tenant: the lower budget counts', { tenant });
        if (!seen || budget.nano < seen.nano) budgets.set(tenant, budget);
      }
      token = page.NextToken;
    } while (token);
    if (invalid.length > 0) {
      this.log('warn', `gateway-token secrets without a valid ${TAG_BUDGET_USD} tag: the default budget counts`, {
        count: invalid.length, examples: invalid.slice(0, 20), defaultBudgetUsd: this.config.defaultBudgetUsd,
      });
    }
    return budgets;
  }

  /** The month's items: each tenant's spend, tokens and announced thresholds. */
  private async readMonth(month: string): Promise<Map<string, MonthUsage>> {
    const usage = new Map<string, MonthUsage>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.deps.dynamodb.send(new QueryCommand({
        TableName: this.config.tableName,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk, #cost, #in, #out, #cr, #cw, #alerted',
        ExpressionAttributeNames: {
          '#pk': TABLE_PARTITION_KEY,
          '#sk': TABLE_SORT_KEY,
          '#cost': A.costNano,
          '#in': A.inputTokens,
          '#out': A.outputTokens,
          '#cr': A.cacheReadTokens,
          '#cw': A.cacheWriteTokens,
          '#alerted': A.alerted,
        },
        ExpressionAttributeValues: { ':pk': S(monthKey(month, '').pk) },
        ExclusiveStartKey: start,
      }));
      for (const item of page.Items ?? []) {
        const tenant = item[TABLE_SORT_KEY]?.S ?? '';
        if (!isNamespaceName(tenant)) continue;
        const tokens = intOf(item, A.inputTokens) + intOf(item, A.outputTokens) + intOf(item, A.cacheReadTokens) + intOf(item, A.cacheWriteTokens);
        usage.set(tenant, { costNano: intOf(item, A.costNano), tokens, alerted: new Set(item[A.alerted]?.SS ?? []) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return usage;
  }

  // -------------------------------------------------------------------------------------------------------------
  // block policies

  /**
   * Brings each block policy to its slot's namespaces (writing only those that differ, adding slots first) and
   * returns who is blocked after, and who was newly blocked and unblocked.
   */
  private async enforce(slots: string[][]): Promise<{ after: Set<string>; added: string[]; removed: string[]; failure?: { error: unknown } }> {
    const arns = this.config.blockPolicyArns;
    const current: (string[] | undefined)[] = [];
    for (const arn of arns) current.push(await this.readBlockPolicy(arn));
    const before = new Set(current.flatMap((c) => c ?? []));
    const wanted = new Set(slots.flat());
    const now = current.map((c) => c ?? []);
    const waiting = arns.map((_, i) => i).filter((i) => !current[i] || !sameList(current[i]!, slots[i]));
    const written = waiting.length;
    // A slot is written once every namespace it drops that stays blocked is in another slot already, so that a
    // namespace moving between slots is always in one of them (when the moves allow such an order).
    const elsewhere = (ns: string, i: number) => now.some((other, j) => j !== i && other.includes(ns));
    const ready = (i: number) => now[i].every((ns) => slots[i].includes(ns) || !wanted.has(ns) || elsewhere(ns, i));
    let failure: { error: unknown } | undefined;
    while (waiting.length > 0) {
      const i = waiting.splice(Math.max(0, waiting.findIndex(ready)), 1)[0];
      try {
        await this.writeBlockPolicy(arns[i], slots[i]);
        now[i] = slots[i];
      } catch (error) {
        failure ??= { error };
        this.log('error', 'could not write a block policy', { policy: arns[i], error: errorFields(error) });
      }
    }
    const after = new Set(now.flat());
    const added = [...after].filter((ns) => !before.has(ns)).sort();
    const removed = [...before].filter((ns) => !after.has(ns)).sort();
    if (written > 0) this.log('info', 'block policies written', { written, blocked: after.size, added: added.length, removed: removed.length });
    return { after, added, removed, failure };
  }

  /** The namespaces the policy's default version denies; undefined when it is not a block policy document. */
  private async readBlockPolicy(arn: string): Promise<string[] | undefined> {
    const policy = await this.deps.iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    const versionId = policy.Policy?.DefaultVersionId;
    if (!versionId) throw new Error(`the block policy ${arn} has no default version`);
    const version = await this.deps.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
    let denied: string[] | undefined;
    try {
      denied = deniedNamespaces(JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '')));
    } catch {
      denied = undefined;
    }
    if (!denied) this.log('warn', 'a block policy is not in the form this function writes: it is rewritten', { policy: arn, versionId });
    return denied;
  }

  /** A new default version of the policy (deleting the oldest other version when all five exist). */
  private async writeBlockPolicy(arn: string, namespaces: string[]): Promise<void> {
    const versions: PolicyVersion[] = [];
    let marker: string | undefined;
    do {
      const page = await this.deps.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker: marker }));
      versions.push(...page.Versions ?? []);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    if (versions.length >= 5) {
      const oldest = versions.filter((v) => !v.IsDefaultVersion)
        .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))[0];
      if (oldest?.VersionId) {
        await this.deps.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: oldest.VersionId }));
        this.summary.policyVersionsDeleted++;
      }
    }
    await this.deps.iam.send(new CreatePolicyVersionCommand({
      PolicyArn: arn,
      PolicyDocument: JSON.stringify(blockPolicyDocument(namespaces)),
      SetAsDefault: true,
    }));
    this.summary.policyVersionsCreated++;
  }

  // -------------------------------------------------------------------------------------------------------------
  // messages

  /** Announces each threshold the tenant reached and was not told of this month: marked first, unmarked if not sent. */
  private async announce(month: string, tenant: Tenant, blocked: ReadonlySet<string>, overflow: ReadonlySet<string>): Promise<void> {
    let topModels: [string, number][] | undefined;
    for (const threshold of this.config.thresholds) {
      const mark = String(threshold);
      if (tenant.alerted.has(mark) || !reached(tenant.costNano, tenant.budgetNano, threshold)) continue;
      try {
        if (!(await this.markAlert(month, tenant.name, mark, 'ADD'))) continue;
      } catch (error) {
        this.summary.alertsFailed++;
        this.log('error', 'could not record a budget alert; it is tried again next run', { tenant: tenant.name, threshold, error: errorFields(error) });
        continue;
      }
      try {
        topModels ??= await this.topModels(month, tenant.name);
        await this.publish(`OpenClaw budget: ${tenant.name} reached ${threshold}% (${month})`,
          this.alertText(month, tenant, threshold, topModels, blocked.has(tenant.name), overflow.has(tenant.name)),
          { tenant: tenant.name, event: 'threshold', threshold: String(threshold) });
        this.summary.alertsSent++;
      } catch (error) {
        this.summary.alertsFailed++;
        this.log('error', 'could not send a budget alert; it is sent again next run', { tenant: tenant.name, threshold, error: errorFields(error) });
        try {
          await this.markAlert(month, tenant.name, mark, 'DELETE');
        } catch (unmarkError) {
          this.log('error', 'could not clear the mark of an unsent budget alert: it will not be sent', {
            tenant: tenant.name, threshold, error: errorFields(unmarkError),
          });
        }
      }
    }
  }

  /** ADD: marks the threshold announced, false when it already was; DELETE: clears the mark. */
  private async markAlert(month: string, tenant: string, mark: string, action: 'ADD' | 'DELETE'): Promise<boolean> {
    try {
      await this.deps.dynamodb.send(new UpdateItemCommand({
        TableName: this.config.tableName,
        Key: tableKey(monthKey(month, tenant)),
        UpdateExpression: `${action} #alerted :mark`,
        ...(action === 'ADD' ? { ConditionExpression: 'NOT contains(#alerted, :markText)' } : {}),
        ExpressionAttributeNames: { '#alerted': A.alerted },
        ExpressionAttributeValues: { ':mark': { SS: [mark] }, ...(action === 'ADD' ? { ':markText': S(mark) } : {}) },
      }));
      return true;
    } catch (error) {
      if (action === 'ADD' && errorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** The tenant's five dearest models this month. */
  private async topModels(month: string, tenant: string): Promise<[string, number][]> {
    const got = await this.deps.dynamodb.send(new GetItemCommand({
      TableName: this.config.tableName,
      Key: tableKey(monthKey(month, tenant)),
      ConsistentRead: true,
    }));
    return Object.keys(got.Item ?? {}).filter((name) => name.startsWith('cost:'))
      .map((name): [string, number] => [name.slice('cost:'.length), intOf(got.Item, name)])
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .slice(0, 5);
  }

  private spendLines(month: string, tenant: Tenant): string[] {
    return [
      `Tenant: ${tenant.name}`,
      `Month: ${month} (UTC)`,
      `Spend: ${formatUsd(tenant.costNano)} of a budget of ${formatUsd(tenant.budgetNano)} (${tenant.percent.toFixed(1)}%)`,
    ];
  }

  private alertText(month: string, tenant: Tenant, threshold: number, topModels: [string, number][], blocked: boolean, overflow: boolean): string {
    const end = new Date(nextMonthStart(this.now)).toISOString().slice(0, 10);
    const over = reached(tenant.costNano, tenant.budgetNano, 100);
    let next: string;
    if (this.config.enforcement === 'ALERT') next = 'Enforcement is ALERT: the tenant\'s Bedrock calls are not blocked, whatever it spends.';
    else if (blocked) next = `The tenant's Bedrock calls are blocked until the month ends (${end} 00:00 UTC) or its budget-usd tag is raised above its spend.`;
    else if (over && overflow) next = 'The tenant is over budget but NOT blocked: the block policies are full. An administrator must act.';
    else if (over) next = 'The tenant is over budget but its block could not be written yet: the next run tries again.';
    else next = 'The tenant\'s Bedrock calls will be blocked when its spend reaches the budget.';
    return [
      `The Amazon Bedrock spend of an OpenClaw tenant reached ${threshold}% of its monthly budget.`,
      '',
      ...this.spendLines(month, tenant),
      '',
      'Top models by cost this month:',
      ...(topModels.length > 0 ? topModels.map(([model, cost]) => `  ${model}: ${formatUsd(cost)}`) : ['  (none recorded)']),
      '',
      `What happens next: ${next}`,
    ].join('\n');
  }

  /** Tells of a tenant newly blocked or unblocked (logged, not retried, when it cannot be sent). */
  private async notify(month: string, tenant: Tenant | undefined, name: string, event: 'blocked' | 'unblocked'): Promise<void> {
    const lines = tenant ? this.spendLines(month, tenant) : [`Tenant: ${name}`, `Month: ${month} (UTC)`];
    let text: string;
    if (event === 'blocked') {
      const end = new Date(nextMonthStart(this.now)).toISOString().slice(0, 10);
      text = `The Bedrock calls of an OpenClaw tenant are now blocked: its spend this month reached its budget.\n\n${lines.join('\n')}\n\n`
        + `The block lifts when the month ends (${end} 00:00 UTC) or when its budget-usd tag is raised above its spend.`;
    } else {
      let reason: string;
      if (this.config.enforcement === 'ALERT') reason = 'budget enforcement is now ALERT, which blocks no one';
      else if (!tenant || this.config.thresholds.every((t) => t !== 100)) reason = 'its spend is below its budget: a new month began or its budget was raised';
      else if (tenant.alerted.has('100')) reason = 'its budget was raised above its spend';
      else reason = 'a new month began';
      text = `The Bedrock calls of an OpenClaw tenant are no longer blocked: ${reason}.\n\n${lines.join('\n')}`;
    }
    try {
      await this.publish(`OpenClaw budget: ${name} ${event}`, text, { tenant: name, event });
    } catch (error) {
      this.log('error', `could not send the notice that a tenant is ${event}`, { tenant: name, error: errorFields(error) });
    }
    this.summary[event]++;
  }

  private async publish(subject: string, message: string, attributes: Record<string, string>): Promise<void> {
    const MessageAttributes: Record<string, MessageAttributeValue> = {};
    for (const [key, value] of Object.entries(attributes)) {
      MessageAttributes[key] = { DataType: key === 'threshold' ? 'Number' : 'String', StringValue: value };
    }
    await this.deps.sns.send(new PublishCommand({
      TopicArn: this.config.topicArn,
      Subject: subject.slice(0, 100),
      Message: message,
      MessageAttributes,
    }));
  }
}

/** Runs `fn` on every item, at most `limit` at once; after a failure starts no more, and throws the first. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
