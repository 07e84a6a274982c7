/**
 * What one run of the per-tenant Bedrock budget function costs with 10, 1,000 and 10,000 tenants, counted in Logs
 * Insights queries and AWS API calls. The real run (src/platform/budgets/budget-run.ts, `createHandler`) uses real
 * AWS SDK v3 clients. A middleware at the front of each client's stack answers every request in the process from
 * the fakes of test/platform/budgets/fake-budget-aws.ts, which the function's tests also use, and counts it. The
 * fakes model what the counts depend on:
 * - Logs Insights runs the function's query text over stored invocation log records, with the 10,000-row limit;
 * - DynamoDB evaluates the expressions and pages a Query by 1 MB read;
 * - Secrets Manager lists at most 100 secrets a page;
 * - IAM keeps at most five versions of a managed policy.
 *
 * One platform per size: N tenants (gateway-token secrets tagged with a $50 budget), 5 block policies, BUDGET_ENFORCEMENT
 * BLOCK, thresholds 80 and 100 %. Each tenant calls 1 model, or 2 (30 %), from a seeded pseudo-random choice, so every
 * run prints the same counts. The month so far has each tenant at 10-40 % of its budget. A share of the tenants is
 * at 70 % or 85 %, so that the runs measured below see about 2 % of the tenants cross 80 % and 1 % reach 100 % (at
 * least one tenant each). One run counts that month so far and one hourly run follows (not measured; these reach
 * a steady state). Then three runs are measured:
 * 1. steady hour: each other tenant is active with probability 0.6, with all its models (1-2 log records per tenant
 *    per hour, aggregated);
 * 2. quiet hour: no calls. This is the fixed cost of a run;
 * 3. missed day: 24 hours of the same calls counted by one run, as after 23 failed runs.
 * The hourly share is 0.6, not 1: 10,000 tenants all active with 1-2 models would be 10,000-20,000 tenant-model
 * pairs, at or over the row limit, in every hour. That is the limit case shown at the end.
 *
 * Prints a Markdown table. For each scenario and size it shows the active tenants and tenant-model pairs, the calls by
 * operation, the total and the run's milliseconds (in process, with and without the fakes). Each count is followed by its
 * ratio to the 10-tenant row. A second table says which counts must stay flat and which grow, and why. A note
 * measures where the query count grows: 10,000 tenants with 2 models in one hour.
 *
 * Exits non-zero when:
 * - a window below the row limit takes more than one query, or queries or GetQueryResults calls differ between the sizes
 *   whose windows are below the row limit;
 * - IAM calls exceed 5 policies x 5 operations;
 * - a linear count is not what it should be (ListSecrets ceil(N/100); UpdateItem 2 + active tenants + alerts; Publish
 *   one per alert and block);
 * - a run fails, or ends with other tenant updates, alerts or blocks than were planned.
 *
 *   npx projen bench:budgets
 *   (the task runs: ts-node -r tsconfig-paths/register --project tsconfig.dev.json bench/budgets.ts)
 */
import { performance } from 'node:perf_hooks';
import { BudgetRunSummary, budgetConfigFromEnvironment, createHandler } from '../src/platform/budgets/budget-run';
import { NANO_PER_USD, QUERY_ROW_LIMIT, SETTLE_MS, priceOf } from '../src/platform/budgets/contract';
import { tenantNameCandidates } from '../src/platform/self-service/tenant-naming';
import { tenantNamespace } from '../src/platform/tenant-spec';
import { FakeBudgetAws, FakeOperations } from '../test/platform/budgets/fake-budget-aws';
import { PRICES } from '../test/platform/budgets/harness';

const SIZES = [10, 1_000, 10_000];
const BUDGET_USD = 50;
const BUDGET_NANO = BUDGET_USD * NANO_PER_USD;
const BLOCK_POLICIES = 5;
/** GetPolicy, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, CreatePolicyVersion. */
const IAM_OPERATIONS = 5;
const IAM_BOUND = BLOCK_POLICIES * IAM_OPERATIONS;
/** ListSecrets' page size (the function asks for the most). */
const SECRETS_PAGE = 100;
const HOUR_MS = 3_600_000;
/** The start of the first hourly window; everything happens in November 2026, so no window crosses a month. */
const H0 = Date.parse('2026-11-18T09:00:00Z');
/** The calls of the month so far are on this day. */
const MONTH_SO_FAR = Date.parse('2026-11-10T00:00:00Z');
/** The models as callers name them, all priced by PRICES (profiles by their model's entry). */
const MODELS = [
  'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
  'us.anthropic.claude-haiku-4-5-20251001-v1:0',
  'amazon.nova-pro-v1:0',
  'amazon.nova-lite-v1:0',
];
const SECOND_MODEL_SHARE = 0.3;
const HOURLY_ACTIVE_SHARE = 0.6;

// ------------------------------------------------------------------------------------------------------------------
// A platform of N tenants
// ------------------------------------------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers in (0, 1): Park and Miller's minimal standard generator (exact in doubles). */
function seeded(seed: number): () => number {
  const M = 2_147_483_647;
  let s = (seed % (M - 1)) + 1;
  return () => {
    s = (s * 48_271) % M;
    return s / M;
  };
}

/**
 * What a tenant does. `normal`: active in an hour with probability 0.6, never near its budget. The others call only
 * when planned: `steady100` and `day100` reach 100 % in the steady hour or the missed day (their 80 % was announced
 * in the month so far); `steady80` and `day80` cross 80 %.
 */
type Role = 'normal' | 'steady100' | 'steady80' | 'day100' | 'day80';

interface Tenant {
  readonly namespace: string;
  readonly models: string[];
  readonly role: Role;
}

/** The share of its budget each role has spent in the month so far, and adds when it crosses. */
const MONTH_SO_FAR_SHARE: Record<Exclude<Role, 'normal'>, number> = { steady100: 0.85, day100: 0.85, steady80: 0.7, day80: 0.7 };
const CROSSING_SHARE: Record<Exclude<Role, 'normal'>, number> = { steady100: 0.2, day100: 0.2, steady80: 0.15, day80: 0.15 };

/** One measured run. */
interface Measured {
  readonly size: number;
  readonly summary?: BudgetRunSummary;
  readonly error?: string;
  /** Calls by `Service Operation`. */
  readonly calls: Map<string, number>;
  readonly ms: number;
  /** Of `ms`, the time spent in the fakes (the Logs Insights interpreter, DynamoDB's expressions...). */
  readonly fakeMs: number;
  /** Tenants, and tenant-model pairs, with calls in the window. */
  readonly active: number;
  readonly pairs: number;
  readonly expected: { alerts: number; blocked: number; tenantsBlocked: number };
  /** The run's warnings and errors. */
  readonly logs: string[];
}

class Platform {
  public readonly world = new FakeBudgetAws({ blockPolicies: BLOCK_POLICIES });
  public readonly tenants: Tenant[];
  private readonly clients: ReturnType<FakeBudgetAws['answeredClients']>;
  private readonly random: () => number;
  /** Tenants and tenant-model pairs with calls since the last run (all of them in the next window). */
  private active = new Set<string>();
  private pairs = new Set<string>();
  private fakeMs = 0;

  constructor(public readonly size: number, tenants?: { namespaces: string[]; models: number }) {
    this.random = seeded(20261118 + size);
    // Time spent answering in the fakes, wrapped before the clients capture the operations.
    for (const fake of [this.world.logs, this.world.dynamodb, this.world.secrets, this.world.sns, this.world.iam]) {
      const operations = fake.operations as FakeOperations;
      for (const [name, answer] of Object.entries(operations)) {
        operations[name] = (input) => {
          const started = performance.now();
          try {
            return answer(input);
          } finally {
            this.fakeMs += performance.now() - started;
          }
        };
      }
    }
    this.clients = this.world.answeredClients();
    if (tenants) {
      for (const namespace of tenants.namespaces) this.world.addTenant(namespace, BUDGET_USD);
      this.tenants = tenants.namespaces.map((namespace, i) => ({ namespace, models: MODELS.slice(i % MODELS.length).concat(MODELS).slice(0, tenants.models), role: 'normal' }));
      return;
    }
    const namespaces = this.world.addTenants(size, BUDGET_USD);
    // The crossing tenants: the first of a seeded shuffle, 1 % (100 %) and 2 % (80 %) of each scenario, at least one.
    const order = namespaces.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const roles: Role[] = namespaces.map(() => 'normal');
    let next = 0;
    for (const [role, share] of [['steady100', 0.01], ['steady80', 0.02], ['day100', 0.01], ['day80', 0.02]] as const) {
      for (let k = 0; k < Math.ceil(size * share); k++) roles[order[next++]] = role;
    }
    this.tenants = namespaces.map((namespace, i) => {
      const first = Math.floor(this.random() * MODELS.length);
      const models = [MODELS[first]];
      if (this.random() < SECOND_MODEL_SHARE) models.push(MODELS[(first + 1 + Math.floor(this.random() * (MODELS.length - 1))) % MODELS.length]);
      return { namespace, models, role: roles[i] };
    });
  }

  public count(role: Role): number {
    return this.tenants.filter((t) => t.role === role).length;
  }

  /** The month so far: each tenant's share of its budget spent (10-40 %, or its role's), in one record per model. */
  public monthSoFar(): void {
    this.tenants.forEach((t, i) => {
      const share = t.role === 'normal' ? 0.1 + 0.3 * this.random() : MONTH_SO_FAR_SHARE[t.role];
      for (const model of t.models) this.spend(t, model, share / t.models.length, MONTH_SO_FAR + i * 1000);
    });
  }

  /**
   * One hour of calls from `start`: each normal tenant active with probability `activeShare`, one record per model (tokens
   * of many calls added together; at most $0.33 a record, so a normal tenant stays under 80 % all month); the
   * crossing tenants of `crossing` add their planned share in one record.
   */
  public hour(start: number, crossing: Role[] = [], activeShare = HOURLY_ACTIVE_SHARE): void {
    for (const t of this.tenants) {
      if (t.role === 'normal') {
        if (this.random() >= activeShare) continue;
        for (const model of t.models) {
          this.call(t, model, start + Math.floor(this.random() * 3600) * 1000, {
            input: 5_000 + Math.floor(this.random() * 55_000),
            output: 500 + Math.floor(this.random() * 5_500),
            cacheRead: Math.floor(this.random() * 100_000),
          });
        }
      } else if (crossing.includes(t.role)) {
        this.spend(t, t.models[0], CROSSING_SHARE[t.role as Exclude<Role, 'normal'>], start + Math.floor(this.random() * 3600) * 1000);
      }
    }
  }

  /** Runs the function at `now` and measures it; the counts start from zero. */
  public async run(now: number, expected: Measured['expected']): Promise<Measured> {
    this.world.resetCounts();
    this.fakeMs = 0;
    const logs: string[] = [];
    const handler = createHandler({
      ...this.clients,
      config: () => budgetConfigFromEnvironment(this.world.environment({
        prices: PRICES, enforcement: 'BLOCK', thresholds: [80, 100], defaultBudgetUsd: BUDGET_USD,
      })),
      now: () => now,
      sleep: async () => {},
      emit: () => {}, // Embedded Metric Format lines: stdout, no API call
      log: (level, message, fields = {}) => {
        if (level !== 'info') logs.push(`${level}: ${message} ${JSON.stringify(fields).slice(0, 300)}`);
      },
      remainingMs: () => 900_000, // a 15-minute Lambda, never short of time
    });
    const active = this.active.size;
    const pairs = this.pairs.size;
    this.active = new Set();
    this.pairs = new Set();
    const started = performance.now();
    let summary: BudgetRunSummary | undefined;
    let error: string | undefined;
    try {
      summary = await handler({});
    } catch (e) {
      error = String((e as Error)?.message ?? e);
    }
    const ms = performance.now() - started;
    return { size: this.size, summary, error, calls: new Map(this.world.calls), ms, fakeMs: this.fakeMs, active, pairs, expected, logs };
  }

  /** A record costing `share` of the budget: input tokens only, priced by the model's entry. */
  private spend(t: Tenant, model: string, share: number, at: number): void {
    const price = priceOf(PRICES, model)!.input;
    this.call(t, model, at, { input: Math.floor((share * BUDGET_NANO) / price), output: 0 });
  }

  private call(t: Tenant, modelId: string, at: number, tokens: { input: number; output: number; cacheRead?: number }): void {
    this.world.addCall({ at, caller: this.world.caller(t.namespace), modelId, ...tokens });
    this.active.add(t.namespace);
    this.pairs.add(`${t.namespace} ${modelId}`);
  }
}

/** When the run whose window ends at `windowEnd` runs: once the window's records have settled (SETTLE_MS). */
const runAt = (windowEnd: number) => windowEnd + SETTLE_MS;

/** The three scenarios of one size, measured in order on one platform. */
async function scenarios(size: number): Promise<{ steady: Measured; quiet: Measured; day: Measured; setupErrors: string[] }> {
  const p = new Platform(size);
  const setupErrors: string[] = [];
  const nothing = { alerts: 0, blocked: 0, tenantsBlocked: 0 };
  // Not measured: the month so far (one window from the 1st; at 10,000 tenants it is over the row limit and split),
  // then one hourly run.
  p.monthSoFar();
  const warm = await p.run(runAt(H0), nothing);
  p.hour(H0);
  const settled = await p.run(runAt(H0 + HOUR_MS), nothing);
  for (const r of [warm, settled]) if (r.error) setupErrors.push(`set-up run with ${fmt(size)} tenants: ${r.error}`);

  const steady100 = p.count('steady100');
  const steady80 = p.count('steady80');
  const day100 = p.count('day100');
  const day80 = p.count('day80');
  p.hour(H0 + HOUR_MS, ['steady100', 'steady80']);
  const steady = await p.run(runAt(H0 + 2 * HOUR_MS), { alerts: steady100 + steady80, blocked: steady100, tenantsBlocked: steady100 });
  const quiet = await p.run(runAt(H0 + 3 * HOUR_MS), { alerts: 0, blocked: 0, tenantsBlocked: steady100 });
  const dayStart = H0 + 3 * HOUR_MS;
  const crossingHour = 13; // the crossing tenants' planned calls are in the 14th hour of the day
  for (let h = 0; h < 24; h++) p.hour(dayStart + h * HOUR_MS, h === crossingHour ? ['day100', 'day80'] : []);
  const day = await p.run(runAt(dayStart + 24 * HOUR_MS), { alerts: day100 + day80, blocked: day100, tenantsBlocked: steady100 + day100 });
  return { steady, quiet, day, setupErrors };
}

/** The row limit: the tenants given, each with `models` models, all active in one hour; one run. */
async function rowLimitCase(namespaces: string[], models: number): Promise<Measured> {
  const p = new Platform(namespaces.length, { namespaces, models });
  p.hour(H0, [], 1);
  return p.run(runAt(H0 + HOUR_MS), { alerts: 0, blocked: 0, tenantsBlocked: 0 });
}

// ------------------------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------------------------

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const calls = (m: Measured, key: string) => m.calls.get(key) ?? 0;
const iam = (m: Measured) => [...m.calls].filter(([k]) => k.startsWith('IAM ')).reduce((a, [, v]) => a + v, 0);
const total = (m: Measured) => [...m.calls.values()].reduce((a, b) => a + b, 0);

interface Column {
  readonly title: string;
  readonly value: (m: Measured) => number;
}

const COLUMNS: Column[] = [
  { title: 'Logs Insights queries (StartQuery)', value: (m) => calls(m, 'CloudWatchLogs StartQuery') },
  { title: 'GetQueryResults', value: (m) => calls(m, 'CloudWatchLogs GetQueryResults') },
  { title: 'ListSecrets pages', value: (m) => calls(m, 'SecretsManager ListSecrets') },
  { title: 'DynamoDB Query pages', value: (m) => calls(m, 'DynamoDB Query') },
  { title: 'DynamoDB GetItem', value: (m) => calls(m, 'DynamoDB GetItem') },
  { title: 'DynamoDB UpdateItem', value: (m) => calls(m, 'DynamoDB UpdateItem') },
  { title: 'SNS Publish', value: (m) => calls(m, 'SNS Publish') },
  { title: 'IAM calls', value: iam },
  { title: 'API calls', value: total },
  { title: 'ms of the run', value: (m) => m.ms },
  { title: 'ms outside the fakes', value: (m) => m.ms - m.fakeMs },
];

function ratio(value: number, base: number): string {
  if (base === 0) return value === 0 ? '' : ' (n/a)';
  const r = value / base;
  return ` (×${r < 10 ? r.toFixed(2) : fmt(r)})`;
}

async function main(): Promise<number> {
  const started = performance.now();
  const failures: string[] = [];
  const results = new Map<string, Measured[]>([['steady hour', []], ['quiet hour', []], ['missed day (24 h, one run)', []]]);
  for (const size of SIZES) {
    const s = await scenarios(size);
    failures.push(...s.setupErrors);
    results.get('steady hour')!.push(s.steady);
    results.get('quiet hour')!.push(s.quiet);
    results.get('missed day (24 h, one run)')!.push(s.day);
  }

  // --- checks -----------------------------------------------------------------------------------------------------
  const overLimit: string[] = [];
  for (const [scenario, rows] of results) {
    for (const m of rows) {
      const where = `${scenario}, ${fmt(m.size)} tenants`;
      const s = m.summary;
      if (m.error || !s) {
        failures.push(`${where}: the run failed: ${m.error}${m.logs.length ? `\n    ${m.logs.join('\n    ')}` : ''}`);
        continue;
      }
      const queries = COLUMNS[0].value(m);
      if (s.windows !== 1 || s.windowLeftPending || s.claimLost) failures.push(`${where}: ${s.windows} windows counted (pending ${s.windowLeftPending}, claim lost ${s.claimLost}), not 1`);
      if (s.queries !== queries) failures.push(`${where}: the summary says ${s.queries} queries, StartQuery was called ${queries} times`);
      if (m.pairs < QUERY_ROW_LIMIT) {
        if (queries !== s.windows) failures.push(`${where}: ${queries} queries for ${s.windows} window of ${fmt(m.pairs)} tenant-model pairs (below the row limit: must be 1 per window)`);
      } else {
        overLimit.push(`${where}: ${fmt(m.pairs)} tenant-model pairs in the window, ${fmt(queries)} queries`);
      }
      if (s.tenantsUpdated !== m.active) failures.push(`${where}: ${s.tenantsUpdated} tenants updated, ${m.active} were active`);
      if (s.alertsSent !== m.expected.alerts || s.alertsFailed !== 0) {
        failures.push(`${where}: ${s.alertsSent} alerts sent (${s.alertsFailed} failed), ${m.expected.alerts} planned`);
      }
      const { blocked, tenantsBlocked } = m.expected;
      if (s.blocked !== blocked || s.unblocked !== 0 || s.tenantsBlocked !== tenantsBlocked || s.tenantsOverBlockCapacity !== 0) {
        failures.push(`${where}: blocked ${s.blocked}, unblocked ${s.unblocked}, ${s.tenantsBlocked} in the policies (${s.tenantsOverBlockCapacity} over capacity); `
          + `planned ${m.expected.blocked} blocked, ${m.expected.tenantsBlocked} in the policies`);
      }
      const expectSame = (what: string, got: number, want: number) => {
        if (got !== want) failures.push(`${where}: ${what} ${fmt(got)}, expected ${fmt(want)}`);
      };
      expectSame('ListSecrets pages', calls(m, 'SecretsManager ListSecrets'), Math.max(1, Math.ceil(m.size / SECRETS_PAGE)));
      // Claim and finish of the window, one per active tenant, one mark per alert.
      expectSame('UpdateItem calls', calls(m, 'DynamoDB UpdateItem'), 2 * s.windows + s.tenantsUpdated + s.alertsSent);
      // The state before each window and once after; one top-models read per alerted tenant (one alert each here).
      expectSame('GetItem calls', calls(m, 'DynamoDB GetItem'), s.windows + 1 + s.alertsSent);
      expectSame('Publish calls', calls(m, 'SNS Publish'), s.alertsSent + s.blocked + s.unblocked);
      expectSame('IAM reads (GetPolicy + GetPolicyVersion)', calls(m, 'IAM GetPolicy') + calls(m, 'IAM GetPolicyVersion'), 2 * BLOCK_POLICIES);
      if (iam(m) > IAM_BOUND) failures.push(`${where}: ${iam(m)} IAM calls, more than ${BLOCK_POLICIES} policies × ${IAM_OPERATIONS} operations = ${IAM_BOUND}`);
    }
    // Flat: queries and their polls, at every size whose window is below the row limit.
    const below = rows.filter((m) => m.summary && m.pairs < QUERY_ROW_LIMIT);
    for (const column of COLUMNS.slice(0, 2)) {
      const values = new Set(below.map(column.value));
      if (values.size > 1) failures.push(`${scenario}: ${column.title} differs between sizes below the row limit: ${below.map((m) => `${fmt(m.size)}: ${column.value(m)}`).join(', ')}`);
    }
  }

  // --- the tables -------------------------------------------------------------------------------------------------
  console.log('Each cell: the count, then (×) its ratio to the 10-tenant row of the same scenario. † = a window of 10,000 or more tenant-model pairs (the row limit, see the note).\n');
  console.log(`| scenario | tenants | active tenants / tenant-model pairs | alerts / blocks | ${COLUMNS.map((c) => c.title).join(' | ')} |`);
  console.log(`|---|---|---|---|${COLUMNS.map(() => '---:').join('|')}|`);
  for (const [scenario, rows] of results) {
    const base = rows[0];
    for (const m of rows) {
      const mark = m.pairs >= QUERY_ROW_LIMIT ? ' †' : '';
      const cells = COLUMNS.map((c, i) => `${fmt(c.value(m))}${i === 0 ? mark : ''}${ratio(c.value(m), c.value(base))}`);
      const events = m.summary ? `${m.summary.alertsSent} / ${m.summary.blocked}` : 'failed';
      console.log(`| ${scenario} | ${fmt(m.size)} | ${fmt(m.active)} / ${fmt(m.pairs)}${ratio(m.active, base.active)} | ${events} | ${cells.join(' | ')} |`);
    }
  }
  console.log('\n(ms: the run in this process, no network. "Outside the fakes" leaves out the time spent answering in the fakes: the Logs Insights'
    + ' interpreter, DynamoDB\'s expressions, and ListSecrets, which filters every secret for each page.)');

  console.log(`
| count | must be | why |
|---|---|---|
| Logs Insights queries (StartQuery) | FLAT: exactly 1 per window (checked) | one query counts a window for every tenant, grouped by tenant and model, while the window has fewer than ${fmt(QUERY_ROW_LIMIT)} tenant-model pairs (Logs Insights' row limit) |
| GetQueryResults | FLAT (checked) | the polls of that query and its result pages of 10,000 rows. The fake completes at the first poll; in AWS a query is polled about once a second while it runs |
| ListSecrets pages | linear, paging: ceil(N / 100) (checked) | every tenant's budget is read from its secret's tags every run, so a re-tag counts on the next run; 100 secrets a page at most. Unavoidable |
| DynamoDB Query pages | linear, paging: 1 per 1 MB of month items | every tenant of the month is evaluated every run, so blocks lift at the month's start and on a raised budget. Unavoidable |
| DynamoDB GetItem | 2 + 1 per alerted tenant (checked) | the run state before the window and after; a tenant's top models for its alert |
| DynamoDB UpdateItem | linear: 2 + 1 per active tenant + 1 per alert (checked) | claim and finish the window; one conditional add per tenant with calls in it; the mark of an alert (once per tenant and month) |
| SNS Publish | linear: 1 per alert, block, unblock (checked) | one message per event; none when nothing crosses a threshold |
| IAM calls | BOUNDED: at most ${BLOCK_POLICIES} policies × ${IAM_OPERATIONS} operations = ${IAM_BOUND} (checked) | each policy is read (GetPolicy, GetPolicyVersion: ${2 * BLOCK_POLICIES} every run); only a policy whose namespaces change is written (ListPolicyVersions, DeletePolicyVersion when it has 5, CreatePolicyVersion) |`);

  // --- where the query count grows --------------------------------------------------------------------------------
  const tenants = 10_000;
  const digits = await rowLimitCase(Array.from({ length: tenants }, (_, i) => `openclaw-t${i}`), 2);
  const base32 = await rowLimitCase(Array.from({ length: tenants }, (_, i) => tenantNamespace(tenantNameCandidates(`user-${i}`)[0])), 2);
  console.log(`
Note: where the query count WOULD grow. This is the documented limit, not a failure. A query returns at most ${fmt(QUERY_ROW_LIMIT)} rows, one
per tenant-model pair. A full result may be cut off, so that part of the window is counted again in two halves of the tenants,
split by the last character of their name. Each split adds 2 queries. 10,000 tenants with 2 models each in one hour:

| tenants × models in one hour | tenant names end in | tenant-model pairs | queries (StartQuery) | GetQueryResults | tenants updated |
|---|---|---:|---:|---:|---:|`);
  for (const [m, names] of [[digits, 'a digit (openclaw-t0 … openclaw-t9999, the fake\'s names)'], [base32, 'base32 (self-service names, u + sha256 of the user)']] as const) {
    console.log(`| ${fmt(tenants)} × 2 | ${names} | ${fmt(m.pairs)} | ${fmt(COLUMNS[0].value(m))} | ${fmt(COLUMNS[1].value(m))} | ${fmt(m.summary?.tenantsUpdated ?? 0)} |`);
    if (m.error || m.summary?.tenantsUpdated !== tenants) failures.push(`row limit, ${names}: ${m.error ?? `${m.summary?.tenantsUpdated} of ${tenants} tenants updated`}`);
  }
  const hourly = results.get('steady hour')![SIZES.length - 1];
  const modelsPerActive = hourly.active > 0 ? hourly.pairs / hourly.active : 1;
  console.log(`
Below ${fmt(QUERY_ROW_LIMIT)} pairs a window takes 1 query at any number of tenants. The steady hour at ${fmt(hourly.size)} tenants had
${fmt(hourly.pairs)} pairs (${modelsPerActive.toFixed(2)} models per active tenant). Hourly windows stay at 1 query while fewer than about
${fmt((100 * QUERY_ROW_LIMIT) / (modelsPerActive * hourly.size))} % of ${fmt(hourly.size)} tenants are active in the same hour. A missed day, or the first run after deployment
(which counts from the 1st of the month), counts nearly every tenant in one window. At 10,000 tenants that is over the limit:${
  overLimit.length ? `\n- ${overLimit.join('\n- ')}` : ' (not reached in this run)'}
A run fails only when the tenants whose names end in one character have ${fmt(QUERY_ROW_LIMIT)} pairs on their own. With base32 names
ending evenly in 32 characters, that is about ${fmt(32 * QUERY_ROW_LIMIT)} active pairs in one window.`);

  console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s in all; the counts are exact, every run prints the same counts)`);
  if (failures.length > 0) {
    console.error(`\nFAILED:\n- ${failures.join('\n- ')}`);
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
