/**
 * What the budget function and the construct that deploys it agree on: environment variables, table keys, the
 * tenant's Bedrock identity, metric names, prices in whole nano-dollars and the block policy. CDK-free (the handler
 * bundles it).
 * @internal
 */

// ---------------------------------------------------------------------------------------------------------------
// who called Bedrock

/**
 * Every tenant gateway calls Bedrock as `assumed-role/<bedrock role name>/<namespace>`: the role's trust policy lets
 * the tenant role assume it only with a session name equal to the caller's `kubernetes-namespace` session tag, so
 * the session name in an invocation log record names the tenant and cannot be forged.
 */
export function tenantOfCaller(callerArn: string | undefined, bedrockRoleName: string): string | undefined {
  if (!callerArn) return undefined;
  const m = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\/([^/]+)$/.exec(callerArn);
  if (!m || m[1] !== bedrockRoleName) return undefined;
  return m[2];
}

// ---------------------------------------------------------------------------------------------------------------
// environment

export const ENV_TABLE_NAME = 'BUDGET_TABLE_NAME';
export const ENV_LOG_GROUP_NAME = 'INVOCATION_LOG_GROUP_NAME';
export const ENV_BEDROCK_ROLE_NAME = 'BEDROCK_ROLE_NAME';
export const ENV_TOPIC_ARN = 'BUDGET_TOPIC_ARN';
/** Comma-separated ARNs of the block policies, in slot order. */
export const ENV_BLOCK_POLICY_ARNS = 'BLOCK_POLICY_ARNS';
/** `ALERT` or `BLOCK`. */
export const ENV_ENFORCEMENT = 'BUDGET_ENFORCEMENT';
/** Comma-separated whole percentages, ascending (e.g. `80,100`). */
export const ENV_THRESHOLDS = 'ALERT_THRESHOLDS';
/** The budget of a tenant whose token carries no valid `budget-usd` tag, in whole dollars. */
export const ENV_DEFAULT_BUDGET_USD = 'DEFAULT_BUDGET_USD';
/** The price table, JSON: `PriceTable`. */
export const ENV_PRICES = 'PRICES';
/** Name prefix of the tenants' gateway-token secrets (`openclaw/`). */
export const ENV_SECRET_PREFIX = 'TENANT_SECRET_PREFIX';

export type Enforcement = 'ALERT' | 'BLOCK';

// ---------------------------------------------------------------------------------------------------------------
// the table (partition key `pk`, sort key `sk`, both strings)

export const TABLE_PARTITION_KEY = 'pk';
export const TABLE_SORT_KEY = 'sk';

/** The run state: `{ pk: 'STATE', sk: 'STATE' }` with `watermark` (epoch ms) and `pending` (`{ from, to }`). */
export const STATE_KEY = { pk: 'STATE', sk: 'STATE' } as const;
/** A tenant's month: `{ pk: 'MONTH#2026-11', sk: '<namespace>' }`. */
export const monthKey = (month: string, namespace: string) => ({ pk: `MONTH#${month}`, sk: namespace });

/**
 * Attributes of a tenant-month item. Per model (flat names, so that `ADD` works on an item or model seen for the
 * first time): `in:<model>`, `out:<model>`, `cr:<model>`, `cw:<model>` (tokens), `calls:<model>`,
 * `cost:<model>` (nano-dollars). Totals: `costNano`, `inputTokens`, `outputTokens`, `cacheReadTokens`,
 * `cacheWriteTokens`, `calls`. `appliedThrough`: the end (epoch ms) of the last window added. `alerted`: string
 * set of the thresholds already announced this month.
 */
export const MODEL_ATTRIBUTE_PREFIXES = ['in', 'out', 'cr', 'cw', 'calls', 'cost'] as const;

// ---------------------------------------------------------------------------------------------------------------
// time

/** How long after a call its invocation log record is counted: records arrive within minutes. */
export const SETTLE_MS = 15 * 60_000;
/** The calendar month (UTC) of an instant, `YYYY-MM`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
/** The first instant (epoch ms, UTC) of the month of `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
/** The first instant (epoch ms, UTC) of the month after the month of `ms`. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

// ---------------------------------------------------------------------------------------------------------------
// prices

/** A model's prices in whole nano-dollars (1e-9 USD) per token: USD per million tokens × 1000. */
export interface NanoPrice {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}
/** Prices by model or inference profile id as callers pass it (no ARN). */
export type PriceTable = Record<string, NanoPrice>;

/** Token counts of one tenant and one model in one window. */
export interface TokenCounts {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** Geographic and global cross-region inference profile prefixes (`us.`, `eu.`, `global.`, ...). */
export const PROFILE_PREFIX = /^(us|eu|apac|jp|au|ca|us-gov|global)\./;

/**
 * The id a caller invoked, without ARN: `arn:...:foundation-model/<id>` and `arn:...:inference-profile/<id>` give
 * `<id>`; an id is returned as is.
 */
export function normalizeModelId(modelId: string): string {
  const m = /^arn:aws[a-z-]*:bedrock:[^:]*:\d*:(?:foundation-model|inference-profile)\/(.+)$/.exec(modelId);
  return m ? m[1] : modelId;
}

/**
 * The price of a model id: its own entry; else, for a cross-region profile id, its model's entry; else undefined
 * (the caller then charges the highest price of the table and says so).
 */
export function priceOf(table: PriceTable, modelId: string): NanoPrice | undefined {
  const id = normalizeModelId(modelId);
  return table[id] ?? (PROFILE_PREFIX.test(id) ? table[id.replace(PROFILE_PREFIX, '')] : undefined);
}

/** The dearest price of the table, field by field: what an unpriced model is charged. */
export function highestPrice(table: PriceTable): NanoPrice {
  const all = Object.values(table);
  return {
    input: Math.max(0, ...all.map((p) => p.input)),
    output: Math.max(0, ...all.map((p) => p.output)),
    cacheRead: Math.max(0, ...all.map((p) => p.cacheRead)),
    cacheWrite: Math.max(0, ...all.map((p) => p.cacheWrite)),
  };
}

/** Cost in whole nano-dollars: exact integer arithmetic while it stays below 2^53 (about 9 million dollars). */
export function costNano(tokens: TokenCounts, price: NanoPrice): number {
  return tokens.input * price.input + tokens.output * price.output
    + tokens.cacheRead * price.cacheRead + tokens.cacheWrite * price.cacheWrite;
}

/** Nano-dollars to dollars (for messages and metrics). */
export const NANO_PER_USD = 1_000_000_000;

// ---------------------------------------------------------------------------------------------------------------
// metrics

export const METRIC_NAMESPACE = 'OpenClaw/Budgets';
export const TENANT_DIMENSION = 'Tenant';
export const METRIC_SPEND = 'MonthToDateSpendUsd';
export const METRIC_TOKENS = 'MonthToDateTokens';
/** A field of each tenant's metric line (not a metric: each custom metric is billed). */
export const METRIC_BUDGET_USED = 'BudgetUsedPercent';
/** Run metrics (no dimension). */
export const METRIC_BLOCKED = 'TenantsBlocked';
export const METRIC_OVER_BUDGET = 'TenantsOverBudget';
export const METRIC_UNBLOCKABLE = 'TenantsOverBlockCapacity';
export const METRIC_RUN_LAG = 'UsageLagMinutes';

// ---------------------------------------------------------------------------------------------------------------
// the block policies

/**
 * The Bedrock actions a block denies: every way to run a model (Converse and ConverseStream are authorized as
 * these two).
 */
export const BLOCKED_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];
/** The principal tag a block matches: Pod Identity's session tags are transitive, so the chained session has it. */
export const BLOCK_CONDITION_KEY = 'aws:PrincipalTag/kubernetes-namespace';
/** The value an empty slot lists: never a Kubernetes namespace name. */
export const EMPTY_SLOT_VALUE = '-';
/** IAM's limit on a managed policy document, in characters without white space. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** One slot's policy document denying Bedrock to the namespaces given (none: a statement that matches no one). */
export function blockPolicyDocument(namespaces: readonly string[]): object {
  const values = namespaces.length === 0 ? [EMPTY_SLOT_VALUE] : [...namespaces];
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'BudgetExhausted',
      Effect: 'Deny',
      Action: BLOCKED_ACTIONS,
      Resource: '*',
      Condition: { StringEquals: { [BLOCK_CONDITION_KEY]: values } },
    }],
  };
}

/**
 * Spreads the namespaces (sorted) over `slots` policies, each under IAM's size limit. Returns the documents' name
 * lists and the namespaces that fit in none (blocking more tenants at once than the slots hold).
 */
export function packBlockSlots(namespaces: readonly string[], slots: number): { slots: string[][]; overflow: string[] } {
  const sorted = [...new Set(namespaces)].sort();
  const out: string[][] = Array.from({ length: slots }, () => []);
  const overflow: string[] = [];
  let slot = 0;
  for (const ns of sorted) {
    while (slot < slots && JSON.stringify(blockPolicyDocument([...out[slot], ns])).length > MANAGED_POLICY_MAX_CHARS) slot++;
    if (slot >= slots) overflow.push(ns);
    else out[slot].push(ns);
  }
  return { slots: out, overflow };
}

/** Logs Insights returns at most this many rows per query. */
export const QUERY_ROW_LIMIT = 10_000;
