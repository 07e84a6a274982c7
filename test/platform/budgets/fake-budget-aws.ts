/**
 * In-memory fakes of the five services the budget function calls (CloudWatch Logs Insights, DynamoDB, Secrets
 * Manager, SNS, IAM), for its tests (routed to by aws-sdk-client-mock: `routeMocks`) and for a benchmark (real SDK
 * clients answered by a middleware: `answeredClients`). Every call is counted by operation (`calls`), and a test can
 * make a call fail before or after its effect (`inject`).
 *
 * Each fake answers exactly what the function sends and refuses the rest, so a changed request fails instead of
 * being answered wrongly:
 * - Logs Insights runs the query text itself over stored invocation log events: a small interpreter of the query
 *   shape the function builds (filter with `and`, `=`, `<`, `>=`, `like /re/` and `fromMillis`; `parse <field>
 *   /re/` with named groups; `stats sum(..), count(*) .. by ..`; `limit`), with the row limit enforced;
 * - DynamoDB evaluates condition, update, key condition and projection expressions (SET, ADD on numbers and string
 *   sets, REMOVE, DELETE on sets, if_not_exists, attribute_exists, attribute_not_exists, contains, comparisons,
 *   AND/OR/NOT, nested `#a.#b` paths), and checks placeholders the way DynamoDB does, plus one for every name;
 * - IAM keeps managed policy versions (at most five, the default undeletable, documents URL-encoded when read).
 *
 * Use: `const world = new FakeBudgetAws({ blockPolicies: 2 })`; `world.addTenants(10_000, 50)` (or `addTenant`);
 * `world.addCall({ at, caller: world.caller(namespace), modelId, input, output })` for each Bedrock call; run the
 * handler with `world.answeredClients()` (or after `world.routeMocks()`) and `config: () =>
 * budgetConfigFromEnvironment(world.environment({ prices }))`; then read `world.calls` (`DynamoDB UpdateItem` → n),
 * `world.count('StartQuery')`, `world.dynamodb.itemsRead` / `itemsWritten`, and `world.resetCounts()` between runs.
 */
import {
  CloudWatchLogsClient, GetQueryResultsCommand, StartQueryCommand, StartQueryCommandInput, StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, GetItemCommandInput, QueryCommand, QueryCommandInput,
  UpdateItemCommand, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePolicyVersionCommand, CreatePolicyVersionCommandInput, DeletePolicyVersionCommand, DeletePolicyVersionCommandInput, GetPolicyCommand,
  GetPolicyCommandInput, GetPolicyVersionCommand, GetPolicyVersionCommandInput, IAMClient, ListPolicyVersionsCommand, ListPolicyVersionsCommandInput,
} from '@aws-sdk/client-iam';
import { ListSecretsCommand, ListSecretsCommandInput, SecretsManagerClient, TagResourceCommand, TagResourceCommandInput } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

/** A fake's operations by AWS name (`UpdateItem`), each taking the command's input and returning its output. */
export type FakeOperations = Record<string, (input: any) => object>;

/** A DynamoDB item. */
export type Item = Record<string, AttributeValue>;

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

// ------------------------------------------------------------------------------------------------------------------
// CloudWatch Logs Insights
// ------------------------------------------------------------------------------------------------------------------

/** One log event: its timestamp (epoch ms, `@timestamp`) and its JSON message, parsed. */
export interface LogEvent {
  readonly timestamp: number;
  readonly record: Record<string, unknown>;
}

/** A query as the fake saw it, with its outcome. */
export interface FakeQuery {
  readonly queryId: string;
  readonly queryString: string;
  readonly startTime: number;
  readonly endTime: number;
  status: string;
  polls: number;
  results?: { field: string; value: string }[][];
  recordsMatched: number;
  recordsScanned: number;
}

type Value = string | number | undefined;
/** Reads a field of the event being processed (its own or one `parse` extracted). */
type Get = (field: string) => Value;
type Command =
  | { kind: 'filter'; test: (get: Get) => boolean }
  | { kind: 'parse'; field: string; regex: RegExp; names: string[] }
  | { kind: 'stats'; aggregates: { fn: 'sum' | 'count'; field?: string; as: string }[]; by: string[] }
  | { kind: 'limit'; n: number };

const malformed = (message: string) => named('MalformedQueryException', message);

/** The value of a field of an event: `@timestamp`, `@message`, or a dotted path into the JSON record. */
function fieldOf(event: LogEvent, field: string): Value {
  if (field === '@timestamp') return event.timestamp;
  if (field === '@message') return JSON.stringify(event.record);
  let v: unknown = event.record;
  for (const part of field.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

/** Splits a query into its commands at `|` outside strings and regular expressions. */
function splitCommands(query: string): string[] {
  const out: string[] = [];
  let current = '';
  let inString = false;
  let inRegex = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if ((inString || inRegex) && c === '\\') {
      current += c + (query[i + 1] ?? '');
      i++;
      continue;
    }
    if (inString) {
      inString = c !== '"';
    } else if (inRegex) {
      inRegex = c !== '/';
    } else if (c === '"') {
      inString = true;
    } else if (c === '/' && /\s$/.test(current)) {
      inRegex = true;
    } else if (c === '|') {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  if (inString || inRegex) throw malformed('unterminated string or regular expression');
  out.push(current.trim());
  return out;
}

const FIELD = /^(@?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)$/;

/** A filter: clauses joined by `and`; each `field op operand` or `field like /re/`. */
function parseFilter(text: string): (get: Get) => boolean {
  const clauses = text.split(/\s+and\s+/).map((clause) => {
    let m = /^(\S+)\s+like\s+\/((?:\\.|[^/\\])+)\/$/.exec(clause);
    if (m) {
      if (!FIELD.test(m[1])) throw malformed(`bad field ${m[1]}`);
      const [field, re] = [m[1], new RegExp(m[2])];
      return (get: Get) => {
        const value = get(field);
        return typeof value === 'string' && re.test(value);
      };
    }
    m = /^(\S+)\s*(=|!=|<=|>=|<|>)\s*(.+)$/.exec(clause);
    if (!m || !FIELD.test(m[1])) throw malformed(`the fake cannot read the filter clause '${clause}'`);
    const [, field, op, operand] = m;
    let right: string | number;
    let n: RegExpExecArray | null;
    if ((n = /^"((?:\\.|[^"\\])*)"$/.exec(operand))) right = n[1].replace(/\\(.)/g, '$1');
    else if ((n = /^fromMillis\((\d+)\)$/.exec(operand))) right = Number(n[1]);
    else if (/^-?\d+(\.\d+)?$/.test(operand)) right = Number(operand);
    else throw malformed(`the fake cannot read the operand '${operand}'`);
    return (get: Get) => {
      const left = get(field);
      if (left === undefined || typeof left !== typeof right) return false;
      switch (op) {
        case '=': return left === right;
        case '!=': return left !== right;
        case '<': return left < right;
        case '<=': return left <= right;
        case '>': return left > right;
        default: return left >= right;
      }
    };
  });
  return (get) => clauses.every((c) => c(get));
}

/** The commands of a query; anything outside the modelled shape is a MalformedQueryException. */
export function parseInsightsQuery(query: string, maxLimit: number): Command[] {
  return splitCommands(query).map((text): Command => {
    let m: RegExpExecArray | null;
    if ((m = /^filter\s+([\s\S]+)$/.exec(text))) return { kind: 'filter', test: parseFilter(m[1].trim()) };
    if ((m = /^parse\s+(\S+)\s+\/((?:\\.|[^/\\])+)\/$/.exec(text))) {
      if (!FIELD.test(m[1])) throw malformed(`bad field ${m[1]}`);
      const names = [...m[2].matchAll(/\(\?<(\w+)>/g)].map((g) => g[1]);
      if (names.length === 0) throw malformed('a parse regular expression needs named groups');
      return { kind: 'parse', field: m[1], regex: new RegExp(m[2]), names };
    }
    if ((m = /^stats\s+(.+?)\s+by\s+(.+)$/.exec(text))) {
      const aggregates = m[1].split(/\s*,\s*/).map((a) => {
        const g = /^(sum)\(([^)]+)\)\s+as\s+(\w+)$|^count\(\*\)\s+as\s+(\w+)$/.exec(a);
        if (!g) throw malformed(`the fake cannot read the aggregate '${a}'`);
        if (g[4]) return { fn: 'count' as const, as: g[4] };
        if (!FIELD.test(g[2])) throw malformed(`bad field ${g[2]}`);
        return { fn: 'sum' as const, field: g[2], as: g[3] };
      });
      const by = m[2].split(/\s*,\s*/);
      if (by.some((f) => !FIELD.test(f))) throw malformed(`bad group-by fields ${m[2]}`);
      return { kind: 'stats', aggregates, by };
    }
    if ((m = /^limit\s+(\d+)$/.exec(text))) {
      const n = Number(m[1]);
      if (n < 1 || n > maxLimit) throw malformed(`limit must be from 1 to ${maxLimit}, got ${n}`);
      return { kind: 'limit', n };
    }
    throw malformed(`the fake cannot run the command '${text}'`);
  });
}

/**
 * Logs Insights over one log group of invocation log events. A query is answered at once (after `pollsUntilComplete`
 * polls answered `Running`), or ends as `outcome` says.
 */
export class FakeLogs {
  /** Every query started, in order. */
  public readonly queries: FakeQuery[] = [];
  public readonly operations: FakeOperations = {
    StartQuery: (input) => this.startQuery(input),
    GetQueryResults: (input) => this.getQueryResults(input),
    StopQuery: (input) => this.stopQuery(input),
  };
  /** Rows a query may return (Logs Insights: 10,000); lower it to test the function's partitioning. */
  public maxRows: number;
  /** `Running` answers before a query completes. */
  public pollsUntilComplete = 0;
  /** Rows per GetQueryResults page (a nextToken for the rest). */
  public resultPageSize = 10_000;
  /** How a query ends: `Complete` unless this says otherwise. */
  public outcome?: (query: FakeQuery) => 'Complete' | 'Failed' | 'Cancelled' | 'Timeout' | 'Running';
  private events: LogEvent[] = [];
  private sorted = true;
  private ids = 0;

  constructor(public readonly logGroupName: string, options: { maxRows?: number } = {}) {
    this.maxRows = options.maxRows ?? 10_000;
  }

  /** Adds an invocation log record; its event timestamp is its `timestamp` unless given. */
  public add(record: object, timestamp?: number): void {
    const r = record as { timestamp?: string };
    const at = timestamp ?? Date.parse(r.timestamp ?? '');
    if (!Number.isFinite(at)) throw new Error('a log event needs a timestamp');
    if (this.events.length > 0 && at < this.events[this.events.length - 1].timestamp) this.sorted = false;
    this.events.push({ timestamp: at, record: record as Record<string, unknown> });
  }

  /** The stored events. */
  public get size(): number {
    return this.events.length;
  }

  public startQuery(input: StartQueryCommandInput) {
    const groups = [input.logGroupName, ...input.logGroupNames ?? [], ...input.logGroupIdentifiers ?? []].filter((g) => g !== undefined);
    if (groups.length !== 1) throw named('InvalidParameterException', 'name exactly one log group');
    if (groups[0] !== this.logGroupName) throw named('ResourceNotFoundException', `Log group '${groups[0]}' does not exist`);
    const { startTime, endTime, queryString } = input;
    if (!Number.isSafeInteger(startTime) || !Number.isSafeInteger(endTime) || startTime! < 0 || endTime! < startTime!) {
      throw named('InvalidParameterException', 'startTime and endTime must be epoch seconds, startTime <= endTime');
    }
    if (endTime! > 100_000_000_000) throw named('InvalidParameterException', 'endTime looks like milliseconds; the API takes seconds');
    if (!queryString || queryString.length > 10_000) throw named('InvalidParameterException', 'queryString must be 1 to 10000 characters');
    if (input.limit !== undefined) throw named('InvalidParameterException', 'the fake models the limit in the query text only');
    const commands = parseInsightsQuery(queryString, this.maxRows);
    const kinds = commands.map((c) => c.kind).join(' ');
    if (!/^(filter |parse )*stats( limit)?$/.test(kinds)) throw malformed(`the fake runs filter and parse, then one stats, then limit; got ${kinds}`);
    const query: FakeQuery = { queryId: `q-${++this.ids}`, queryString, startTime: startTime!, endTime: endTime!, status: 'Running', polls: 0, recordsMatched: 0, recordsScanned: 0 };
    this.queries.push(query);
    this.run(query, commands);
    return { queryId: query.queryId };
  }

  public getQueryResults(input: { queryId?: string; nextToken?: string; maxItems?: number }) {
    const query = this.queries.find((q) => q.queryId === input.queryId);
    if (!query) throw named('ResourceNotFoundException', `query ${input.queryId} not found`);
    const ended = query.status !== 'Running';
    if (!ended) {
      query.polls++;
      if (query.polls > this.pollsUntilComplete) query.status = this.outcome?.(query) ?? 'Complete';
    }
    if (query.status !== 'Complete') return { status: query.status, results: [], statistics: { recordsMatched: 0, recordsScanned: 0 } };
    const size = Math.min(input.maxItems ?? this.resultPageSize, this.resultPageSize);
    const start = Number(input.nextToken ?? 0);
    const rows = query.results!.slice(start, start + size);
    return {
      status: 'Complete',
      results: structuredClone(rows),
      statistics: { recordsMatched: query.recordsMatched, recordsScanned: query.recordsScanned, bytesScanned: 0 },
      nextToken: start + size < query.results!.length ? String(start + size) : undefined,
    };
  }

  public stopQuery(input: { queryId?: string }) {
    const query = this.queries.find((q) => q.queryId === input.queryId);
    if (!query) throw named('ResourceNotFoundException', `query ${input.queryId} not found`);
    if (query.status !== 'Running') throw named('InvalidParameterException', 'the query is not running');
    query.status = 'Cancelled';
    return { success: true };
  }

  /** Runs the commands over the events of the query's time range (whole seconds, both ends included). */
  private run(query: FakeQuery, commands: Command[]): void {
    if (!this.sorted) {
      this.events.sort((a, b) => a.timestamp - b.timestamp);
      this.sorted = true;
    }
    const lo = this.firstAtOrAfter(query.startTime * 1000);
    const hi = this.firstAtOrAfter((query.endTime + 1) * 1000);
    type Row = Record<string, Value>;
    let rows: Row[] = [];
    const stats = commands.find((c) => c.kind === 'stats');
    query.recordsScanned = hi - lo;
    for (let i = lo; i < hi; i++) {
      const event = this.events[i];
      // Fields are read on demand: those parse extracted, else the log event's own.
      const extracted: Row = {};
      const get: Get = (field) => (field in extracted ? extracted[field] : fieldOf(event, field));
      let keep = true;
      for (const c of commands) {
        if (c.kind === 'filter') {
          keep = c.test(get);
        } else if (c.kind === 'parse') {
          const value = get(c.field);
          const m = typeof value === 'string' ? c.regex.exec(value) : null;
          for (const name of c.names) extracted[name] = m?.groups?.[name];
        } else {
          break;
        }
        if (!keep) break;
      }
      if (!keep) continue;
      query.recordsMatched++;
      if (!stats) continue;
      const row: Row = {};
      for (const name of stats.by) row[name] = get(name);
      for (const a of stats.aggregates) if (a.field) row[a.field] = get(a.field);
      rows.push(row);
    }
    let results: { field: string; value: string }[][] = [];
    for (const c of commands) {
      if (c.kind === 'stats') {
        const groups = new Map<string, { key: Row; sums: Map<string, number | undefined>; count: number }>();
        for (const row of rows) {
          const key = JSON.stringify(c.by.map((f) => row[f] ?? null));
          let g = groups.get(key);
          if (!g) {
            g = { key: Object.fromEntries(c.by.map((f) => [f, row[f]])), sums: new Map(), count: 0 };
            groups.set(key, g);
          }
          g.count++;
          for (const a of c.aggregates) {
            if (a.fn !== 'sum') continue;
            const v = row[a.field!];
            if (typeof v === 'number') g.sums.set(a.as, (g.sums.get(a.as) ?? 0) + v);
          }
        }
        results = [...groups.values()].map((g) => [
          ...c.by.filter((f) => g.key[f] !== undefined).map((f) => ({ field: f, value: String(g.key[f]) })),
          ...c.aggregates.flatMap((a) => {
            const v = a.fn === 'count' ? g.count : g.sums.get(a.as);
            return v === undefined ? [] : [{ field: a.as, value: String(v) }];
          }),
        ]);
        rows = [];
      } else if (c.kind === 'limit') {
        results = results.slice(0, c.n);
      }
    }
    if (!commands.some((c) => c.kind === 'limit')) results = results.slice(0, this.maxRows);
    query.results = results;
  }

  private firstAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.events[mid].timestamp < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ------------------------------------------------------------------------------------------------------------------
// DynamoDB: one or more tables keyed by `pk` and `sk` (strings)
// ------------------------------------------------------------------------------------------------------------------

const validation = (message: string) => named('ValidationException', message);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const MAX_EXPRESSION = 4096;
const MAX_ITEM_BYTES = 400 * 1024;
const PAGE_BYTES = 1024 * 1024;

/** DynamoDB refuses undefined and unused placeholders; the fake also insists on a placeholder for every name. */
function checkPlaceholders(expressions: (string | undefined)[], names: Record<string, string> = {}, values: Item = {}): void {
  for (const e of expressions) if (e !== undefined && e.length > MAX_EXPRESSION) throw validation('Expression size has exceeded the maximum allowed size');
  const text = expressions.filter((e) => e !== undefined).join(' ');
  const usedNames = new Set(text.match(/#\w+/g) ?? []);
  const usedValues = new Set(text.match(/:\w+/g) ?? []);
  for (const n of usedNames) if (!(n in names)) throw validation(`An expression attribute name used in the document path is not defined; attribute name: ${n}`);
  for (const n of Object.keys(names)) if (!usedNames.has(n)) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${n}}`);
  for (const v of usedValues) if (!(v in values)) throw validation(`An expression attribute value used in expression is not defined; attribute value: ${v}`);
  for (const v of Object.keys(values)) if (!usedValues.has(v)) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${v}}`);
}

const KEYWORDS = '(?:attribute_not_exists|attribute_exists|if_not_exists|contains|AND|OR|NOT|SET|ADD|REMOVE|DELETE)\\b';

/** Tokens of an expression; a bare attribute name or an unmodelled function does not tokenize. */
class Tokens {
  private readonly tokens: string[] = [];
  private i = 0;

  constructor(private readonly text: string) {
    const re = new RegExp(`\\s*(${KEYWORDS}|<>|<=|>=|=|<|>|[(),.]|[#:]\\w+)`, 'y');
    let m: RegExpExecArray | null;
    while (re.lastIndex < text.length && (m = re.exec(text))) this.tokens.push(m[1]);
    if (re.lastIndex < text.trimEnd().length) throw validation(`Invalid expression (the fake models no more): ${text}`);
  }

  public peek(): string | undefined {
    return this.tokens[this.i];
  }

  public take(expected?: string): string {
    const t = this.tokens[this.i++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw validation(`Invalid expression: ${this.text}`);
    return t;
  }

  /** A document path: `#a` or `#a.#b…`, resolved to names. */
  public path(names: Record<string, string>): string[] {
    const path: string[] = [];
    do {
      const t = this.take();
      if (!t.startsWith('#')) throw validation(`Invalid expression (a name placeholder was expected): ${this.text}`);
      path.push(names[t]);
    } while (this.peek() === '.' && this.take('.'));
    return path;
  }

  public value(values: Item): AttributeValue {
    const t = this.take();
    if (!t.startsWith(':')) throw validation(`Invalid expression (a value placeholder was expected): ${this.text}`);
    return values[t];
  }

  public end(): void {
    if (this.i !== this.tokens.length) throw validation(`Invalid expression: ${this.text}`);
  }
}

function getPath(item: Item | undefined, path: string[]): AttributeValue | undefined {
  let v: AttributeValue | undefined = item ? { M: item } : undefined;
  for (const p of path) v = v?.M?.[p];
  return v;
}

function compareValues(a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  let c: number;
  if (a.N !== undefined && b.N !== undefined) c = Number(a.N) - Number(b.N);
  else if (a.S !== undefined && b.S !== undefined) c = a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  else return op === '<>';
  switch (op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
    default: throw validation(`unknown comparator ${op}`);
  }
}

/** A condition expression over the item (absent: no attributes). */
export function evaluateCondition(
  expression: string | undefined,
  item: Item | undefined,
  names: Record<string, string> = {},
  values: Item = {},
): boolean {
  if (expression === undefined) return true;
  const t = new Tokens(expression);
  const operand = () => (t.peek()?.startsWith('#') ? getPath(item, t.path(names)) : t.value(values));
  const primary = (): boolean => {
    const next = t.peek();
    if (next === 'NOT') {
      t.take();
      return !primary();
    }
    if (next === '(') {
      t.take();
      const v = or();
      t.take(')');
      return v;
    }
    if (next === 'attribute_exists' || next === 'attribute_not_exists') {
      t.take();
      t.take('(');
      const exists = getPath(item, t.path(names)) !== undefined;
      t.take(')');
      return next === 'attribute_exists' ? exists : !exists;
    }
    if (next === 'contains') {
      t.take();
      t.take('(');
      const container = getPath(item, t.path(names));
      t.take(',');
      const v = operand();
      t.take(')');
      if (!container || !v) return false;
      if (container.SS) return v.S !== undefined && container.SS.includes(v.S);
      if (container.NS) return v.N !== undefined && container.NS.some((n) => Number(n) === Number(v.N));
      if (container.S !== undefined) return v.S !== undefined && container.S.includes(v.S);
      throw validation('the fake models contains() on string sets and strings only');
    }
    const left = operand();
    const op = t.take();
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) throw validation(`Invalid expression: ${expression}`);
    return compareValues(left, op, operand());
  };
  const and = (): boolean => {
    let v = primary();
    while (t.peek() === 'AND') {
      t.take();
      const r = primary();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (t.peek() === 'OR') {
      t.take();
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  t.end();
  return result;
}

function addNumbers(a: string, b: string): string {
  if (!/^-?\d+$/.test(a) || !/^-?\d+$/.test(b)) throw validation('the fake adds whole numbers only');
  const sum = BigInt(a) + BigInt(b);
  if (sum.toString().replace('-', '').length > 38) throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
  return sum.toString();
}

/** An update expression applied to a copy of the item (right-hand sides read from the item before the update). */
export function applyUpdate(expression: string, before: Item | undefined, key: Item, names: Record<string, string> = {}, values: Item = {}): Item {
  const item: Item = { ...structuredClone(before ?? {}), ...structuredClone(key) };
  const t = new Tokens(expression);
  const seen = new Set<string>();
  const targets: string[][] = [];
  const actions: (() => void)[] = [];
  const setAt = (path: string[], value: AttributeValue) => {
    let parent: Item = item;
    for (const p of path.slice(0, -1)) {
      const next = parent[p]?.M;
      if (!next) throw validation('The document path provided in the update expression is invalid for update');
      parent = next;
    }
    parent[path[path.length - 1]] = structuredClone(value);
  };
  const removeAt = (path: string[]) => {
    let parent: Item | undefined = item;
    for (const p of path.slice(0, -1)) parent = parent?.[p]?.M;
    if (parent) delete parent[path[path.length - 1]];
  };
  while (t.peek() !== undefined) {
    const clause = t.take();
    if (!['SET', 'ADD', 'REMOVE', 'DELETE'].includes(clause)) throw validation(`Invalid UpdateExpression: ${expression}`);
    if (seen.has(clause)) throw validation(`Invalid UpdateExpression: The "${clause}" section can only be used once in an update expression`);
    seen.add(clause);
    for (let more = true; more; more = t.peek() === ',' && t.take() === ',') {
      const path = t.path(names);
      if (path[0] === 'pk' || path[0] === 'sk') throw validation(`Cannot update attribute ${path[0]}. This attribute is part of the key`);
      targets.push(path);
      if (clause === 'REMOVE') {
        actions.push(() => removeAt(path));
      } else if (clause === 'SET') {
        t.take('=');
        let value: AttributeValue | undefined;
        if (t.peek() === 'if_not_exists') {
          t.take();
          t.take('(');
          const source = t.path(names);
          t.take(',');
          const fallback = t.value(values);
          t.take(')');
          value = getPath(before, source) ?? fallback;
        } else {
          value = t.peek()?.startsWith('#') ? getPath(before, t.path(names)) : t.value(values);
        }
        if (value === undefined) throw validation('The provided expression refers to an attribute that does not exist in the item');
        actions.push(() => setAt(path, value));
      } else {
        const by = t.value(values);
        if (path.length !== 1) throw validation(`the fake models ${clause} on top-level attributes only`);
        const old = before?.[path[0]];
        if (by.SS !== undefined && by.SS.length === 0) throw validation('One or more parameter values were invalid: An string set  may not be empty');
        if (clause === 'ADD') {
          if (by.N !== undefined) {
            if (old !== undefined && old.N === undefined) throw validation('An operand in the update expression has an incorrect data type');
            actions.push(() => setAt(path, { N: addNumbers(old?.N ?? '0', by.N!) }));
          } else if (by.SS !== undefined) {
            if (old !== undefined && old.SS === undefined) throw validation('An operand in the update expression has an incorrect data type');
            actions.push(() => setAt(path, { SS: [...new Set([...old?.SS ?? [], ...by.SS!])] }));
          } else {
            throw validation('Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD');
          }
        } else {
          if (by.SS === undefined) throw validation('Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE');
          if (old !== undefined && old.SS === undefined) throw validation('An operand in the update expression has an incorrect data type');
          actions.push(() => {
            const rest = (old?.SS ?? []).filter((s) => !by.SS!.includes(s));
            if (rest.length > 0) setAt(path, { SS: rest });
            else removeAt(path);
          });
        }
      }
    }
  }
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      const [a, b] = [targets[i], targets[j]];
      const n = Math.min(a.length, b.length);
      if (a.slice(0, n).every((p, k) => p === b[k])) throw validation(`Invalid UpdateExpression: Two document paths overlap with each other: [${a.join('.')}], [${b.join('.')}]`);
    }
  }
  for (const action of actions) action();
  if (itemBytes(item) > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
  return item;
}

/** DynamoDB's size of a value, about (names and values in UTF-8 bytes, numbers about a byte per two digits). */
function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.length / 2) + 1;
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.M !== undefined) return 3 + itemBytes(v.M);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  throw validation('the fake models S, N, SS, M, BOOL and NULL values');
}

function itemBytes(item: Item): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name) + valueBytes(v);
  return n;
}

function project(item: Item, expression: string | undefined, names: Record<string, string> = {}): Item {
  if (expression === undefined) return structuredClone(item);
  const t = new Tokens(expression);
  const out: Item = {};
  for (let more = true; more; more = t.peek() === ',' && t.take() === ',') {
    const path = t.path(names);
    if (path.length !== 1) throw validation('the fake projects top-level attributes only');
    if (item[path[0]] !== undefined) out[path[0]] = structuredClone(item[path[0]]);
  }
  t.end();
  return out;
}

/** DynamoDB: GetItem, UpdateItem and Query on tables keyed by `pk` and `sk` (strings). */
export class FakeBudgetDynamoDB {
  /** Items by table, then `pk`, then `sk`. */
  public readonly tables = new Map<string, Map<string, Map<string, Item>>>();
  public readonly operations: FakeOperations = {
    GetItem: (input: GetItemCommandInput) => this.getItem(input),
    UpdateItem: (input: UpdateItemCommandInput) => this.updateItem(input),
    Query: (input: QueryCommandInput) => this.query(input),
  };
  /** Items read (found or not, each item a Query returned) and written. */
  public itemsRead = 0;
  /** The bytes a Query page reads at most (DynamoDB: 1 MB); lower it to test paging. */
  public pageBytes = PAGE_BYTES;
  public itemsWritten = 0;

  constructor(tableNames: string[]) {
    for (const name of tableNames) this.tables.set(name, new Map());
  }

  /** An item, or undefined. */
  public item(table: string, pk: string, sk: string): Item | undefined {
    return this.table(table).get(pk)?.get(sk);
  }

  /** The items of a partition, by `sk`. */
  public partition(table: string, pk: string): Map<string, Item> {
    return this.table(table).get(pk) ?? new Map();
  }

  /** Stores an item as is (test set-up). */
  public put(table: string, item: Item): void {
    const [pk, sk] = this.keyOf(item);
    const t = this.table(table);
    if (!t.has(pk)) t.set(pk, new Map());
    t.get(pk)!.set(sk, structuredClone(item));
  }

  /** Removes an item (test set-up). */
  public remove(table: string, pk: string, sk: string): void {
    this.table(table).get(pk)?.delete(sk);
  }

  public getItem(input: GetItemCommandInput) {
    checkPlaceholders([input.ProjectionExpression], input.ExpressionAttributeNames);
    const [pk, sk] = this.keyOf(input.Key, true);
    const item = this.item(input.TableName!, pk, sk);
    this.itemsRead++;
    return item ? { Item: project(item, input.ProjectionExpression, input.ExpressionAttributeNames) } : {};
  }

  public updateItem(input: UpdateItemCommandInput) {
    checkPlaceholders([input.ConditionExpression, input.UpdateExpression], input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    if (!input.UpdateExpression) throw validation('the fake needs an UpdateExpression');
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE' && input.ReturnValues !== 'ALL_NEW') throw validation('the fake returns NONE or ALL_NEW');
    const [pk, sk] = this.keyOf(input.Key, true);
    const current = this.item(input.TableName!, pk, sk);
    const names = input.ExpressionAttributeNames;
    const values = input.ExpressionAttributeValues;
    // Both are evaluated before anything is written: a bad update expression fails even when the condition does not hold.
    const next = applyUpdate(input.UpdateExpression, current, input.Key!, names, values);
    if (!evaluateCondition(input.ConditionExpression, current, names, values)) throw conditionFailed();
    this.put(input.TableName!, next);
    this.itemsWritten++;
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
  }

  /** Query of one partition (`#pk = :pk`), in `sk` order, pages of about 1 MB read. */
  public query(input: QueryCommandInput) {
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    checkPlaceholders([input.KeyConditionExpression, input.ProjectionExpression], names, values);
    for (const unmodelled of ['FilterExpression', 'IndexName', 'Select', 'QueryFilter', 'KeyConditions', 'AttributesToGet'] as const) {
      if (input[unmodelled] !== undefined) throw validation(`the fake does not model ${unmodelled}`);
    }
    if (input.ScanIndexForward === false) throw validation('the fake queries forward only');
    const t = new Tokens(input.KeyConditionExpression ?? '');
    const keyName = t.path(names);
    t.take('=');
    const pk = t.value(values)?.S;
    t.end();
    if (keyName.length !== 1 || keyName[0] !== 'pk' || pk === undefined) throw validation('Query condition missed key schema element: pk');
    const all = [...this.partition(input.TableName!, pk).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let start = 0;
    if (input.ExclusiveStartKey) {
      const [startPk, startSk] = this.keyOf(input.ExclusiveStartKey, true);
      if (startPk !== pk) throw validation('The provided starting key does not match the range key predicate');
      start = all.findIndex(([sk]) => sk > startSk);
      if (start < 0) start = all.length;
    }
    const items: Item[] = [];
    let bytes = 0;
    let i = start;
    for (; i < all.length && bytes < this.pageBytes && (input.Limit === undefined || items.length < input.Limit); i++) {
      bytes += itemBytes(all[i][1]);
      items.push(project(all[i][1], input.ProjectionExpression, names));
    }
    this.itemsRead += items.length;
    const last = i < all.length ? { pk: { S: pk }, sk: { S: all[i - 1][0] } } : undefined;
    return { Items: items, Count: items.length, ScannedCount: items.length, ...(last ? { LastEvaluatedKey: last } : {}) };
  }

  private table(name: string): Map<string, Map<string, Item>> {
    const table = this.tables.get(name);
    if (!table) throw named('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    return table;
  }

  private keyOf(key: Item | undefined, exact = false): [string, string] {
    const pk = key?.pk?.S;
    const sk = key?.sk?.S;
    if (pk === undefined || sk === undefined || (exact && Object.keys(key!).length !== 2)) {
      throw validation('The provided key element does not match the schema');
    }
    return [pk, sk];
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Secrets Manager: the gateway-token secrets' names and tags (values are never read by the budget function)
// ------------------------------------------------------------------------------------------------------------------

/** A secret: name, tags, and whether it is scheduled for deletion. */
export interface FakeSecret {
  readonly name: string;
  tags: { Key: string; Value: string }[];
  deleted?: boolean;
}

/** Secrets Manager: ListSecrets (filters by prefix, case-insensitive, ANDed) and TagResource. */
export class FakeBudgetSecrets {
  public readonly secrets = new Map<string, FakeSecret>();
  public readonly operations: FakeOperations = {
    ListSecrets: (input: ListSecretsCommandInput) => this.listSecrets(input),
    TagResource: (input: TagResourceCommandInput) => this.tagResource(input),
  };

  /** A secret with the given tags; `undefined` values are left out. */
  public add(name: string, tags: Record<string, string | undefined>): FakeSecret {
    const secret = { name, tags: Object.entries(tags).filter(([, v]) => v !== undefined).map(([Key, Value]) => ({ Key, Value: Value! })) };
    this.secrets.set(name, secret);
    return secret;
  }

  public listSecrets(input: ListSecretsCommandInput) {
    const max = input.MaxResults ?? 100;
    if (max < 1 || max > 100) throw named('InvalidParameterException', 'MaxResults must be from 1 to 100');
    for (const f of input.Filters ?? []) {
      if (!['name', 'tag-key', 'tag-value', 'description', 'all'].includes(f.Key ?? '')) throw named('InvalidParameterException', `unknown filter key ${f.Key}`);
      if ((f.Values ?? []).some((v) => v.startsWith('!'))) throw named('InvalidParameterException', 'the fake does not model negated filters');
    }
    const prefix = (value: string, values: string[]) => values.some((v) => value.toLowerCase().startsWith(v.toLowerCase()));
    const matches = (s: FakeSecret) => (input.Filters ?? []).every((f) => {
      const values = f.Values ?? [];
      switch (f.Key) {
        case 'name': return prefix(s.name, values);
        case 'tag-key': return s.tags.some((t) => prefix(t.Key, values));
        case 'tag-value': return s.tags.some((t) => prefix(t.Value, values));
        case 'description': return false;
        default: return prefix(s.name, values) || s.tags.some((t) => prefix(t.Key, values) || prefix(t.Value, values));
      }
    });
    const all = [...this.secrets.values()].filter((s) => (input.IncludePlannedDeletion || !s.deleted) && matches(s));
    const start = Number(input.NextToken ?? 0);
    const page = all.slice(start, start + max);
    return {
      SecretList: page.map((s) => ({ ARN: this.arn(s.name), Name: s.name, Tags: structuredClone(s.tags) })),
      NextToken: start + max < all.length ? String(start + max) : undefined,
    };
  }

  public tagResource(input: TagResourceCommandInput) {
    const secret = this.secrets.get(input.SecretId ?? '') ?? [...this.secrets.values()].find((s) => this.arn(s.name) === input.SecretId);
    if (!secret) throw named('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.');
    for (const tag of input.Tags ?? []) {
      secret.tags = [...secret.tags.filter((t) => t.Key !== tag.Key), { Key: tag.Key!, Value: tag.Value! }];
    }
    return {};
  }

  private arn(name: string): string {
    return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
  }
}

// ------------------------------------------------------------------------------------------------------------------
// SNS
// ------------------------------------------------------------------------------------------------------------------

/** A message published. */
export interface FakeMessage {
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Record<string, string>;
}

/** SNS: Publish to one topic, with SNS's checks of subject, size and message attributes. */
export class FakeSns {
  public readonly messages: FakeMessage[] = [];
  public readonly operations: FakeOperations = { Publish: (input: PublishCommandInput) => this.publish(input) };
  private ids = 0;

  constructor(public readonly topicArn: string) {}

  public publish(input: PublishCommandInput) {
    if (input.TopicArn !== this.topicArn) throw named('NotFoundException', 'Topic does not exist');
    const subject = input.Subject;
    if (subject !== undefined && (subject.length === 0 || subject.length > 100 || /[\p{Cc}]/u.test(subject))) {
      throw named('InvalidParameterException', 'Invalid parameter: Subject');
    }
    if (!input.Message || Buffer.byteLength(input.Message) > 262_144) throw named('InvalidParameterException', 'Invalid parameter: Message');
    const attributes: Record<string, string> = {};
    for (const [key, v] of Object.entries(input.MessageAttributes ?? {})) {
      if (!['String', 'Number'].includes(v.DataType ?? '') || v.StringValue === undefined) throw named('InvalidParameterValueException', `bad message attribute ${key}`);
      if (v.DataType === 'Number' && !Number.isFinite(Number(v.StringValue))) throw named('InvalidParameterValueException', `attribute ${key} is not a number`);
      attributes[key] = v.StringValue;
    }
    this.messages.push({ subject, message: input.Message, attributes });
    return { MessageId: `m-${++this.ids}` };
  }
}

// ------------------------------------------------------------------------------------------------------------------
// IAM managed policy versions
// ------------------------------------------------------------------------------------------------------------------

interface FakeVersion {
  readonly id: string;
  readonly document: string;
  readonly created: Date;
}

/** A managed policy: its versions (at most five) and which is the default. */
export interface FakePolicy {
  readonly arn: string;
  versions: FakeVersion[];
  defaultId: string;
  next: number;
  /** Every document ever created as a version, in order (the first is the template's). */
  readonly history: string[];
}

const MAX_VERSIONS = 5;

/** The namespaces a block policy document lists (the empty-slot value left out), read independently of the run. */
export function namespacesOf(document: string): string[] {
  const doc = JSON.parse(document);
  const values = doc.Statement?.[0]?.Condition?.StringEquals?.['aws:PrincipalTag/kubernetes-namespace'];
  return (Array.isArray(values) ? values : [values]).filter((v: unknown) => typeof v === 'string' && v !== '-').sort();
}

/** IAM: the managed policy version operations, with IAM's limits (five versions, 6,144 characters). */
export class FakeIam {
  public readonly policies = new Map<string, FakePolicy>();
  public readonly operations: FakeOperations = {
    GetPolicy: (input: GetPolicyCommandInput) => this.getPolicy(input),
    GetPolicyVersion: (input: GetPolicyVersionCommandInput) => this.getPolicyVersion(input),
    ListPolicyVersions: (input: ListPolicyVersionsCommandInput) => this.listPolicyVersions(input),
    CreatePolicyVersion: (input: CreatePolicyVersionCommandInput) => this.createPolicyVersion(input),
    DeletePolicyVersion: (input: DeletePolicyVersionCommandInput) => this.deletePolicyVersion(input),
  };
  /** Versions per ListPolicyVersions page. */
  public pageSize = 100;
  private clock = Date.parse('2026-01-01T00:00:00Z');

  /** A policy with one (default) version. */
  public add(arn: string, document: object | string): FakePolicy {
    const text = typeof document === 'string' ? document : JSON.stringify(document);
    const policy: FakePolicy = { arn, versions: [{ id: 'v1', document: text, created: this.tick() }], defaultId: 'v1', next: 2, history: [text] };
    this.policies.set(arn, policy);
    return policy;
  }

  /** The default version's document. */
  public document(arn: string): string {
    const p = this.policy(arn);
    return p.versions.find((v) => v.id === p.defaultId)!.document;
  }

  /** The namespaces the default version denies. */
  public denied(arn: string): string[] {
    return namespacesOf(this.document(arn));
  }

  /** Adds a version as someone else would (test set-up); it becomes the default when asked. */
  public addVersion(arn: string, document: object, setAsDefault = false): void {
    this.createPolicyVersion({ PolicyArn: arn, PolicyDocument: JSON.stringify(document), SetAsDefault: setAsDefault });
  }

  public getPolicy(input: GetPolicyCommandInput) {
    const p = this.policy(input.PolicyArn);
    return { Policy: { Arn: p.arn, PolicyName: p.arn.split('/').pop(), DefaultVersionId: p.defaultId, AttachmentCount: 1, IsAttachable: true } };
  }

  public getPolicyVersion(input: GetPolicyVersionCommandInput) {
    const p = this.policy(input.PolicyArn);
    const v = p.versions.find((x) => x.id === input.VersionId);
    if (!v) throw named('NoSuchEntityException', `Policy ${p.arn} version ${input.VersionId} does not exist or is not attachable.`);
    const version = { Document: encodeURIComponent(v.document), VersionId: v.id, IsDefaultVersion: v.id === p.defaultId, CreateDate: v.created };
    return { PolicyVersion: version };
  }

  /** The versions, newest first, `pageSize` a page. */
  public listPolicyVersions(input: ListPolicyVersionsCommandInput) {
    const p = this.policy(input.PolicyArn);
    const all = [...p.versions].reverse();
    const size = Math.min(input.MaxItems ?? 100, this.pageSize);
    const start = Number(input.Marker ?? 0);
    const page = all.slice(start, start + size);
    const more = start + size < all.length;
    return {
      Versions: page.map((v) => ({ VersionId: v.id, IsDefaultVersion: v.id === p.defaultId, CreateDate: v.created })),
      IsTruncated: more,
      Marker: more ? String(start + size) : undefined,
    };
  }

  public createPolicyVersion(input: CreatePolicyVersionCommandInput) {
    const p = this.policy(input.PolicyArn);
    let doc: unknown;
    try {
      doc = JSON.parse(input.PolicyDocument ?? '');
    } catch {
      throw named('MalformedPolicyDocumentException', 'The policy is not valid JSON');
    }
    if ((doc as { Version?: string }).Version !== '2012-10-17') throw named('MalformedPolicyDocumentException', 'Policy document must be version 2012-10-17');
    if (input.PolicyDocument!.replace(/\s/g, '').length > 6144) throw named('LimitExceededException', 'Cannot exceed quota for PolicySize: 6144');
    if (p.versions.length >= MAX_VERSIONS) throw named('LimitExceededException', 'A managed policy can have up to 5 versions.');
    const version = { id: `v${p.next++}`, document: input.PolicyDocument!, created: this.tick() };
    p.versions.push(version);
    p.history.push(version.document);
    if (input.SetAsDefault) p.defaultId = version.id;
    return { PolicyVersion: { VersionId: version.id, IsDefaultVersion: input.SetAsDefault === true, CreateDate: version.created } };
  }

  public deletePolicyVersion(input: DeletePolicyVersionCommandInput) {
    const p = this.policy(input.PolicyArn);
    if (input.VersionId === p.defaultId) throw named('DeleteConflictException', 'Cannot delete the default version of a policy.');
    if (!p.versions.some((v) => v.id === input.VersionId)) throw named('NoSuchEntityException', `version ${input.VersionId} does not exist`);
    p.versions = p.versions.filter((v) => v.id !== input.VersionId);
    return {};
  }

  private policy(arn: string | undefined): FakePolicy {
    const p = this.policies.get(arn ?? '');
    if (!p) throw named('NoSuchEntityException', `Policy ${arn} does not exist or is not attachable.`);
    return p;
  }

  private tick(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Invocation log records
// ------------------------------------------------------------------------------------------------------------------

/** What a test says about one Bedrock call. */
export interface CallSpec {
  /** Epoch ms. */
  readonly at: number;
  /** The caller's ARN (see `bedrockCaller`). */
  readonly caller: string;
  readonly modelId: string;
  readonly input: number;
  readonly output: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
  readonly operation?: 'Converse' | 'ConverseStream' | 'InvokeModel' | 'InvokeModelWithResponseStream';
  readonly inferenceRegion?: string;
  readonly requestId?: string;
}

/** The ARN a tenant's gateway calls Bedrock as: the Bedrock role's session named by the namespace. */
export function bedrockCaller(roleName: string, namespace: string, account = ACCOUNT): string {
  return `arn:aws:sts::${account}:assumed-role/${roleName}/${namespace}`;
}

let requests = 0;

/** A model invocation log record as Bedrock writes it with text delivery off (no request or response bodies). */
export function invocationRecord(call: CallSpec): Record<string, unknown> {
  const profile = /^(arn:aws:bedrock:[^:]*:\d*:inference-profile\/)?(us|eu|apac|global)\./.test(call.modelId);
  const id = call.requestId ?? `00000000-0000-4000-8000-${String(++requests).padStart(12, '0')}`;
  return {
    schemaType: 'ModelInvocationLog',
    schemaVersion: '1.0',
    timestamp: new Date(call.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    accountId: ACCOUNT,
    identity: { arn: call.caller },
    region: REGION,
    requestId: id,
    operation: call.operation ?? 'Converse',
    modelId: call.modelId,
    input: {
      inputContentType: 'application/json',
      inputTokenCount: call.input,
      ...(call.cacheRead !== undefined ? { cacheReadInputTokenCount: call.cacheRead } : {}),
      ...(call.cacheWrite !== undefined ? { cacheWriteInputTokenCount: call.cacheWrite } : {}),
    },
    output: { outputContentType: 'application/json', outputTokenCount: call.output },
    ...(profile || call.inferenceRegion ? { inferenceRegion: call.inferenceRegion ?? 'us-west-2' } : {}),
  };
}

// ------------------------------------------------------------------------------------------------------------------
// The world: the five fakes, counted, with injected failures and both ways of routing SDK clients to them
// ------------------------------------------------------------------------------------------------------------------

/** A failure a test injects: matching calls fail, before their effect or after it (the caller sees an error). */
export interface InjectedFailure {
  /** The AWS operation name (`UpdateItem`). */
  readonly operation: string;
  readonly when?: (input: any) => boolean;
  /** The effect happens, then the error (a timeout after the commit). */
  readonly after?: boolean;
  /** How many matching calls fail. @default 1 */
  times?: number;
  readonly error?: () => Error;
}

/** Names of the world's resources. */
export interface WorldOptions {
  readonly tableName?: string;
  readonly logGroupName?: string;
  readonly topicArn?: string;
  /** Block policies to create (each with the template's empty-slot document). @default 2 */
  readonly blockPolicies?: number;
  readonly bedrockRoleName?: string;
  readonly secretPrefix?: string;
  /** Logs Insights' row limit. @default 10,000 */
  readonly maxRows?: number;
}

/** The empty-slot block policy document as the construct's template writes it. */
export function emptyBlockDocument(): object {
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'BudgetExhausted',
      Effect: 'Deny',
      Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': '-' } },
    }],
  };
}

const SERVICES = ['CloudWatchLogs', 'DynamoDB', 'SecretsManager', 'SNS', 'IAM'] as const;
export type Service = (typeof SERVICES)[number];

/** The five services in memory. */
export class FakeBudgetAws {
  public readonly tableName: string;
  public readonly logGroupName: string;
  public readonly topicArn: string;
  public readonly bedrockRoleName: string;
  public readonly secretPrefix: string;
  public readonly policyArns: string[];
  public readonly logs: FakeLogs;
  public readonly dynamodb: FakeBudgetDynamoDB;
  public readonly secrets = new FakeBudgetSecrets();
  public readonly sns: FakeSns;
  public readonly iam = new FakeIam();
  /** Calls by `Service Operation` (`DynamoDB UpdateItem`). */
  public readonly calls = new Map<string, number>();
  /** Every call in order, `Service Operation`. */
  public readonly log: string[] = [];
  /** Hears each call before its effect (a test changes the world there, as a concurrent run would). */
  public onCall?: (operation: string, input: any) => void;
  private readonly failures: InjectedFailure[] = [];

  constructor(options: WorldOptions = {}) {
    this.tableName = options.tableName ?? 'openclaw-budgets';
    this.logGroupName = options.logGroupName ?? '/aws/bedrock/modelinvocations';
    this.topicArn = options.topicArn ?? `arn:aws:sns:${REGION}:${ACCOUNT}:openclaw-budgets`;
    this.bedrockRoleName = options.bedrockRoleName ?? 'Platform-BedrockRole3F5A0C1B-Q1w2E3r4T5y6';
    this.secretPrefix = options.secretPrefix ?? 'openclaw/';
    this.logs = new FakeLogs(this.logGroupName, { maxRows: options.maxRows });
    this.dynamodb = new FakeBudgetDynamoDB([this.tableName]);
    this.sns = new FakeSns(this.topicArn);
    this.policyArns = Array.from({ length: options.blockPolicies ?? 2 }, (_, i) => `arn:aws:iam::${ACCOUNT}:policy/openclaw-budget-block-${i}`);
    for (const arn of this.policyArns) this.iam.add(arn, emptyBlockDocument());
  }

  /** Each service's operations, counted and subject to injected failures. */
  public get operations(): Record<Service, FakeOperations> {
    const fakes: Record<Service, FakeOperations> = {
      CloudWatchLogs: this.logs.operations,
      DynamoDB: this.dynamodb.operations,
      SecretsManager: this.secrets.operations,
      SNS: this.sns.operations,
      IAM: this.iam.operations,
    };
    return Object.fromEntries(SERVICES.map((s) => [s, Object.fromEntries(Object.entries(fakes[s])
      .map(([op, fn]) => [op, (input: object) => this.call(s, op, input, fn)]))])) as Record<Service, FakeOperations>;
  }

  /** Calls of one operation (`UpdateItem`), over all services, or of all when none is named. */
  public count(operation?: string): number {
    let n = 0;
    for (const [key, v] of this.calls) if (operation === undefined || key.endsWith(` ${operation}`)) n += v;
    return n;
  }

  /** Forgets the counts (after set-up). */
  public resetCounts(): void {
    this.calls.clear();
    this.log.length = 0;
  }

  /** Makes matching calls fail. */
  public inject(failure: InjectedFailure): void {
    this.failures.push({ times: 1, ...failure });
  }

  /** Forgets the failures not yet injected. */
  public clearFailures(): void {
    this.failures.length = 0;
  }

  /** A tenant's gateway-token secret, tagged with its namespace and, when given, its budget. */
  public addTenant(namespace: string, budgetUsd?: string | number, name?: string): FakeSecret {
    return this.secrets.add(name ?? `${this.secretPrefix}${namespace.replace(/^openclaw-/, '')}/gateway-token`, {
      'tenant-namespace': namespace,
      'budget-usd': budgetUsd === undefined ? undefined : String(budgetUsd),
      'openclaw:provisioned-by': 'self-service',
    });
  }

  /** `count` tenants `openclaw-t0`, `openclaw-t1`…, each with a gateway-token secret and the budget given; their namespaces. */
  public addTenants(count: number, budgetUsd: string | number = 100): string[] {
    return Array.from({ length: count }, (_, i) => {
      const namespace = `openclaw-t${i}`;
      this.addTenant(namespace, budgetUsd);
      return namespace;
    });
  }

  /** Re-tags a tenant's budget (as `aws secretsmanager tag-resource` would). */
  public setBudget(namespace: string, budgetUsd: string | number): void {
    const secret = [...this.secrets.secrets.values()].find((s) => s.tags.some((t) => t.Key === 'tenant-namespace' && t.Value === namespace));
    if (!secret) throw new Error(`no secret for ${namespace}`);
    this.secrets.tagResource({ SecretId: secret.name, Tags: [{ Key: 'budget-usd', Value: String(budgetUsd) }] });
  }

  /** Adds one call's invocation log record. */
  public addCall(call: CallSpec): void {
    this.logs.add(invocationRecord(call), call.at);
  }

  /** The caller ARN of a tenant's gateway in this world. */
  public caller(namespace: string): string {
    return bedrockCaller(this.bedrockRoleName, namespace);
  }

  /** A tenant's month item, or undefined. */
  public month(month: string, namespace: string): Item | undefined {
    return this.dynamodb.item(this.tableName, `MONTH#${month}`, namespace);
  }

  /** The run state item, or undefined. */
  public state(): Item | undefined {
    return this.dynamodb.item(this.tableName, 'STATE', 'STATE');
  }

  /** The namespaces blocked now, over all block policies. */
  public blocked(): string[] {
    return this.policyArns.flatMap((arn) => this.iam.denied(arn)).sort();
  }

  /** The function's environment for this world. */
  public environment(settings: { enforcement?: 'ALERT' | 'BLOCK'; thresholds?: number[]; defaultBudgetUsd?: number; prices: object }): Record<string, string> {
    return {
      BUDGET_TABLE_NAME: this.tableName,
      INVOCATION_LOG_GROUP_NAME: this.logGroupName,
      BEDROCK_ROLE_NAME: this.bedrockRoleName,
      BUDGET_TOPIC_ARN: this.topicArn,
      BLOCK_POLICY_ARNS: this.policyArns.join(','),
      BUDGET_ENFORCEMENT: settings.enforcement ?? 'BLOCK',
      ALERT_THRESHOLDS: (settings.thresholds ?? [80, 100]).join(','),
      DEFAULT_BUDGET_USD: String(settings.defaultBudgetUsd ?? 50),
      PRICES: JSON.stringify(settings.prices),
      TENANT_SECRET_PREFIX: this.secretPrefix,
    };
  }

  /**
   * Routes every instance of the five SDK clients to this world through aws-sdk-client-mock (call once per test;
   * a later call routes to the later world). Returns the mocks, to restore them.
   */
  public routeMocks() {
    const ops = this.operations;
    const logs = mockClient(CloudWatchLogsClient);
    logs.on(StartQueryCommand).callsFake(ops.CloudWatchLogs.StartQuery);
    logs.on(GetQueryResultsCommand).callsFake(ops.CloudWatchLogs.GetQueryResults);
    logs.on(StopQueryCommand).callsFake(ops.CloudWatchLogs.StopQuery);
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(GetItemCommand).callsFake(ops.DynamoDB.GetItem);
    dynamodb.on(UpdateItemCommand).callsFake(ops.DynamoDB.UpdateItem);
    dynamodb.on(QueryCommand).callsFake(ops.DynamoDB.Query);
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(ListSecretsCommand).callsFake(ops.SecretsManager.ListSecrets);
    secrets.on(TagResourceCommand).callsFake(ops.SecretsManager.TagResource);
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).callsFake(ops.SNS.Publish);
    const iam = mockClient(IAMClient);
    iam.on(GetPolicyCommand).callsFake(ops.IAM.GetPolicy);
    iam.on(GetPolicyVersionCommand).callsFake(ops.IAM.GetPolicyVersion);
    iam.on(ListPolicyVersionsCommand).callsFake(ops.IAM.ListPolicyVersions);
    iam.on(CreatePolicyVersionCommand).callsFake(ops.IAM.CreatePolicyVersion);
    iam.on(DeletePolicyVersionCommand).callsFake(ops.IAM.DeletePolicyVersion);
    return [logs, dynamodb, secrets, sns, iam];
  }

  /**
   * Real SDK clients answered by this world: a middleware at the front of each client's stack (before
   * serialization, signing, retries and the network) hands the command's input to the fake and returns its answer.
   */
  public answeredClients() {
    const config = { region: REGION, credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' } };
    const answered = <C extends { middlewareStack: unknown }>(client: C, service: Service): C => {
      const ops = this.operations[service];
      const middleware = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
        const operation = String(context.commandName).replace(/Command$/, '');
        const answer = ops[operation];
        if (!answer) throw new Error(`the ${service} fake does not answer ${operation}`);
        return { output: { $metadata: { httpStatusCode: 200 }, ...answer(structuredClone(args.input)) } };
      };
      (client.middlewareStack as { add(m: unknown, options: object): void }).add(middleware, { step: 'initialize', priority: 'high', name: 'fakeBudgetAws' });
      return client;
    };
    return {
      logs: answered(new CloudWatchLogsClient(config), 'CloudWatchLogs'),
      dynamodb: answered(new DynamoDBClient(config), 'DynamoDB'),
      secrets: answered(new SecretsManagerClient(config), 'SecretsManager'),
      sns: answered(new SNSClient(config), 'SNS'),
      iam: answered(new IAMClient(config), 'IAM'),
    };
  }

  private call(service: Service, operation: string, input: object, effect: (input: object) => object): object {
    const key = `${service} ${operation}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    this.log.push(key);
    const failure = this.failures.find((f) => f.operation === operation && (f.times ?? 1) > 0 && (!f.when || f.when(input)));
    if (failure) failure.times = (failure.times ?? 1) - 1;
    const error = () => failure?.error?.() ?? named('InternalFailure', `injected failure of ${key}`);
    if (failure && !failure.after) throw error();
    this.onCall?.(operation, input);
    const result = effect(structuredClone(input));
    if (failure) throw error();
    return result;
  }
}
