/**
 * In-memory fakes of the AWS services the self-service handlers call (DynamoDB, Cognito, Secrets Manager, EKS Pod
 * Identity, SQS), shared by the provisioner's tests (routed to by aws-sdk-client-mock) and by bench/self-service.ts
 * (routed to by a middleware on real SDK clients). Each operation takes the command's input and returns its output, or
 * throws the error the service would throw; anything a fake does not model is refused, so a handler that changed its
 * requests fails instead of being answered wrongly.
 */
import {
  AdminGetUserCommandInput, ListUsersCommandInput, UserNotFoundException, UserStatusType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AttributeValue, ConditionalCheckFailedException, GetItemCommandInput, PutItemCommandInput, TransactionCanceledException,
  TransactWriteItemsCommandInput, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePodIdentityAssociationCommandInput, DescribePodIdentityAssociationCommandInput, ListPodIdentityAssociationsCommandInput,
  ResourceInUseException, ResourceNotFoundException as EksResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  CreateSecretCommandInput, InvalidRequestException, PutSecretValueCommandInput, ResourceExistsException, ResourceNotFoundException,
  RotateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommandInput } from '@aws-sdk/client-sqs';

/** A DynamoDB item: attribute name to attribute value. */
export type Item = Record<string, AttributeValue>;

/** A fake's operations by AWS name (`GetItem`), each taking the command's input and returning its output. */
export type FakeOperations = Record<string, (input: any) => object>;

/** Makes a new ID with the given prefix (`v` for a secret version, `a` for an association) on each call. */
export type NewId = (prefix: string) => string;

/** The partition key of every fake table, a string attribute. */
export const KEY = 'pk';

/** The largest page Cognito's ListUsers returns. */
export const LIST_USERS_PAGE = 60;

const ACCOUNT = '111122223333';

/** IDs `<prefix>-1`, `<prefix>-2`… in one sequence over all prefixes. */
export function idCounter(): NewId {
  let n = 0;
  return (prefix) => `${prefix}-${++n}`;
}

// ------------------------------------------------------------------------------------------------------------------
// DynamoDB: tables keyed by `pk` (a string), with the condition, update and projection expressions the handlers use
// evaluated, and placeholders checked the way DynamoDB checks them (every one defined and used), plus a placeholder
// for every attribute name. Anything else is a ValidationException.
// ------------------------------------------------------------------------------------------------------------------

const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'SET', 'ADD', 'REMOVE', 'attribute_not_exists', 'attribute_exists', 'if_not_exists']);

/** DynamoDB refuses undefined and unused placeholders; we also insist on a placeholder for every attribute name. */
function checkPlaceholders(expressions: (string | undefined)[], names: Record<string, string> = {}, values: Item = {}): void {
  const text = expressions.filter((e) => e !== undefined).join(' ');
  const usedNames = new Set(text.match(/#\w+/g) ?? []);
  const usedValues = new Set(text.match(/:\w+/g) ?? []);
  for (const n of usedNames) if (!(n in names)) throw validation(`An expression attribute name used in the document path is not defined: ${n}`);
  for (const n of Object.keys(names)) if (!usedNames.has(n)) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: ${n}`);
  for (const v of usedValues) if (!(v in values)) throw validation(`An expression attribute value used in expression is not defined: ${v}`);
  for (const v of Object.keys(values)) if (!usedValues.has(v)) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: ${v}`);
  for (const word of text.replace(/[#:]\w+/g, ' ').match(/[A-Za-z_]\w*/g) ?? []) {
    if (!KEYWORDS.has(word)) throw validation(`bare attribute name '${word}' (use a placeholder)`);
  }
}

/** Tokens of condition, update and projection expressions; a bare attribute name (no placeholder) does not tokenize. */
class Tokens {
  private readonly tokens: string[] = [];
  private i = 0;

  constructor(private readonly text: string) {
    const re = /\s*((?:attribute_not_exists|attribute_exists|if_not_exists|AND|OR|NOT|IN|SET|ADD|REMOVE)\b|<>|<=|>=|=|<|>|[(),]|[#:]\w+)/y;
    let m: RegExpExecArray | null;
    while (re.lastIndex < text.length && (m = re.exec(text))) this.tokens.push(m[1]);
    if (re.lastIndex < text.trimEnd().length) throw validation(`Invalid expression: ${text}`);
  }

  public peek(): string | undefined {
    return this.tokens[this.i];
  }

  public take(expected?: string): string {
    const t = this.tokens[this.i++];
    if (t === undefined || (expected !== undefined && t !== expected)) throw validation(`Invalid expression: ${this.text}`);
    return t;
  }

  public name(names: Record<string, string>): string {
    const t = this.take();
    if (!t.startsWith('#')) throw validation(`Invalid expression (an attribute name was expected): ${this.text}`);
    return names[t];
  }

  public value(values: Item): AttributeValue {
    const t = this.take();
    if (!t.startsWith(':')) throw validation(`Invalid expression (a value was expected): ${this.text}`);
    return values[t];
  }

  public end(): void {
    if (this.i !== this.tokens.length) throw validation(`Invalid expression: ${this.text}`);
  }
}

function compare(a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  let x: number | string;
  let y: number | string;
  if (a.N !== undefined && b.N !== undefined) [x, y] = [Number(a.N), Number(b.N)];
  else if (a.S !== undefined && b.S !== undefined) [x, y] = [a.S, b.S];
  else return op === '<>';
  switch (op) {
    case '=': return x === y;
    case '<>': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
    default: throw validation(`unknown comparator ${op}`);
  }
}

/** A condition expression: comparisons, `a IN (b, c…)`, attribute_exists/attribute_not_exists, AND, OR, NOT, parentheses. */
function condition(expression: string | undefined, item: Item | undefined, names: Record<string, string> = {}, values: Item = {}): boolean {
  if (expression === undefined) return true;
  const doc = item ?? {};
  const t = new Tokens(expression);
  const operand = () => (t.peek()?.startsWith('#') ? doc[t.name(names)] : t.value(values));
  const primary = (): boolean => {
    const next = t.peek();
    if (next === 'NOT') { t.take(); return !primary(); }
    if (next === '(') { t.take(); const v = or(); t.take(')'); return v; }
    if (next === 'attribute_exists' || next === 'attribute_not_exists') {
      t.take(); t.take('(');
      const exists = doc[t.name(names)] !== undefined;
      t.take(')');
      return next === 'attribute_exists' ? exists : !exists;
    }
    const left = operand();
    const op = t.take();
    if (op === 'IN') {
      t.take('(');
      let found = compare(left, '=', operand());
      while (t.peek() === ',') { t.take(); found = compare(left, '=', operand()) || found; }
      t.take(')');
      return found;
    }
    return compare(left, op, operand());
  };
  const and = (): boolean => {
    let v = primary();
    while (t.peek() === 'AND') { t.take(); const r = primary(); v = v && r; }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (t.peek() === 'OR') { t.take(); const r = and(); v = v || r; }
    return v;
  };
  const result = or();
  t.end();
  return result;
}

/**
 * An update expression: SET #a = :v | #b | if_not_exists(#c, :v), ADD #n :number, REMOVE #a (every right-hand side is
 * read from the item as it was before the update, as in DynamoDB). Returns the new item and the attributes it set.
 */
function applyUpdate(expression: string, before: Item | undefined, key: Item, names: Record<string, string> = {}, values: Item = {}) {
  const old: Item = before ?? {};
  const item: Item = { ...structuredClone(old), ...key };
  const changed: string[] = [];
  const t = new Tokens(expression);
  while (t.peek() !== undefined) {
    const clause = t.take();
    if (clause !== 'SET' && clause !== 'ADD' && clause !== 'REMOVE') throw validation(`Invalid update expression: ${expression}`);
    for (let more = true; more; more = t.peek() === ',' && t.take() === ',') {
      const target = t.name(names);
      if (target === KEY) throw validation('Cannot update attribute pk. This attribute is part of the key');
      if (clause === 'REMOVE') {
        delete item[target];
        continue;
      }
      let value: AttributeValue;
      if (clause === 'ADD') {
        const by = t.value(values);
        if (by?.N === undefined || (old[target] !== undefined && old[target].N === undefined)) throw validation('ADD of a number to a number only');
        value = { N: String(Number(old[target]?.N ?? 0) + Number(by.N)) };
      } else {
        t.take('=');
        if (t.peek() === 'if_not_exists') {
          t.take(); t.take('(');
          const path = t.name(names);
          t.take(',');
          const fallback = t.value(values);
          t.take(')');
          value = old[path] ?? fallback;
        } else {
          value = t.peek()?.startsWith('#') ? old[t.name(names)] : t.value(values);
        }
      }
      if (value === undefined) throw validation(`The provided expression refers to an attribute that does not exist in the item: ${expression}`);
      item[target] = structuredClone(value);
      changed.push(target);
    }
  }
  return { item, changed };
}

function project(item: Item, expression: string | undefined, names: Record<string, string> = {}): Item {
  if (expression === undefined) return structuredClone(item);
  const t = new Tokens(expression);
  const out: Item = {};
  for (let more = true; more; more = t.peek() === ',' && t.take() === ',') {
    const name = t.name(names);
    if (item[name] !== undefined) out[name] = structuredClone(item[name]);
  }
  t.end();
  return out;
}

function keyOf(key: Item | undefined): string {
  const pk = key?.[KEY]?.S;
  if (pk === undefined || Object.keys(key!).length !== 1) throw validation('The provided key element does not match the schema');
  return pk;
}

/** DynamoDB: GetItem, PutItem, UpdateItem and TransactWriteItems (of Put and Update) on tables keyed by `pk`. */
export class FakeDynamoDB {
  /** The items of each table by their `pk`. */
  public readonly tables = new Map<string, Map<string, Item>>();
  /** The operations this fake answers, by AWS name. */
  public readonly operations: FakeOperations = {
    GetItem: (input: GetItemCommandInput) => this.getItem(input),
    PutItem: (input: PutItemCommandInput) => this.putItem(input),
    UpdateItem: (input: UpdateItemCommandInput) => this.updateItem(input),
    TransactWriteItems: (input: TransactWriteItemsCommandInput) => this.transactWriteItems(input),
  };

  /** `counts` hears of each item a read looks up (found or not) and each item a write creates or changes. */
  constructor(tableNames: string[], private readonly counts: { itemRead?: () => void; itemWritten?: () => void } = {}) {
    for (const name of tableNames) this.tables.set(name, new Map());
  }

  /** A table's items by `pk`; an unknown table is a ResourceNotFoundException. */
  public table(name: string | undefined): Map<string, Item> {
    const table = this.tables.get(name ?? '');
    if (!table) throw Object.assign(new Error(`Requested resource not found: ${name}`), { name: 'ResourceNotFoundException' });
    return table;
  }

  /** GetItem, with its projection expression. */
  public getItem(input: GetItemCommandInput) {
    checkPlaceholders([input.ProjectionExpression], input.ExpressionAttributeNames);
    const item = this.table(input.TableName).get(keyOf(input.Key));
    this.counts.itemRead?.();
    return item ? { Item: project(item, input.ProjectionExpression, input.ExpressionAttributeNames) } : {};
  }

  /** PutItem, with its condition expression. */
  public putItem(input: PutItemCommandInput) {
    const write = this.put(input);
    if (!write.ok) throw conditionFailed();
    write.apply();
    return {};
  }

  /** UpdateItem, with its condition expression and ReturnValues NONE, ALL_NEW or UPDATED_NEW. */
  public updateItem(input: UpdateItemCommandInput) {
    const write = this.update(input);
    if (!write.ok) throw conditionFailed();
    const { item, changed } = write.apply();
    if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(item) };
    if (input.ReturnValues === 'UPDATED_NEW') return { Attributes: Object.fromEntries(changed.map((n) => [n, structuredClone(item[n])])) };
    if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE') throw validation(`the fake has no ReturnValues ${input.ReturnValues}`);
    return {};
  }

  /** TransactWriteItems of 1 to 100 Puts and Updates on different items: all written, or none and the reasons why. */
  public transactWriteItems(input: TransactWriteItemsCommandInput) {
    const items = input.TransactItems ?? [];
    if (items.length === 0 || items.length > 100) throw validation('a transaction holds 1 to 100 items');
    const writes = items.map((t) => {
      if (t.Put) return { key: `${t.Put.TableName}|${keyOf({ [KEY]: t.Put.Item?.[KEY] } as Item)}`, ...this.put(t.Put as PutItemCommandInput) };
      if (t.Update) return { key: `${t.Update.TableName}|${keyOf(t.Update.Key)}`, ...this.update(t.Update as UpdateItemCommandInput) };
      throw validation('the fake answers transactions of Put and Update only');
    });
    if (new Set(writes.map((w) => w.key)).size !== writes.length) throw validation('Transaction request cannot include multiple operations on one item');
    if (writes.some((w) => !w.ok)) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
        $metadata: {},
        CancellationReasons: writes.map((w) => (w.ok ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' })),
      });
    }
    for (const w of writes) w.apply();
    return {};
  }

  private put(input: PutItemCommandInput) {
    checkPlaceholders([input.ConditionExpression], input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    const table = this.table(input.TableName);
    const key = keyOf({ [KEY]: input.Item?.[KEY] } as Item);
    const ok = condition(input.ConditionExpression, table.get(key), input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    return {
      ok,
      apply: () => {
        table.set(key, structuredClone(input.Item!));
        this.counts.itemWritten?.();
      },
    };
  }

  private update(input: UpdateItemCommandInput) {
    checkPlaceholders([input.ConditionExpression, input.UpdateExpression], input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    if (!input.UpdateExpression) throw validation('the fake needs an UpdateExpression');
    const table = this.table(input.TableName);
    const key = keyOf(input.Key);
    const current = table.get(key);
    const ok = condition(input.ConditionExpression, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    return {
      ok,
      apply: () => {
        const { ExpressionAttributeNames: names, ExpressionAttributeValues: values } = input;
        const out = applyUpdate(input.UpdateExpression!, current, { [KEY]: { S: key } }, names, values);
        table.set(key, out.item);
        this.counts.itemWritten?.();
        return out;
      },
    };
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Cognito
// ------------------------------------------------------------------------------------------------------------------

/** A user of the fake user pool (enabled unless `enabled` is false). */
export interface FakeUser {
  readonly username: string;
  readonly email?: string;
  readonly enabled?: boolean;
  readonly status: string;
}

const userRecord = (u: FakeUser) => ({ Username: u.username, Enabled: u.enabled ?? true, UserStatus: u.status as UserStatusType });
const attributes = (u: FakeUser) => [
  { Name: 'sub', Value: u.username },
  ...(u.email ? [{ Name: 'email', Value: u.email }, { Name: 'email_verified', Value: 'true' }] : []),
];

/** Cognito: AdminGetUser and ListUsers on one user pool. */
export class FakeCognito {
  /** In creation order, as ListUsers pages through them. */
  public readonly users: FakeUser[] = [];
  /** The operations this fake answers, by AWS name. */
  public readonly operations: FakeOperations = {
    AdminGetUser: (input: AdminGetUserCommandInput) => this.adminGetUser(input),
    ListUsers: (input: ListUsersCommandInput) => this.listUsers(input),
  };
  private readonly byName = new Map<string, FakeUser>();

  /** `counts` hears how many user records each answer holds. */
  constructor(private readonly userPoolId: string, private readonly counts: { usersReturned?: (count: number) => void } = {}) {}

  /** Adds a user; one of the same name is an error. */
  public add(user: FakeUser): void {
    if (this.byName.has(user.username)) throw new Error(`user ${user.username} exists`);
    this.users.push(user);
    this.byName.set(user.username, user);
  }

  /** AdminGetUser: sub and, when the user has one, a verified e-mail address. */
  public adminGetUser(input: AdminGetUserCommandInput) {
    const user = input.UserPoolId === this.userPoolId ? this.byName.get(input.Username ?? '') : undefined;
    if (!user) throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
    this.counts.usersReturned?.(1);
    return { ...userRecord(user), UserAttributes: attributes(user) };
  }

  /** ListUsers, at most LIST_USERS_PAGE users a page. */
  public listUsers(input: ListUsersCommandInput) {
    if (input.UserPoolId !== this.userPoolId) throw Object.assign(new Error('User pool does not exist.'), { name: 'ResourceNotFoundException' });
    const limit = input.Limit ?? LIST_USERS_PAGE;
    if (limit < 1 || limit > LIST_USERS_PAGE) throw validation(`Limit must be 1 to ${LIST_USERS_PAGE}`);
    const start = Number(input.PaginationToken ?? 0);
    const page = this.users.slice(start, start + limit);
    this.counts.usersReturned?.(page.length);
    return {
      Users: page.map((u) => ({ ...userRecord(u), Attributes: attributes(u) })),
      PaginationToken: start + limit < this.users.length ? String(start + limit) : undefined,
    };
  }
}

// ------------------------------------------------------------------------------------------------------------------
// Secrets Manager
// ------------------------------------------------------------------------------------------------------------------

/** A secret of the fake Secrets Manager, with its versions and staging labels. */
export interface FakeSecret {
  name: string;
  kmsKeyId?: string;
  description?: string;
  tags: { Key: string; Value: string }[];
  versions: { id: string; value: string; stages: string[]; created: Date }[];
  deletedDate?: Date;
  rotation?: { lambdaArn?: string; rules?: { ScheduleExpression?: string; AutomaticallyAfterDays?: number } };
}

/** Secrets Manager: create, describe, restore, list versions, put a value and set up rotation. */
export class FakeSecretsManager {
  /** The secrets by name. */
  public readonly secrets = new Map<string, FakeSecret>();
  /** The operations this fake answers, by AWS name. */
  public readonly operations: FakeOperations = {
    CreateSecret: (input: CreateSecretCommandInput) => this.createSecret(input),
    DescribeSecret: (input: { SecretId?: string }) => this.describeSecret(input),
    RestoreSecret: (input: { SecretId?: string }) => this.restoreSecret(input),
    ListSecretVersionIds: (input: { SecretId?: string }) => this.listSecretVersionIds(input),
    PutSecretValue: (input: PutSecretValueCommandInput) => this.putSecretValue(input),
    RotateSecret: (input: RotateSecretCommandInput) => this.rotateSecret(input),
  };

  /** `now` dates each version; `newId` names it. */
  constructor(private readonly now: () => Date, private readonly newId: NewId = idCounter()) {}

  /** Adds a secret with one AWSCURRENT version. */
  public add(name: string, tags: Record<string, string>, rotation?: FakeSecret['rotation'], value = ''): FakeSecret {
    const secret: FakeSecret = {
      name,
      tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      versions: [{ id: this.newId('v'), value, stages: ['AWSCURRENT'], created: this.now() }],
      rotation,
    };
    this.secrets.set(name, secret);
    return secret;
  }

  /** CreateSecret; a name in use, or scheduled for deletion, is refused. */
  public createSecret(input: CreateSecretCommandInput) {
    const existing = this.secrets.get(input.Name!);
    if (existing?.deletedDate) {
      throw new InvalidRequestException({ message: 'You can\'t create this secret because a secret with this name is already scheduled for deletion.', $metadata: {} });
    }
    if (existing) throw new ResourceExistsException({ message: `The operation failed because the secret ${input.Name} already exists.`, $metadata: {} });
    this.secrets.set(input.Name!, {
      name: input.Name!,
      kmsKeyId: input.KmsKeyId,
      description: input.Description,
      tags: (input.Tags ?? []).map((t) => ({ Key: t.Key!, Value: t.Value! })),
      versions: [{ id: this.newId('v'), value: input.SecretString!, stages: ['AWSCURRENT'], created: this.now() }],
    });
    return { Name: input.Name, ARN: this.arn(input.Name!) };
  }

  /** The secret of a name or ARN, deleted or not; another is a ResourceNotFoundException. */
  public secret(id: string | undefined): FakeSecret {
    const s = this.secrets.get(id ?? '') ?? [...this.secrets.values()].find((x) => this.arn(x.name) === id);
    if (!s) throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: {} });
    return s;
  }

  /** DescribeSecret. */
  public describeSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    return {
      ARN: this.arn(s.name),
      Name: s.name,
      KmsKeyId: s.kmsKeyId,
      Tags: structuredClone(s.tags),
      DeletedDate: s.deletedDate,
      RotationEnabled: s.rotation !== undefined,
      RotationLambdaARN: s.rotation?.lambdaArn,
      RotationRules: s.rotation?.rules && structuredClone(s.rotation.rules),
      VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, [...v.stages]])),
    };
  }

  /** The secret of a name or ARN, which must not be scheduled for deletion. */
  public live(id: string | undefined): FakeSecret {
    const s = this.secret(id);
    if (s.deletedDate) throw new InvalidRequestException({ message: 'You can\'t perform this operation on the secret because it was marked for deletion.', $metadata: {} });
    return s;
  }

  /** PutSecretValue, idempotent for a repeated ClientRequestToken with the same value. */
  public putSecretValue(input: { SecretId?: string; SecretString?: string; VersionStages?: string[]; ClientRequestToken?: string }) {
    const s = this.live(input.SecretId);
    const stages = input.VersionStages ?? ['AWSCURRENT'];
    const id = input.ClientRequestToken ?? this.newId('v');
    const same = s.versions.find((v) => v.id === id);
    if (same) {
      if (same.value !== input.SecretString) throw new ResourceExistsException({ message: 'A version with this token exists with another value', $metadata: {} });
      return { VersionId: id };
    }
    for (const stage of stages) {
      for (const v of s.versions) {
        if (v.stages.includes(stage)) v.stages = v.stages.filter((x) => x !== stage);
        if (stage === 'AWSCURRENT') v.stages = v.stages.filter((x) => x !== 'AWSPREVIOUS');
      }
      if (stage === 'AWSCURRENT') {
        const previous = s.versions.find((v) => v.stages.length === 0 && v === s.versions[s.versions.length - 1]);
        previous?.stages.push('AWSPREVIOUS');
      }
    }
    s.versions.push({ id, value: input.SecretString!, stages: [...stages], created: this.now() });
    return { VersionId: id };
  }

  /** RotateSecret: sets the rotation function and rules (it never rotates here). */
  public rotateSecret(input: RotateSecretCommandInput) {
    const s = this.live(input.SecretId);
    if (!input.RotationLambdaARN && !s.rotation) throw new InvalidRequestException({ message: 'No Lambda rotation function ARN is associated with this secret.', $metadata: {} });
    s.rotation = {
      lambdaArn: input.RotationLambdaARN ?? s.rotation?.lambdaArn,
      rules: input.RotationRules ? { ...input.RotationRules } : s.rotation?.rules,
    };
    return { ARN: this.arn(s.name) };
  }

  /** RestoreSecret: cancels a scheduled deletion. */
  public restoreSecret(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    s.deletedDate = undefined;
    return { ARN: this.arn(s.name), Name: s.name };
  }

  /** ListSecretVersionIds: the versions with a staging label. */
  public listSecretVersionIds(input: { SecretId?: string }) {
    const s = this.secret(input.SecretId);
    const versions = s.versions.filter((v) => v.stages.length > 0);
    return { Versions: versions.map((v) => ({ VersionId: v.id, VersionStages: [...v.stages], CreatedDate: v.created })) };
  }

  private arn(name: string) {
    return `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
  }
}

// ------------------------------------------------------------------------------------------------------------------
// EKS Pod Identity
// ------------------------------------------------------------------------------------------------------------------

/** A Pod Identity association of the fake cluster. */
export interface FakeAssociation {
  readonly associationId: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
}

/** EKS Pod Identity on one cluster: create, list (by namespace and service account) and describe associations. */
export class FakeEks {
  /** In creation order. */
  public readonly associations: FakeAssociation[] = [];
  /** The operations this fake answers, by AWS name. */
  public readonly operations: FakeOperations = {
    CreatePodIdentityAssociation: (input: CreatePodIdentityAssociationCommandInput) => this.createPodIdentityAssociation(input),
    ListPodIdentityAssociations: (input: ListPodIdentityAssociationsCommandInput) => this.listPodIdentityAssociations(input),
    DescribePodIdentityAssociation: (input: DescribePodIdentityAssociationCommandInput) => this.describePodIdentityAssociation(input),
  };

  /** `newId` names each association. */
  constructor(private readonly clusterName: string, private readonly newId: NewId = idCounter()) {}

  /** Adds an association of the cluster. */
  public add(namespace: string, serviceAccount: string, roleArn: string): FakeAssociation {
    const association = { associationId: this.newId('a'), clusterName: this.clusterName, namespace, serviceAccount, roleArn };
    this.associations.push(association);
    return association;
  }

  /** CreatePodIdentityAssociation; a second one for a service account is refused. */
  public createPodIdentityAssociation(input: CreatePodIdentityAssociationCommandInput) {
    this.cluster(input.clusterName);
    if (this.associations.some((a) => a.namespace === input.namespace && a.serviceAccount === input.serviceAccount)) {
      throw new ResourceInUseException({ message: 'Association already exists', $metadata: {} });
    }
    return { association: this.add(input.namespace!, input.serviceAccount!, input.roleArn!) };
  }

  /** ListPodIdentityAssociations of a namespace, and of a service account when one is given. */
  public listPodIdentityAssociations(input: ListPodIdentityAssociationsCommandInput) {
    this.cluster(input.clusterName);
    return {
      associations: this.associations
        .filter((a) => a.namespace === input.namespace && (input.serviceAccount === undefined || a.serviceAccount === input.serviceAccount))
        .map(({ roleArn, ...summary }) => summary),
    };
  }

  /** DescribePodIdentityAssociation. */
  public describePodIdentityAssociation(input: DescribePodIdentityAssociationCommandInput) {
    this.cluster(input.clusterName);
    const association = this.associations.find((a) => a.associationId === input.associationId);
    if (!association) throw new EksResourceNotFoundException({ message: 'No association', $metadata: {} });
    return { association };
  }

  private cluster(name: string | undefined): void {
    if (name !== this.clusterName) throw new EksResourceNotFoundException({ message: `No cluster found for name: ${name}.`, $metadata: {} });
  }
}

// ------------------------------------------------------------------------------------------------------------------
// SQS
// ------------------------------------------------------------------------------------------------------------------

/** SQS: SendMessage to one queue, whose messages stay in `queue` until taken. */
export class FakeSqs {
  /** The messages sent, oldest first. */
  public readonly queue: { messageId: string; body: string }[] = [];
  /** The operations this fake answers, by AWS name. */
  public readonly operations: FakeOperations = {
    SendMessage: (input: SendMessageCommandInput) => this.sendMessage(input),
  };
  private ids = 0;

  constructor(private readonly queueUrl: string) {}

  /** SendMessage. */
  public sendMessage(input: SendMessageCommandInput) {
    if (input.QueueUrl !== this.queueUrl) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
    const messageId = `m-${++this.ids}`;
    this.queue.push({ messageId, body: input.MessageBody! });
    return { MessageId: messageId };
  }
}
