/**
 * What one more self-service sign-up and one more provisioning cost with 10, 1,000 and 10,000 users and tenants
 * already there, counted in API calls: the real handlers (the pre sign-up trigger; the post-confirmation trigger and
 * the provisioner) over real AWS SDK clients whose requests are answered in the process, by counting fakes of
 * DynamoDB, Cognito, Secrets Manager, EKS and SQS, and a counting in-memory cluster (test/.../memory-kube.ts). Next to
 * them, the design this replaced: a pre sign-up that listed every user of the pool (ListUsers, 60 users a page).
 *
 * Prints a Markdown table (AWS calls by service and operation, Kubernetes calls, DynamoDB items read and written,
 * Cognito users returned) and the ratio calls(10,000) / calls(10) of each flow. Exits non-zero when any count of ours
 * differs between sizes (the cost of a sign-up or a tenant must not depend on how many there are), or when a flow
 * does not end as it should (sign-up admitted; tenant ACTIVE and counted).
 *
 *   npx ts-node -r tsconfig-paths/register --project tsconfig.dev.json bench/self-service.ts
 */
import {
  AdminGetUserCommandInput, CognitoIdentityProviderClient, ListUsersCommand, ListUsersCommandInput, UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommandInput, PutItemCommandInput, TransactionCanceledException,
  TransactWriteItemsCommandInput, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePodIdentityAssociationCommandInput, DescribePodIdentityAssociationCommandInput, EKSClient, ListPodIdentityAssociationsCommandInput,
  ResourceInUseException, ResourceNotFoundException as EksResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  CreateSecretCommandInput, InvalidRequestException, PutSecretValueCommandInput, ResourceExistsException, ResourceNotFoundException,
  RotateSecretCommandInput, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { samplePlatform } from '../oracles/lib/tenant-sample';
import {
  PROVISIONED_BY_SELF_SERVICE, TAG_PROVISIONED_BY, TAG_TENANT_NAMESPACE, TENANT_COUNT_KEY, signUpCounterKey, tenantKey, userKey,
} from '../src/platform/self-service/contract';
import { createHandler as createPostConfirmation } from '../src/platform/self-service/post-confirmation.lambda';
import { createHandler as createPreSignUp, PreSignUpEvent } from '../src/platform/self-service/pre-sign-up.lambda';
import { createHandler as createProvisioner, provisionConfigFromEnvironment } from '../src/platform/self-service/provision';
import { hourBucket } from '../src/platform/self-service/sign-up-limit';
import { tenantNameCandidates } from '../src/platform/self-service/tenant-naming';
import { GATEWAY_NAME, PlatformSpec, renderTenant } from '../src/platform/tenant-manifests';
import { gatewayTokenSecretName, tenantNamespace } from '../src/platform/tenant-spec';
import { MemoryKube } from '../test/platform/self-service/memory-kube';

const SIZES = [10, 1_000, 10_000];
const LIST_USERS_PAGE = 60; // Cognito's largest ListUsers page

// ------------------------------------------------------------------------------------------------------------------
// Counting
// ------------------------------------------------------------------------------------------------------------------

/** What one flow cost. */
class Tally {
  /** AWS calls by `Service Operation`. */
  public readonly aws = new Map<string, number>();
  /** Cluster API calls by verb (apply, get, delete). */
  public readonly kube = new Map<string, number>();
  /** DynamoDB items looked up by reads (GetItem: one, found or not; a Query or Scan would add every item it reads). */
  public itemsRead = 0;
  /** DynamoDB items created or changed (a failed condition writes nothing). */
  public itemsWritten = 0;
  /** Cognito user records answered (AdminGetUser: one; ListUsers: one per listed user). */
  public usersReturned = 0;

  public awsCalls(): number {
    return sum(this.aws);
  }

  public kubeCalls(): number {
    return sum(this.kube);
  }

  /** Everything counted, for comparing sizes. */
  public signature(): string {
    return JSON.stringify([[...this.aws].sort(), [...this.kube].sort(), this.itemsRead, this.itemsWritten, this.usersReturned]);
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const bump = (m: Map<string, number>, key: string, by = 1) => m.set(key, (m.get(key) ?? 0) + by);

/** The flow being measured; the fakes count into it. Set up work (pre-population) goes to a tally nobody reads. */
let tally = new Tally();
/** Operations a handler called that no fake answers: the benchmark fails and says which. */
const unsupported: string[] = [];

// ------------------------------------------------------------------------------------------------------------------
// Real SDK clients answered in memory: a middleware at the front of the stack (before serialization, signing,
// retries and the network) counts the command and returns the fake's answer, or throws the fake's error.
// ------------------------------------------------------------------------------------------------------------------

type Fake = Record<string, (input: any) => object>;
const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };

function answeredBy<C extends { middlewareStack: unknown }>(client: C, service: string, fake: Fake): C {
  const middleware = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
    const operation = String(context.commandName).replace(/Command$/, '');
    bump(tally.aws, `${service} ${operation}`);
    const answer = fake[operation];
    if (!answer) {
      unsupported.push(`${service} ${operation}`);
      throw new Error(`the benchmark's ${service} fake does not answer ${operation}; extend bench/self-service.ts`);
    }
    return { output: { $metadata: { httpStatusCode: 200 }, ...answer(structuredClone(args.input)) } };
  };
  (client.middlewareStack as { add(m: unknown, options: object): void }).add(middleware, { step: 'initialize', priority: 'high', name: 'benchInMemory' });
  return client;
}

// ------------------------------------------------------------------------------------------------------------------
// DynamoDB: tables keyed by `pk` (a string), with the condition, update and projection expressions the handlers use
// evaluated, and placeholders checked the way DynamoDB checks them (every one defined and used). Anything else is a
// ValidationException, so a handler that changed its expressions fails here instead of being counted wrongly.
// ------------------------------------------------------------------------------------------------------------------

type Item = Record<string, AttributeValue>;
const KEY = 'pk';
const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function checkPlaceholders(expressions: (string | undefined)[], names: Record<string, string> = {}, values: Item = {}): void {
  const text = expressions.filter((e) => e !== undefined).join(' ');
  const usedNames = new Set(text.match(/#\w+/g) ?? []);
  const usedValues = new Set(text.match(/:\w+/g) ?? []);
  const wrong = [...usedNames].find((n) => !(n in names)) ?? [...usedValues].find((v) => !(v in values))
    ?? Object.keys(names).find((n) => !usedNames.has(n)) ?? Object.keys(values).find((v) => !usedValues.has(v));
  if (wrong) throw validation(`expression attribute ${wrong} is used but not defined, or defined but not used`);
}

/** Tokens of condition, update and projection expressions; a bare attribute name (no placeholder) does not tokenize. */
class Tokens {
  private readonly tokens: string[] = [];
  private i = 0;

  constructor(private readonly text: string) {
    const re = /\s*((?:attribute_not_exists|attribute_exists|if_not_exists|AND|OR|NOT|SET|ADD|REMOVE)\b|<>|<=|>=|=|<|>|[(),]|[#:]\w+)/y;
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

/** A condition expression: comparisons, attribute_exists/attribute_not_exists, AND, OR, NOT, parentheses. */
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

class FakeDynamoDB {
  public readonly tables = new Map<string, Map<string, Item>>();

  constructor(...tableNames: string[]) {
    for (const name of tableNames) this.tables.set(name, new Map());
  }

  public table(name: string | undefined): Map<string, Item> {
    const table = this.tables.get(name ?? '');
    if (!table) throw Object.assign(new Error(`Requested resource not found: ${name}`), { name: 'ResourceNotFoundException' });
    return table;
  }

  public client(): DynamoDBClient {
    return answeredBy(new DynamoDBClient(CLIENT_CONFIG), 'DynamoDB', {
      GetItem: (input: GetItemCommandInput) => {
        checkPlaceholders([input.ProjectionExpression], input.ExpressionAttributeNames);
        const item = this.table(input.TableName).get(keyOf(input.Key));
        tally.itemsRead++;
        return item ? { Item: project(item, input.ProjectionExpression, input.ExpressionAttributeNames) } : {};
      },
      PutItem: (input: PutItemCommandInput) => {
        const write = this.put(input);
        if (!write.ok) throw conditionFailed();
        write.apply();
        return {};
      },
      UpdateItem: (input: UpdateItemCommandInput) => {
        const write = this.update(input);
        if (!write.ok) throw conditionFailed();
        const { item, changed } = write.apply();
        if (input.ReturnValues === 'ALL_NEW') return { Attributes: structuredClone(item) };
        if (input.ReturnValues === 'UPDATED_NEW') return { Attributes: Object.fromEntries(changed.map((n) => [n, structuredClone(item[n])])) };
        if (input.ReturnValues !== undefined && input.ReturnValues !== 'NONE') throw validation(`the fake has no ReturnValues ${input.ReturnValues}`);
        return {};
      },
      TransactWriteItems: (input: TransactWriteItemsCommandInput) => {
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
      },
    });
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
        tally.itemsWritten++;
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
        tally.itemsWritten++;
        return out;
      },
    };
  }
}

function keyOf(key: Item | undefined): string {
  const pk = key?.[KEY]?.S;
  if (pk === undefined || Object.keys(key!).length !== 1) throw validation('The provided key element does not match the schema');
  return pk;
}

// ------------------------------------------------------------------------------------------------------------------
// Cognito, Secrets Manager, EKS Pod Identity, SQS
// ------------------------------------------------------------------------------------------------------------------

interface FakeUser {
  readonly username: string;
  readonly email: string;
  readonly status: 'UNCONFIRMED' | 'CONFIRMED';
}

class FakeCognito {
  /** In creation order, as ListUsers pages through them. */
  public readonly users: FakeUser[] = [];
  private readonly byName = new Map<string, FakeUser>();

  constructor(private readonly userPoolId: string) {}

  public add(user: FakeUser): void {
    if (this.byName.has(user.username)) throw new Error(`user ${user.username} exists`);
    this.users.push(user);
    this.byName.set(user.username, user);
  }

  public client(): CognitoIdentityProviderClient {
    const attributes = (u: FakeUser) => [{ Name: 'sub', Value: u.username }, { Name: 'email', Value: u.email }, { Name: 'email_verified', Value: 'true' }];
    return answeredBy(new CognitoIdentityProviderClient(CLIENT_CONFIG), 'Cognito', {
      AdminGetUser: (input: AdminGetUserCommandInput) => {
        const user = input.UserPoolId === this.userPoolId ? this.byName.get(input.Username ?? '') : undefined;
        if (!user) throw new UserNotFoundException({ message: 'User does not exist.', $metadata: {} });
        tally.usersReturned++;
        return { Username: user.username, Enabled: true, UserStatus: user.status, UserAttributes: attributes(user) };
      },
      ListUsers: (input: ListUsersCommandInput) => {
        if (input.UserPoolId !== this.userPoolId) throw Object.assign(new Error('User pool does not exist.'), { name: 'ResourceNotFoundException' });
        const limit = input.Limit ?? LIST_USERS_PAGE;
        if (limit < 1 || limit > LIST_USERS_PAGE) throw validation(`Limit must be 1 to ${LIST_USERS_PAGE}`);
        const start = Number(input.PaginationToken ?? 0);
        const page = this.users.slice(start, start + limit);
        tally.usersReturned += page.length;
        return {
          Users: page.map((u) => ({ Username: u.username, Enabled: true, UserStatus: u.status, Attributes: attributes(u) })),
          PaginationToken: start + limit < this.users.length ? String(start + limit) : undefined,
        };
      },
    });
  }
}

interface FakeSecret {
  readonly name: string;
  tags: { Key: string; Value: string }[];
  versions: { id: string; stages: string[]; created: Date }[];
  deletedDate?: Date;
  rotation?: { lambdaArn?: string; scheduleExpression?: string };
}

class FakeSecretsManager {
  public readonly secrets = new Map<string, FakeSecret>();
  private ids = 0;

  constructor(private readonly now: () => Date) {}

  public add(name: string, tags: Record<string, string>, rotation?: FakeSecret['rotation']): void {
    this.secrets.set(name, { name, tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), versions: [this.version(['AWSCURRENT'])], rotation });
  }

  public client(): SecretsManagerClient {
    const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}-AbCdEf`;
    const find = (id: string | undefined, live = false) => {
      const s = this.secrets.get(id ?? '') ?? [...this.secrets.values()].find((x) => arn(x.name) === id);
      if (!s) throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: {} });
      if (live && s.deletedDate) throw new InvalidRequestException({ message: 'The secret is marked for deletion.', $metadata: {} });
      return s;
    };
    return answeredBy(new SecretsManagerClient(CLIENT_CONFIG), 'Secrets Manager', {
      CreateSecret: (input: CreateSecretCommandInput) => {
        const existing = this.secrets.get(input.Name ?? '');
        if (existing?.deletedDate) throw new InvalidRequestException({ message: 'A secret with this name is scheduled for deletion.', $metadata: {} });
        if (existing) throw new ResourceExistsException({ message: `The secret ${input.Name} already exists.`, $metadata: {} });
        this.add(input.Name!, Object.fromEntries((input.Tags ?? []).map((t) => [t.Key!, t.Value!])));
        return { Name: input.Name, ARN: arn(input.Name!) };
      },
      DescribeSecret: (input: { SecretId?: string }) => {
        const s = find(input.SecretId);
        return {
          Name: s.name,
          ARN: arn(s.name),
          Tags: structuredClone(s.tags),
          DeletedDate: s.deletedDate,
          RotationEnabled: s.rotation !== undefined,
          RotationLambdaARN: s.rotation?.lambdaArn,
          RotationRules: s.rotation && { ScheduleExpression: s.rotation.scheduleExpression },
        };
      },
      RestoreSecret: (input: { SecretId?: string }) => {
        const s = find(input.SecretId);
        s.deletedDate = undefined;
        return { Name: s.name, ARN: arn(s.name) };
      },
      ListSecretVersionIds: (input: { SecretId?: string }) => ({
        Versions: find(input.SecretId).versions.filter((v) => v.stages.length > 0)
          .map((v) => ({ VersionId: v.id, VersionStages: [...v.stages], CreatedDate: v.created })),
      }),
      PutSecretValue: (input: PutSecretValueCommandInput) => {
        const s = find(input.SecretId, true);
        for (const v of s.versions) v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : v.stages.filter((x) => x !== 'AWSPREVIOUS');
        const version = this.version(['AWSCURRENT']);
        s.versions.push(version);
        return { ARN: arn(s.name), VersionId: version.id };
      },
      RotateSecret: (input: RotateSecretCommandInput) => {
        const s = find(input.SecretId, true);
        s.rotation = { lambdaArn: input.RotationLambdaARN ?? s.rotation?.lambdaArn, scheduleExpression: input.RotationRules?.ScheduleExpression };
        return { Name: s.name, ARN: arn(s.name) };
      },
    });
  }

  private version(stages: string[]) {
    return { id: `v-${++this.ids}`, stages, created: this.now() };
  }
}

interface Association {
  readonly associationId: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
}

class FakeEks {
  /** By `<namespace>/<service account>`. */
  public readonly associations = new Map<string, Association>();
  private ids = 0;

  constructor(private readonly clusterName: string) {}

  public add(namespace: string, serviceAccount: string, roleArn: string): Association {
    const association = { associationId: `a-${++this.ids}`, clusterName: this.clusterName, namespace, serviceAccount, roleArn };
    this.associations.set(`${namespace}/${serviceAccount}`, association);
    return association;
  }

  public client(): EKSClient {
    const cluster = (name: string | undefined) => {
      if (name !== this.clusterName) throw new EksResourceNotFoundException({ message: `No cluster found for name: ${name}.`, $metadata: {} });
    };
    return answeredBy(new EKSClient(CLIENT_CONFIG), 'EKS', {
      CreatePodIdentityAssociation: (input: CreatePodIdentityAssociationCommandInput) => {
        cluster(input.clusterName);
        if (this.associations.has(`${input.namespace}/${input.serviceAccount}`)) {
          throw new ResourceInUseException({ message: 'Association already exists', $metadata: {} });
        }
        return { association: this.add(input.namespace!, input.serviceAccount!, input.roleArn!) };
      },
      // Filtered by namespace and service account, the way the provisioner asks: at most one answer.
      ListPodIdentityAssociations: (input: ListPodIdentityAssociationsCommandInput) => {
        cluster(input.clusterName);
        const found = this.associations.get(`${input.namespace}/${input.serviceAccount}`);
        const summary = found && { associationId: found.associationId, namespace: found.namespace, serviceAccount: found.serviceAccount };
        return { associations: summary ? [summary] : [] };
      },
      DescribePodIdentityAssociation: (input: DescribePodIdentityAssociationCommandInput) => {
        cluster(input.clusterName);
        const association = [...this.associations.values()].find((a) => a.associationId === input.associationId);
        if (!association) throw new EksResourceNotFoundException({ message: 'No association', $metadata: {} });
        return { association };
      },
    });
  }
}

class FakeSqs {
  public readonly queue: { messageId: string; body: string }[] = [];
  private ids = 0;

  constructor(private readonly queueUrl: string) {}

  public client(): SQSClient {
    return answeredBy(new SQSClient(CLIENT_CONFIG), 'SQS', {
      SendMessage: (input: SendMessageCommandInput) => {
        if (input.QueueUrl !== this.queueUrl) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
        const messageId = `m-${++this.ids}`;
        this.queue.push({ messageId, body: input.MessageBody! });
        return { MessageId: messageId };
      },
    });
  }
}

// ------------------------------------------------------------------------------------------------------------------
// One platform with N users and tenants
// ------------------------------------------------------------------------------------------------------------------

const POOL = 'us-east-1_BenchPool1';
const TENANTS = 'tenants';
const COUNTERS = 'signup-counters';
const CLUSTER = 'openclaw';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111122223333/openclaw-provisioning';
const ROLE = 'arn:aws:iam::111122223333:role/openclaw-tenant';
const ROTATION_FN = 'arn:aws:lambda:us-east-1:111122223333:function:openclaw-token-rotation';
const KMS = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const DEFAULTS = { cpu: '4', memory: '8Gi', pods: 10, budgetUsd: 75 };
const NOW = new Date('2026-11-21T10:17:42.000Z');
const HOUR_MS = 3_600_000;
/** The e-mail domains of the existing users; the new user signs up from the first, which already has a sign-up this hour. */
const DOMAINS = ['example.com', ...Array.from({ length: 99 }, (_, i) => `org-${i + 1}.example`)];
const SIGNUP_LIMIT = 5;
/** Far above the largest size, so neither flow is refused for the cap. */
const MAX_TENANTS = 100_000;
const existingUsername = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const NEW_USER = { username: '6b2f0a8e-0b1e-4f3e-9d3c-1e2f3a4b5c6d', email: 'newcomer@example.com' };

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

class Platform {
  public readonly dynamodb = new FakeDynamoDB(TENANTS, COUNTERS);
  public readonly cognito = new FakeCognito(POOL);
  public readonly secrets = new FakeSecretsManager(() => NOW);
  public readonly eks = new FakeEks(CLUSTER);
  public readonly sqs = new FakeSqs(QUEUE_URL);
  public readonly kube = new MemoryKube();

  /**
   * N confirmed users, each with an ACTIVE `USER#` record, a `TENANT#` claim, a gateway-token secret with its
   * rotation, a Pod Identity association, and its namespace and service account in the cluster; the tenant count N;
   * N sign-up counters over the 100 domains and the last N/100 hours (one of them this hour's of the new user's
   * domain, at 1 of 5).
   */
  constructor(public readonly size: number) {
    const tenants = this.dynamodb.table(TENANTS);
    const counters = this.dynamodb.table(COUNTERS);
    const at = new Date(NOW.getTime() - 30 * 24 * HOUR_MS).toISOString();
    const claimed = new Set<string>();
    for (let i = 0; i < size; i++) {
      const username = existingUsername(i);
      const email = `user${i}@${DOMAINS[i % DOMAINS.length]}`;
      const tenant = tenantNameCandidates(username).find((name) => !claimed.has(name))!;
      claimed.add(tenant);
      this.cognito.add({ username, email, status: 'CONFIRMED' });
      const steps: AttributeValue = { L: ['claim', 'gateway-token', 'rotation', 'pod-identity', 'manifests'].map(S) };
      const record: Item = { [KEY]: S(userKey(username)), username: S(username), email: S(email), tenant: S(tenant), status: S('ACTIVE') };
      tenants.set(userKey(username), { ...record, steps, createdAt: S(at), updatedAt: S(at), claimedAt: S(at) });
      tenants.set(tenantKey(tenant), { [KEY]: S(tenantKey(tenant)), username: S(username), createdAt: S(at) });
      const namespace = tenantNamespace(tenant);
      this.secrets.add(gatewayTokenSecretName(tenant),
        { [TAG_TENANT_NAMESPACE]: namespace, [TAG_PROVISIONED_BY]: PROVISIONED_BY_SELF_SERVICE },
        { lambdaArn: ROTATION_FN, scheduleExpression: 'rate(30 days)' });
      this.eks.add(namespace, GATEWAY_NAME, ROLE);
      // Each tenant's namespace and service account stand for its objects in the cluster: a whole tenant is 12
      // objects, ~18 KB, and 10,000 of them would be gigabytes of copies in the in-memory cluster, which the
      // provisioner never looks at anyway (it only applies its own tenant's objects, by name).
      void this.kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'openclaw.ai/tenant': tenant } } });
      void this.kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: GATEWAY_NAME, namespace } });
      const hour = new Date(NOW.getTime() - Math.floor(i / DOMAINS.length) * HOUR_MS);
      const hourStart = Math.floor(hour.getTime() / HOUR_MS) * 3_600;
      const counter = signUpCounterKey(DOMAINS[i % DOMAINS.length], hourBucket(hour));
      counters.set(counter, { [KEY]: S(counter), count: N(i === 0 ? 1 : 1 + (i % SIGNUP_LIMIT)), expiresAt: N(hourStart + 7_200) });
    }
    tenants.set(TENANT_COUNT_KEY, { [KEY]: S(TENANT_COUNT_KEY), count: N(size) });
    if (claimed.has(tenantNameCandidates(NEW_USER.username)[0])) throw new Error('the new user\'s first tenant name is taken: pick another username');
    this.kube.applied.splice(0); // the history of applies; only the objects stay
    this.kube.interceptor = (operation, effect) => {
      bump(tally.kube, operation.split(' ')[0]);
      return effect();
    };
  }
}

// ------------------------------------------------------------------------------------------------------------------
// The flows
// ------------------------------------------------------------------------------------------------------------------

/** Runs `flow` with a fresh tally and the handlers' console output kept (printed only when the benchmark fails). */
async function measure(flow: () => Promise<void>): Promise<{ tally: Tally; error?: string; output: string[] }> {
  tally = new Tally();
  const output: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...args: unknown[]) => { output.push(args.join(' ')); };
  console.error = console.log;
  try {
    await flow();
    return { tally, output };
  } catch (e) {
    return { tally, output, error: String((e as Error)?.message ?? e) };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** Our pre sign-up trigger: one more user of `example.com` signs up. */
async function ourSignUp(platform: Platform): Promise<void> {
  const handler = createPreSignUp({
    ddb: platform.dynamodb.client(),
    env: { TENANT_TABLE: TENANTS, COUNTER_TABLE: COUNTERS, ALLOWED_DOMAINS: DOMAINS.join(','), SIGNUPS_PER_DOMAIN_PER_HOUR: String(SIGNUP_LIMIT), MAX_TENANTS: String(MAX_TENANTS) },
    now: () => NOW,
  });
  const event: PreSignUpEvent = {
    version: '1',
    region: 'us-east-1',
    userPoolId: POOL,
    userName: NEW_USER.username,
    triggerSource: 'PreSignUp_SignUp',
    request: { userAttributes: { email: NEW_USER.email }, validationData: null },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
  const out = await handler(event);
  if (out.response.autoConfirmUser !== false) throw new Error('the sign-up came back auto-confirmed');
  const counter = platform.dynamodb.table(COUNTERS).get(signUpCounterKey('example.com', hourBucket(NOW)));
  if (counter?.count?.N !== '2') throw new Error(`the domain's counter for this hour is ${counter?.count?.N}, not 2`);
}

/**
 * The design this replaced, modelled: its pre sign-up listed every user of the pool on each sign-up, ListUsers at
 * most 60 users a page. Only that listing is modelled (against the same counting Cognito fake); whatever it then did
 * with the users is left out, so the model is a lower bound of its cost.
 */
async function replacedSignUp(platform: Platform): Promise<void> {
  const cognito = platform.cognito.client();
  let token: string | undefined;
  let users = 0;
  do {
    const page = await cognito.send(new ListUsersCommand({ UserPoolId: POOL, Limit: LIST_USERS_PAGE, PaginationToken: token }));
    users += page.Users?.length ?? 0;
    token = page.PaginationToken;
  } while (token);
  if (users !== platform.size) throw new Error(`listed ${users} users, not ${platform.size}`);
}

/**
 * Our provisioning of the new user, once Cognito has created and confirmed it: the post-confirmation trigger queues
 * the message, the queue delivers it (Lambda's event source mapping, not a call of ours) and the provisioner makes
 * the tenant. Ends with the record ACTIVE, the tenant counted, its secret, association and objects there.
 */
async function ourProvisioning(platform: Platform, platformSpec: PlatformSpec): Promise<void> {
  const confirm = createPostConfirmation({ sqs: platform.sqs.client(), env: { QUEUE_URL } });
  await confirm({
    version: '1',
    region: 'us-east-1',
    userPoolId: POOL,
    userName: NEW_USER.username,
    triggerSource: 'PostConfirmation_ConfirmSignUp',
    request: { userAttributes: { 'sub': NEW_USER.username, 'email': NEW_USER.email, 'email_verified': 'true', 'cognito:user_status': 'CONFIRMED' } },
    response: {},
  });
  const outcomes: unknown[] = [];
  const provision = createProvisioner({
    cognito: platform.cognito.client(),
    dynamodb: platform.dynamodb.client(),
    secrets: platform.secrets.client(),
    eks: platform.eks.client(),
    kube: () => platform.kube,
    config: () => provisionConfigFromEnvironment({
      TENANT_TABLE: TENANTS,
      MAX_TENANTS: String(MAX_TENANTS),
      CLUSTER_NAME: CLUSTER,
      TENANT_ROLE_ARN: ROLE,
      KMS_KEY_ARN: KMS,
      PLATFORM_SPEC: JSON.stringify(platformSpec),
      TENANT_DEFAULTS: JSON.stringify(DEFAULTS),
      ROTATION_FUNCTION_ARN: ROTATION_FN,
      ROTATION_DAYS: '30',
      USER_POOL_ID: POOL,
    }),
    log: (level, message, fields = {}) => {
      if (fields.outcome !== undefined) outcomes.push(fields.outcome);
      console.log(JSON.stringify({ level, message, ...fields }));
    },
    metric: (line) => console.log(line),
    now: () => NOW,
  });
  const delivered = platform.sqs.queue.splice(0);
  if (delivered.length !== 1) throw new Error(`${delivered.length} provisioning messages were queued, not 1`);
  const out = await provision({ Records: delivered.map((m) => ({ messageId: m.messageId, body: m.body })) });
  if (out.batchItemFailures.length > 0 || outcomes.join() !== 'provisioned') throw new Error(`the provisioning ended ${outcomes.join() || 'in an error'}`);

  const tenants = platform.dynamodb.table(TENANTS);
  const record = tenants.get(userKey(NEW_USER.username));
  const tenant = record?.tenant?.S ?? '';
  const rendered = renderTenant({ name: tenant, ...DEFAULTS }, platformSpec);
  const problems = [
    record?.status?.S !== 'ACTIVE' && `the record is ${record?.status?.S}`,
    tenants.get(tenantKey(tenant))?.username?.S !== NEW_USER.username && 'the tenant name is not claimed',
    tenants.get(TENANT_COUNT_KEY)?.count?.N !== String(platform.size + 1) && `the tenant count is ${tenants.get(TENANT_COUNT_KEY)?.count?.N}`,
    !platform.secrets.secrets.get(rendered.gatewayTokenSecretName)?.rotation && 'no rotating gateway-token secret',
    platform.eks.associations.get(`${rendered.namespace}/${rendered.serviceAccount}`)?.roleArn !== ROLE && 'no Pod Identity association',
    rendered.objects.some((o) => !platform.kube.object({ apiVersion: o.apiVersion, kind: o.kind, ...o.metadata }))
      && 'an object of the tenant is missing from the cluster',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`the tenant is not provisioned: ${problems.join('; ')}`);
}

// ------------------------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------------------------

interface Flow {
  readonly name: string;
  readonly ours: boolean;
  /** What happens before the flow and is not counted. */
  readonly before?: (platform: Platform) => void;
  readonly run: (platform: Platform, spec: PlatformSpec) => Promise<void>;
}

/** In the order they happen, on one platform per size. */
const FLOWS: Flow[] = [
  { name: 'sign-up (pre sign-up trigger)', ours: true, run: (p) => ourSignUp(p) },
  { name: 'sign-up, replaced design (ListUsers of every user, modelled)', ours: false, run: (p) => replacedSignUp(p) },
  {
    name: 'provisioning (post-confirmation trigger + provisioner)',
    ours: true,
    before: (p) => p.cognito.add({ ...NEW_USER, status: 'CONFIRMED' }), // Cognito creates and confirms the user
    run: (p, spec) => ourProvisioning(p, spec),
  },
];

const fmt = (n: number) => n.toLocaleString('en-US');

function byOperation(t: Tally): string {
  const services = new Map<string, string[]>();
  for (const [key, count] of [...t.aws].sort(([a], [b]) => a.localeCompare(b))) {
    const at = key.lastIndexOf(' ');
    const service = key.slice(0, at);
    services.set(service, [...(services.get(service) ?? []), `${key.slice(at + 1)} ${fmt(count)}`]);
  }
  return [...services].map(([service, ops]) => `${service}: ${ops.join(', ')}`).join('; ');
}

const kubeText = (t: Tally) => (t.kube.size === 0 ? '0' : [...t.kube].sort().map(([verb, count]) => `${verb} ${fmt(count)}`).join(', '));

async function main(): Promise<number> {
  const started = Date.now();
  const spec = samplePlatform();
  const results = new Map<string, Map<number, Tally>>(FLOWS.map((f) => [f.name, new Map()]));
  const failures: string[] = [];
  for (const size of SIZES) {
    const platform = new Platform(size);
    for (const flow of FLOWS) {
      flow.before?.(platform);
      const m = await measure(() => flow.run(platform, spec));
      results.get(flow.name)!.set(size, m.tally);
      if (m.error) failures.push([`${flow.name} with ${fmt(size)} users: ${m.error}`, ...m.output].join('\n    '));
    }
  }

  console.log('| flow | existing users and tenants | AWS calls by service and operation | AWS calls | Kubernetes calls | DynamoDB items read / written | Cognito users returned |');
  console.log('|---|---|---|---|---|---|---|');
  for (const flow of FLOWS) {
    for (const size of SIZES) {
      const t = results.get(flow.name)!.get(size)!;
      console.log(`| ${flow.name} | ${fmt(size)} | ${byOperation(t)} | ${fmt(t.awsCalls())} | ${kubeText(t)} | ${fmt(t.itemsRead)} / ${fmt(t.itemsWritten)} | ${fmt(t.usersReturned)} |`);
    }
  }
  console.log('');
  console.log(`| flow | ${SIZES.map((s) => `calls at ${fmt(s)}`).join(' | ')} | calls(${fmt(SIZES[SIZES.length - 1])}) / calls(${fmt(SIZES[0])}) |`);
  console.log(`|---|${SIZES.map(() => '---').join('|')}|---|`);
  for (const flow of FLOWS) {
    const tallies = SIZES.map((s) => results.get(flow.name)!.get(s)!);
    const calls = tallies.map((t) => t.awsCalls() + t.kubeCalls());
    console.log(`| ${flow.name} | ${calls.map(fmt).join(' | ')} | ${(calls[calls.length - 1] / calls[0]).toFixed(2)} |`);
    if (flow.ours) {
      for (const [i, t] of tallies.entries()) {
        if (t.signature() !== tallies[0].signature()) {
          failures.push(`${flow.name}: the counts with ${fmt(SIZES[i])} users differ from those with ${fmt(SIZES[0])}: ${t.signature()} vs ${tallies[0].signature()}`);
        }
      }
    } else {
      const listed = tallies.map((t) => t.aws.get('Cognito ListUsers') ?? 0);
      const expected = SIZES.map((s) => Math.ceil(s / LIST_USERS_PAGE));
      if (listed.join() !== expected.join()) failures.push(`${flow.name}: ListUsers calls ${listed.join(', ')}, expected ceil(N/60) = ${expected.join(', ')}`);
    }
  }
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s, counts are exact: every run gives the same table)`);
  for (const op of new Set(unsupported)) failures.push(`a handler called ${op}, which the benchmark's fakes do not answer`);
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
