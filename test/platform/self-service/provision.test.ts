import { AddressInfo } from 'node:net';
import { AdminGetUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateTableCommand, DynamoDBClient, GetItemCommand, GetItemCommandInput, PutItemCommand, PutItemCommandInput, TransactionCanceledException,
  TransactWriteItemsCommand, TransactWriteItemsCommandInput, UpdateItemCommand, UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePodIdentityAssociationCommand, DescribePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  CreateSecretCommand, CreateSecretCommandInput, DescribeSecretCommand, ListSecretVersionIdsCommand, PutSecretValueCommand,
  RestoreSecretCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { FakeCognito, FakeDynamoDB, FakeEks, FakeSecret, FakeSecretsManager, Item } from './fake-aws';
import { MemoryKube } from './memory-kube';
import { samplePlatform } from '../../../oracles/lib/tenant-sample';
import { FIELD_MANAGER, TENANT_COUNT_KEY, tenantKey, userKey } from '../../../src/platform/self-service/contract';
import {
  CAPPED_MESSAGE, CAP_METRIC, METRIC_NAMESPACE, ProvisionConfig, createHandler, parseProvisionMessage, provisionConfigFromEnvironment,
  rotationSchedule,
} from '../../../src/platform/self-service/provision';
import { GATEWAY_TOKEN_PATTERN, randomGatewayToken, tenantNameCandidates, tenantOfSecretName } from '../../../src/platform/self-service/tenant-naming';
import { renderTenant } from '../../../src/platform/tenant-manifests';
import { RESERVED_TENANT_NAMES, validateTenantSpec } from '../../../src/platform/tenant-spec';

// ------------------------------------------------------------------------------------------------------------------
// An in-memory AWS for the provisioner: the fakes of fake-aws.ts (DynamoDB with conditions and updates evaluated and
// placeholders checked, Secrets Manager, EKS Pod Identity and Cognito), plus the in-memory cluster. Every call goes
// through `call`, where a test injects a failure before the effect (nothing happened) or after it (it happened, but
// the caller saw an error, like a timeout after the commit).
// ------------------------------------------------------------------------------------------------------------------

interface Failure {
  readonly index: number;
  readonly after: boolean;
}

const TABLE = 'tenants';
const ACCOUNT = '111122223333';
const POOL = 'us-east-1_AbCdEf123';
const OTHER_POOL = 'us-east-1_ZzZzZz999';
const ANN = '8d3e6c8a-6f0e-4b55-9d61-1a2b3c4d5e6f';
const BOB = '0b9f2f4e-2a7d-4c1e-8f3a-6e5d4c3b2a10';
// Found by a birthday search over sha256: different usernames, the same first candidate tenant name.
const COLLIDING = ['00000000-0000-4000-8000-000000a12953', '00000000-0000-4000-8000-000000a6dbdf'];

class World {
  public readonly dynamodb = new FakeDynamoDB([TABLE]);
  public readonly table = this.dynamodb.table(TABLE);
  public readonly cognito = new FakeCognito(POOL);
  public readonly secretsManager = new FakeSecretsManager(() => this.now(), (prefix) => this.id(prefix));
  public readonly secrets = this.secretsManager.secrets;
  public readonly eks = new FakeEks('openclaw', (prefix) => this.id(prefix));
  public readonly associations = this.eks.associations;
  public readonly kube = new MemoryKube();
  /** Every call, in order (`AdminGetUser`, `apply Namespace /openclaw-…`…). */
  public readonly operations: string[] = [];
  /** Every DynamoDB request, for the syntax check against a real engine. */
  public readonly dynamoRequests: { command: string; input: any }[] = [];
  public failure?: Failure;
  private clock = Date.parse('2026-01-05T09:00:00.000Z');
  private ids = 0;

  constructor() {
    this.kube.interceptor = (operation, effect) => this.call(operation, effect);
  }

  public now(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  public async call<T>(operation: string, effect: () => T): Promise<T> {
    const index = this.operations.length;
    this.operations.push(operation);
    const fail = this.failure?.index === index ? this.failure : undefined;
    const injected = () => Object.assign(new Error(`injected failure at ${index} (${operation})`), { name: 'InjectedFailure' });
    if (fail && !fail.after) throw injected();
    const result = effect();
    if (fail) throw injected();
    return result;
  }

  public addUser(username: string, user: { enabled?: boolean; status?: string; email?: string } = {}): void {
    this.cognito.add({ username, enabled: user.enabled ?? true, status: user.status ?? 'CONFIRMED', email: user.email ?? `${username.slice(0, 4)}@example.com` });
  }

  // The two calls a test replaces, to change the world in the middle of a run or to fail in a way of its own.
  public transactWriteItems(input: TransactWriteItemsCommandInput) {
    return this.dynamodb.transactWriteItems(input);
  }

  public createSecret(input: CreateSecretCommandInput) {
    return this.secretsManager.createSecret(input);
  }

  private id(prefix: string) {
    return `${prefix}-${++this.ids}`;
  }
}

const cognito = mockClient(CognitoIdentityProviderClient);
const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const eks = mockClient(EKSClient);

function wire(world: World): void {
  for (const m of [cognito, dynamodb, secrets, eks]) m.reset();
  cognito.on(AdminGetUserCommand).callsFake((input) => world.call('AdminGetUser', () => world.cognito.adminGetUser(input)));
  const ddb = <I>(command: string, effect: (input: I) => unknown) => (input: I) => {
    world.dynamoRequests.push({ command, input: structuredClone(input) });
    return world.call(command, () => effect(input));
  };
  dynamodb.on(GetItemCommand).callsFake(ddb('GetItem', (input: GetItemCommandInput) => world.dynamodb.getItem(input)));
  dynamodb.on(PutItemCommand).callsFake(ddb('PutItem', (input: PutItemCommandInput) => world.dynamodb.putItem(input)));
  dynamodb.on(UpdateItemCommand).callsFake(ddb('UpdateItem', (input: UpdateItemCommandInput) => world.dynamodb.updateItem(input)));
  dynamodb.on(TransactWriteItemsCommand).callsFake(ddb('TransactWriteItems', (input: TransactWriteItemsCommandInput) => world.transactWriteItems(input)));
  secrets.on(CreateSecretCommand).callsFake((input) => world.call('CreateSecret', () => world.createSecret(input)));
  secrets.on(DescribeSecretCommand).callsFake((input) => world.call('DescribeSecret', () => world.secretsManager.describeSecret(input)));
  secrets.on(RestoreSecretCommand).callsFake((input) => world.call('RestoreSecret', () => world.secretsManager.restoreSecret(input)));
  secrets.on(ListSecretVersionIdsCommand).callsFake((input) => world.call('ListSecretVersionIds', () => world.secretsManager.listSecretVersionIds(input)));
  secrets.on(PutSecretValueCommand).callsFake((input) => world.call('PutSecretValue', () => world.secretsManager.putSecretValue(input)));
  secrets.on(RotateSecretCommand).callsFake((input) => world.call('RotateSecret', () => world.secretsManager.rotateSecret(input)));
  eks.on(CreatePodIdentityAssociationCommand).callsFake((input) => world.call('CreatePodIdentityAssociation', () => world.eks.createPodIdentityAssociation(input)));
  eks.on(ListPodIdentityAssociationsCommand).callsFake((input) => world.call('ListPodIdentityAssociations', () => world.eks.listPodIdentityAssociations(input)));
  eks.on(DescribePodIdentityAssociationCommand).callsFake((input) => world.call('DescribePodIdentityAssociation', () => world.eks.describePodIdentityAssociation(input)));
}

const PLATFORM = samplePlatform();
const DEFAULTS = { cpu: '4', memory: '8Gi', pods: 10, budgetUsd: 75 };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/openclaw-tenant`;
const ROTATION_FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:openclaw-token-rotation`;
const KMS = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ENV = {
  TENANT_TABLE: TABLE,
  MAX_TENANTS: '5',
  CLUSTER_NAME: 'openclaw',
  TENANT_ROLE_ARN: ROLE,
  KMS_KEY_ARN: KMS,
  PLATFORM_SPEC: JSON.stringify(PLATFORM),
  TENANT_DEFAULTS: JSON.stringify(DEFAULTS),
  ROTATION_FUNCTION_ARN: ROTATION_FN,
  ROTATION_DAYS: '30',
  USER_POOL_ID: POOL,
};

interface Run {
  readonly world: World;
  readonly logs: { level: string; message: string; fields: Record<string, unknown> }[];
  readonly metrics: string[];
  deliver(username: string | string[], env?: Partial<typeof ENV>): Promise<string[]>;
  deliverBodies(bodies: unknown[]): Promise<string[]>;
}

function setup(world = new World()): Run {
  wire(world);
  const logs: Run['logs'] = [];
  const metrics: string[] = [];
  let delivery = 0;
  const handlerFor = (env: Partial<typeof ENV>) => createHandler({
    cognito: new CognitoIdentityProviderClient({ region: 'us-east-1' }),
    dynamodb: new DynamoDBClient({ region: 'us-east-1' }),
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    eks: new EKSClient({ region: 'us-east-1' }),
    kube: () => world.kube,
    config: (): ProvisionConfig => provisionConfigFromEnvironment({ ...ENV, ...env }),
    log: (level, message, fields = {}) => logs.push({ level, message, fields }),
    metric: (line) => metrics.push(line),
    now: () => world.now(),
  });
  const deliverBodies = async (bodies: unknown[], env: Partial<typeof ENV> = {}) => {
    const records = bodies.map((body) => ({ messageId: `m-${++delivery}`, body: body as string }));
    const out = await handlerFor(env)({ Records: records });
    return out.batchItemFailures.map((f) => f.itemIdentifier);
  };
  return {
    world,
    logs,
    metrics,
    deliverBodies: (bodies) => deliverBodies(bodies),
    deliver: (username, env = {}) => deliverBodies((Array.isArray(username) ? username : [username])
      .map((u) => JSON.stringify({ version: 1, userPoolId: POOL, username: u })), env),
  };
}

const str = (item: Item | undefined, name: string) => item?.[name]?.S;

/** The state that matters, without timestamps, version IDs or token values (a token's format is kept). */
function state(world: World) {
  const normalize = (item: Item) => Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, ['createdAt', 'updatedAt', 'claimedAt'].includes(k) ? 'timestamp' : v]));
  return {
    table: Object.fromEntries([...world.table.keys()].sort().map((k) => [k, normalize(world.table.get(k)!)])),
    secrets: [...world.secrets.values()].map((s) => ({
      name: s.name,
      kmsKeyId: s.kmsKeyId,
      tags: [...s.tags].sort((a, b) => a.Key.localeCompare(b.Key)),
      deleted: s.deletedDate !== undefined,
      rotation: s.rotation,
      versions: s.versions.map((v) => ({ stages: v.stages, wellFormed: GATEWAY_TOKEN_PATTERN.test(v.value) })),
    })),
    associations: world.associations.map(({ associationId, ...rest }) => rest),
    kube: world.kube.snapshot(),
  };
}

let clean: { state: ReturnType<typeof state>; operations: string[] };
beforeAll(async () => {
  const run = setup();
  run.world.addUser(ANN);
  expect(await run.deliver(ANN)).toEqual([]);
  clean = { state: state(run.world), operations: [...run.world.operations] };
});

describe('provisioning a confirmed user', () => {
  const tenant = tenantNameCandidates(ANN)[0];
  const ns = `openclaw-${tenant}`;

  test('a clean run: one tagged secret with a scheduled rotation, one association, every object in order, count 1, ACTIVE', async () => {
    const run = setup();
    run.world.addUser(ANN, { email: 'ann@example.com' });
    expect(await run.deliver(ANN)).toEqual([]);
    const w = run.world;

    expect(w.secrets.size).toBe(1);
    const secret = w.secrets.get(`openclaw/${tenant}/gateway-token`)!;
    expect(secret.kmsKeyId).toBe(KMS);
    expect(secret.tags).toEqual([
      { Key: 'tenant-namespace', Value: ns },
      { Key: 'budget-usd', Value: '75' },
      { Key: 'openclaw:provisioned-by', Value: 'self-service' },
    ]);
    expect(secret.versions).toHaveLength(1);
    expect(secret.versions[0].value).toMatch(GATEWAY_TOKEN_PATTERN);
    expect(secret.rotation).toEqual({ lambdaArn: ROTATION_FN, rules: { ScheduleExpression: 'rate(30 days)' } });
    expect(secrets.commandCalls(RotateSecretCommand)[0].args[0].input.RotateImmediately).toBe(false);

    expect(w.associations).toEqual([{ associationId: expect.any(String), clusterName: 'openclaw', namespace: ns, serviceAccount: 'openclaw', roleArn: ROLE }]);

    const expected = renderTenant({ name: tenant, ...DEFAULTS }, PLATFORM).objects;
    expect(w.kube.applied.map((a) => a.object)).toEqual(expected);
    expect(w.kube.applied.every((a) => a.fieldManager === FIELD_MANAGER)).toBe(true);

    expect(w.table.get(TENANT_COUNT_KEY)).toEqual({ pk: { S: TENANT_COUNT_KEY }, count: { N: '1' } });
    expect(w.table.get(tenantKey(tenant))).toMatchObject({ username: { S: ANN } });
    const record = w.table.get(userKey(ANN));
    expect(str(record, 'status')).toBe('ACTIVE');
    expect(str(record, 'tenant')).toBe(tenant);
    expect(str(record, 'email')).toBe('ann@example.com');
    expect(record?.steps).toEqual({ L: ['claim', 'gateway-token', 'rotation', 'pod-identity', 'manifests'].map((S) => ({ S })) });
    expect(record?.message).toBeUndefined();
  });

  test('the tenant name is the first candidate: derived from the username, never from the e-mail address', async () => {
    const run = setup();
    run.world.addUser(ANN, { email: 'ann.smith@contoso-mail.test' });
    await run.deliver(ANN);
    expect(str(run.world.table.get(userKey(ANN)), 'tenant')).toBe(tenant);
    const { table, ...everythingElse } = state(run.world);
    expect(JSON.stringify(everythingElse)).not.toMatch(/smith|contoso/i);
    expect(JSON.stringify(table[tenantKey(tenant)])).not.toMatch(/smith|contoso/i);
  });

  test('a replay of a finished message reads the user and the record and changes nothing', async () => {
    const run = setup();
    run.world.addUser(ANN);
    await run.deliver(ANN);
    const before = state(run.world);
    const calls = run.world.operations.length;
    expect(await run.deliver(ANN)).toEqual([]);
    expect(run.world.operations.slice(calls)).toEqual(['AdminGetUser', 'GetItem']);
    expect(state(run.world)).toEqual(before);
  });

  test('the clean run makes the calls the retries are tested against', () => {
    const applies = renderTenant({ name: tenant, ...DEFAULTS }, PLATFORM).objects.map((o) => `apply ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(clean.operations).toEqual([
      'AdminGetUser', 'GetItem', 'TransactWriteItems',
      'CreateSecret', 'UpdateItem',
      'RotateSecret', 'UpdateItem',
      'CreatePodIdentityAssociation', 'UpdateItem',
      ...applies,
      'UpdateItem',
    ]);
  });

  test('a failure at ANY call, before or after its effect, then a retry: the same final state as a clean run', async () => {
    const mismatches: string[] = [];
    let tried = 0;
    for (let index = 0; index < clean.operations.length; index++) {
      for (const after of [false, true]) {
        const run = setup();
        run.world.addUser(ANN);
        run.world.failure = { index, after };
        const label = `${after ? 'after' : 'before'} call ${index} (${clean.operations[index]})`;
        const failed = await run.deliver(ANN);
        if (failed.length !== 1) mismatches.push(`${label}: the failure was not reported for redelivery`);
        run.world.failure = undefined;
        if ((await run.deliver(ANN)).length !== 0) mismatches.push(`${label}: the retry failed`);
        try {
          expect(state(run.world)).toEqual(clean.state);
        } catch (error) {
          mismatches.push(`${label}: ${(error as Error).message}`);
        }
        tried++;
      }
    }
    expect(tried).toBe(2 * clean.operations.length);
    expect(mismatches).toEqual([]);
  });

  test('any sequence of failed deliveries followed by a good one ends in the clean state (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ index: fc.nat({ max: clean.operations.length + 5 }), after: fc.boolean() }), { minLength: 1, maxLength: 5 }),
      async (failures) => {
        const run = setup();
        run.world.addUser(ANN);
        for (const failure of failures) {
          run.world.failure = { index: run.world.operations.length + failure.index, after: failure.after };
          await run.deliver(ANN);
        }
        run.world.failure = undefined;
        expect(await run.deliver(ANN)).toEqual([]);
        expect(state(run.world)).toEqual(clean.state);
      },
    ), { numRuns: 150 });
  });

  test('a transaction cancelled by a conflict (not a condition) is retried later, and the retry completes', async () => {
    const run = setup();
    run.world.addUser(ANN);
    const original = run.world.transactWriteItems.bind(run.world);
    run.world.transactWriteItems = () => {
      run.world.transactWriteItems = original;
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }, { Code: 'None' }],
      });
    };
    expect(await run.deliver(ANN)).toEqual(['m-1']);
    expect(run.world.table.size).toBe(0);
    expect(await run.deliver(ANN)).toEqual([]);
    expect(state(run.world)).toEqual(clean.state);
  });

  test('two deliveries of the same message at once end in the clean state', async () => {
    const run = setup();
    run.world.addUser(ANN);
    const results = await Promise.all([run.deliver(ANN), run.deliver(ANN)]);
    // One of them may lose a race it cannot win (it is then delivered again); a redelivery completes it.
    if (results.flat().length > 0) expect(await run.deliver(ANN)).toEqual([]);
    expect(state(run.world)).toEqual(clean.state);
  });
});

describe('what the provisioner does not provision', () => {
  test.each(['DEPROVISIONING', 'EXPORTED', 'REMOVED'])('a %s record is left alone: the tenant is never brought back', async (status) => {
    const run = setup();
    run.world.addUser(ANN);
    const tenant = tenantNameCandidates(ANN)[0];
    const record = { pk: { S: userKey(ANN) }, username: { S: ANN }, email: { S: 'a@example.com' }, tenant: { S: tenant }, status: { S: status } };
    run.world.table.set(userKey(ANN), structuredClone(record));
    expect(await run.deliver(ANN)).toEqual([]);
    expect(run.world.operations).toEqual(['AdminGetUser', 'GetItem']);
    expect(run.world.table.get(userKey(ANN))).toEqual(record);
    expect(run.world.secrets.size + run.world.associations.length + run.world.kube.applied.length).toBe(0);
    expect(run.logs.some((l) => l.message === 'provisioning stopped' && String(l.fields.reason).includes(status))).toBe(true);
  });

  test.each([
    ['an unknown user', undefined],
    ['a disabled user', { enabled: false }],
    ['an unconfirmed user', { status: 'UNCONFIRMED' }],
    ['a user who must still change the password', { status: 'FORCE_CHANGE_PASSWORD' }],
  ])('%s gets nothing, and the message is not retried', async (_, user) => {
    const run = setup();
    if (user) run.world.addUser(ANN, user);
    expect(await run.deliver(ANN)).toEqual([]);
    expect(run.world.operations).toEqual(['AdminGetUser']);
    expect(run.world.table.size + run.world.secrets.size + run.world.kube.applied.length).toBe(0);
  });

  test('a message naming another user pool is dropped without asking Cognito', async () => {
    const run = setup();
    run.world.addUser(ANN);
    expect(await run.deliverBodies([JSON.stringify({ version: 1, userPoolId: OTHER_POOL, username: ANN })])).toEqual([]);
    expect(run.world.operations).toEqual([]);
  });
});

describe('the tenant cap', () => {
  test('a full platform records the user as CAPPED with a clear message and a metric, and creates nothing', async () => {
    const run = setup();
    run.world.addUser(ANN);
    run.world.table.set(TENANT_COUNT_KEY, { pk: { S: TENANT_COUNT_KEY }, count: { N: '2' } });
    expect(await run.deliver(ANN, { MAX_TENANTS: '2' })).toEqual([]);
    const record = run.world.table.get(userKey(ANN));
    expect(str(record, 'status')).toBe('CAPPED');
    expect(str(record, 'message')).toBe(CAPPED_MESSAGE);
    expect(run.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '2' });
    expect(run.world.table.has(tenantKey(tenantNameCandidates(ANN)[0]))).toBe(false);
    expect(run.world.secrets.size + run.world.associations.length + run.world.kube.applied.length).toBe(0);

    expect(run.metrics).toHaveLength(1);
    const emf = JSON.parse(run.metrics[0]);
    expect(emf).toEqual({
      _aws: { Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: CAP_METRIC, Unit: 'Count' }] }] },
      [CAP_METRIC]: 1,
    });
    expect(METRIC_NAMESPACE).toBe('OpenClaw/SelfService');
    expect(CAP_METRIC).toBe('TenantsRejectedAtCap');
  });

  test('a CAPPED user re-queued after the cap was raised is provisioned, counted once', async () => {
    const run = setup();
    run.world.addUser(ANN);
    run.world.table.set(TENANT_COUNT_KEY, { pk: { S: TENANT_COUNT_KEY }, count: { N: '2' } });
    await run.deliver(ANN, { MAX_TENANTS: '2' });
    const createdAt = str(run.world.table.get(userKey(ANN)), 'createdAt');
    expect(await run.deliver(ANN, { MAX_TENANTS: '3' })).toEqual([]);
    const record = run.world.table.get(userKey(ANN));
    expect(str(record, 'status')).toBe('ACTIVE');
    expect(str(record, 'createdAt')).toBe(createdAt);
    expect(record?.message).toBeUndefined();
    expect(run.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '3' });
    expect(run.world.secrets.size).toBe(1);
  });

  test('a cap of 0 turns everyone away; the first tenant of an empty table is counted from nothing', async () => {
    const capped = setup();
    capped.world.addUser(ANN);
    await capped.deliver(ANN, { MAX_TENANTS: '0' });
    expect(str(capped.world.table.get(userKey(ANN)), 'status')).toBe('CAPPED');
    const first = setup();
    first.world.addUser(ANN);
    await first.deliver(ANN, { MAX_TENANTS: '1' });
    expect(first.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '1' });
  });
});

describe('tenant names', () => {
  test('candidates: u + lower-case base32 of sha256(username), 10, 12, 16 and 20 characters, each a valid tenant name', () => {
    const candidates = tenantNameCandidates(ANN);
    expect(candidates.map((c) => c.length)).toEqual([10, 12, 16, 20]);
    for (let i = 1; i < candidates.length; i++) expect(candidates[i].startsWith(candidates[i - 1])).toBe(true);
    // Python: base64.b32encode(hashlib.sha256(b'abc').digest()).lower() starts 'xj4bnp4pahh6uqkbidp'.
    expect(tenantNameCandidates('abc')).toEqual(['uxj4bnp4pa', 'uxj4bnp4pahh', 'uxj4bnp4pahh6uqk', 'uxj4bnp4pahh6uqkbidp']);
    expect(tenantNameCandidates(ANN)).toEqual(candidates);
  });

  test('every candidate of any username passes the tenant spec check and is not reserved (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), (username) => {
      for (const name of tenantNameCandidates(username)) {
        expect(name).toMatch(/^u[a-z2-7]+$/);
        expect(RESERVED_TENANT_NAMES).not.toContain(name);
        expect(() => validateTenantSpec({ name, ...DEFAULTS })).not.toThrow();
      }
    }), { numRuns: 500 });
    expect(() => tenantNameCandidates('')).toThrow('a tenant name needs a non-empty username');
  });

  test('gateway tokens: 48 letters and digits, never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const token = randomGatewayToken();
      expect(token).toMatch(GATEWAY_TOKEN_PATTERN);
      seen.add(token);
    }
    expect(seen.size).toBe(200);
  });

  test('the tenant of a gateway-token secret name, and nothing for any other name', () => {
    expect(tenantOfSecretName('openclaw/uabc234def/gateway-token')).toBe('uabc234def');
    for (const name of ['openclaw/admin/gateway-token', 'openclaw/a/b/gateway-token', 'openclaw/Up/gateway-token', 'x/openclaw/u1/gateway-token', undefined]) {
      expect(tenantOfSecretName(name)).toBeUndefined();
    }
  });

  test('two users whose first candidate collides: the second gets its second candidate, both are provisioned', async () => {
    const [a, b] = COLLIDING;
    expect(tenantNameCandidates(a)[0]).toBe(tenantNameCandidates(b)[0]);
    expect(tenantNameCandidates(a)[1]).not.toBe(tenantNameCandidates(b)[1]);
    const run = setup();
    run.world.addUser(a);
    run.world.addUser(b);
    expect(await run.deliver([a, b])).toEqual([]);
    expect(str(run.world.table.get(userKey(a)), 'tenant')).toBe(tenantNameCandidates(a)[0]);
    expect(str(run.world.table.get(userKey(b)), 'tenant')).toBe(tenantNameCandidates(b)[1]);
    expect(str(run.world.table.get(userKey(b)), 'status')).toBe('ACTIVE');
    expect(run.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '2' });
    expect(run.world.secrets.size).toBe(2);
    expect(new Set(run.world.associations.map((x) => x.namespace)).size).toBe(2);
    expect(run.logs.some((l) => l.message === 'tenant name taken, trying the next candidate')).toBe(true);
  });

  test('a retry of the second user keeps its second candidate (the record wins over the candidates)', async () => {
    const [a, b] = COLLIDING;
    const run = setup();
    run.world.addUser(a);
    run.world.addUser(b);
    await run.deliver(a);
    // Fail b right after its claim committed; the retry must not claim a third name.
    run.world.failure = { index: run.world.operations.length + 4, after: true };
    expect(await run.deliver(b)).toHaveLength(1);
    run.world.failure = undefined;
    expect(await run.deliver(b)).toEqual([]);
    expect(str(run.world.table.get(userKey(b)), 'tenant')).toBe(tenantNameCandidates(b)[1]);
    expect([...run.world.table.keys()].filter((k) => k.startsWith('TENANT#'))).toHaveLength(2);
    expect(run.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '2' });
  });

  test('two different users provisioned together get two tenants', async () => {
    const run = setup();
    run.world.addUser(ANN);
    run.world.addUser(BOB);
    expect(await run.deliver([ANN, BOB])).toEqual([]);
    expect(run.world.table.get(TENANT_COUNT_KEY)?.count).toEqual({ N: '2' });
    expect(run.world.kube.snapshot()).toHaveProperty([`v1|Namespace||openclaw-${tenantNameCandidates(BOB)[0]}`]);
  });
});

describe('adopting what already exists', () => {
  const tenant = tenantNameCandidates(ANN)[0];
  const name = `openclaw/${tenant}/gateway-token`;
  const seedSecret = (world: World, tags: Record<string, string>, extra: Partial<FakeSecret> = {}) => world.secrets.set(name, {
    name,
    kmsKeyId: KMS,
    tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    versions: [{ id: 'old', value: 'o'.repeat(48), stages: ['AWSCURRENT'], created: new Date('2025-06-01T00:00:00Z') }],
    ...extra,
  });

  test('a secret of the same name that is not this tenant\'s self-service token is refused, loudly and every time', async () => {
    const run = setup();
    run.world.addUser(ANN);
    seedSecret(run.world, { 'tenant-namespace': 'openclaw-someone-else', 'openclaw:provisioned-by': 'self-service' });
    expect(await run.deliver(ANN)).toHaveLength(1);
    expect(run.logs.find((l) => l.level === 'error')?.fields.error).toMatchObject({ message: expect.stringContaining('refusing to adopt it') });
    expect(await run.deliver(ANN)).toHaveLength(1);
    expect(run.world.secrets.get(name)!.versions).toHaveLength(1);
    expect(run.world.associations).toHaveLength(0);
    expect(run.world.kube.applied).toHaveLength(0);
  });

  test('a code-declared tenant\'s secret (no provisioned-by tag) is never adopted', async () => {
    const run = setup();
    run.world.addUser(ANN);
    seedSecret(run.world, { 'tenant-namespace': `openclaw-${tenant}`, 'budget-usd': '100' });
    expect(await run.deliver(ANN)).toHaveLength(1);
    expect(run.world.kube.applied).toHaveLength(0);
  });

  test('a secret scheduled for deletion is restored and given a fresh token nobody knew', async () => {
    const run = setup();
    run.world.addUser(ANN);
    seedSecret(run.world, { 'tenant-namespace': `openclaw-${tenant}`, 'openclaw:provisioned-by': 'self-service' }, { deletedDate: new Date('2025-12-30T00:00:00Z') });
    expect(await run.deliver(ANN)).toEqual([]);
    const s = run.world.secrets.get(name)!;
    expect(s.deletedDate).toBeUndefined();
    const current = s.versions.find((v) => v.stages.includes('AWSCURRENT'))!;
    expect(current.value).toMatch(GATEWAY_TOKEN_PATTERN);
    expect(current.value).not.toBe('o'.repeat(48));
    expect(str(run.world.table.get(userKey(ANN)), 'status')).toBe('ACTIVE');
  });

  test('a rotation schedule already in place is left alone', async () => {
    const run = setup();
    run.world.addUser(ANN);
    await run.deliver(ANN);
    run.world.table.delete(userKey(ANN));
    run.world.table.delete(tenantKey(tenant));
    run.world.table.delete(TENANT_COUNT_KEY);
    secrets.resetHistory();
    await run.deliver(ANN);
    expect(secrets.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  test('a Pod Identity association with another role is refused', async () => {
    const run = setup();
    run.world.addUser(ANN);
    run.world.associations.push({ associationId: 'a-x', clusterName: 'openclaw', namespace: `openclaw-${tenant}`, serviceAccount: 'openclaw', roleArn: `arn:aws:iam::${ACCOUNT}:role/admin` });
    expect(await run.deliver(ANN)).toHaveLength(1);
    expect(JSON.stringify(run.logs)).toContain('refusing to adopt it');
    expect(run.world.kube.applied).toHaveLength(0);
    expect(str(run.world.table.get(userKey(ANN)), 'status')).toBe('PROVISIONING');
  });

  test('a record that changes to DEPROVISIONING mid-way stops the provisioning at the next step', async () => {
    const run = setup();
    run.world.addUser(ANN);
    const original = run.world.createSecret.bind(run.world);
    run.world.createSecret = (input) => {
      const out = original(input);
      run.world.table.get(userKey(ANN))!.status = { S: 'DEPROVISIONING' };
      return out;
    };
    expect(await run.deliver(ANN)).toEqual([]);
    expect(run.world.associations).toHaveLength(0);
    expect(run.world.kube.applied).toHaveLength(0);
    expect(str(run.world.table.get(userKey(ANN)), 'status')).toBe('DEPROVISIONING');
  });
});

describe('malformed and hostile messages', () => {
  test.each([
    ['not JSON', '{version: 1', 'the body is not JSON'],
    ['an array', '[1]', 'the body is not a JSON object'],
    ['version 2', JSON.stringify({ version: 2, userPoolId: POOL, username: ANN }), 'the message version is not 1'],
    ['version "1"', JSON.stringify({ version: '1', userPoolId: POOL, username: ANN }), 'the message version is not 1'],
    ['no username', JSON.stringify({ version: 1, userPoolId: POOL }), 'username is not a Cognito username'],
    ['a username with a space', JSON.stringify({ version: 1, userPoolId: POOL, username: 'a b' }), 'username is not a Cognito username'],
    ['a pool ID that is a path', JSON.stringify({ version: 1, userPoolId: '../../x', username: ANN }), 'userPoolId is not a Cognito user pool ID'],
  ])('%s: dropped with a log line naming the reason', async (_, body, reason) => {
    expect(() => parseProvisionMessage(body)).toThrow(reason);
    const run = setup();
    run.world.addUser(ANN);
    expect(await run.deliverBodies([body])).toEqual([]);
    expect(run.logs).toEqual([{ level: 'warn', message: 'dropped a malformed provisioning message', fields: { messageId: 'm-1', reason, bodyLength: body.length } }]);
    expect(run.world.operations).toEqual([]);
  });

  test('a malformed record in a batch does not hold up the good one next to it', async () => {
    const run = setup();
    run.world.addUser(ANN);
    expect(await run.deliverBodies(['garbage', JSON.stringify({ version: 1, userPoolId: POOL, username: ANN })])).toEqual([]);
    expect(str(run.world.table.get(userKey(ANN)), 'status')).toBe('ACTIVE');
  });

  test('any body: no crash, no retry, nothing created, one log line per record (property)', async () => {
    const HOSTILE = ['\u0000', '\u202E', '\u200B', '\uFEFF', '\uD800', '😀', '👩‍💻', 'İ', '\n', ' ', '/', '..', '#', 'USER#', 'TENANT#x', '"', '\\'];
    const username = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 140 }),
      fc.array(fc.constantFrom(...HOSTILE), { minLength: 1, maxLength: 10 }).map((parts) => parts.join('')),
      fc.constantFrom(`${ANN}\u0000`, ` ${ANN}`, ANN.toUpperCase(), 'x'.repeat(129), 'ÿ'.repeat(128)),
    );
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ minLength: 4000, maxLength: 20_000 }),
      fc.integer({ min: 4000, max: 300_000 }).map((n) => JSON.stringify({ version: 1, userPoolId: POOL, username: 'a'.repeat(n) })),
      fc.record({ version: fc.constantFrom(0, 2, '1', null, 1.5, true), userPoolId: fc.constant(POOL), username: fc.constant(ANN) }).map((m) => JSON.stringify(m)),
      fc.record({ version: fc.constant(1), userPoolId: fc.oneof(fc.string(), fc.constant(OTHER_POOL)), username: fc.constant(ANN) })
        .map((m) => JSON.stringify(m)),
      fc.record({ version: fc.constant(1), userPoolId: fc.constant(POOL), username }).map((m) => JSON.stringify(m)),
      fc.constantFrom('', 'null', '[]', '{}', '1', '"x"', '{"version":1}', '{"__proto__":{"version":1}}', '{"version":1,"userPoolId":{},"username":[]}'),
      fc.constantFrom(undefined, null, 42, { version: 1 }),
    );
    await fc.assert(fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 4 }), async (bodies) => {
      const run = setup();
      run.world.addUser(ANN, { enabled: false }); // the one real user is disabled: a good message for ANN provisions nothing either
      expect(await run.deliverBodies(bodies)).toEqual([]);
      expect(run.world.table.size).toBe(0);
      expect(run.world.secrets.size + run.world.associations.length + run.world.kube.applied.length).toBe(0);
      for (let i = 1; i <= bodies.length; i++) {
        const lines = run.logs.filter((l) => l.fields.messageId === `m-${i}`);
        expect(lines.length).toBeGreaterThanOrEqual(1);
      }
      for (const line of run.logs) expect(JSON.stringify(line).length).toBeLessThan(2000);
    }), { numRuns: 300 });
  });
});

describe('the provisioner\'s settings', () => {
  test('read from the environment, with the rotation schedule as Secrets Manager spells it', () => {
    const config = provisionConfigFromEnvironment(ENV);
    expect(config).toMatchObject({ tenantTable: TABLE, maxTenants: 5, clusterName: 'openclaw', tenantRoleArn: ROLE, kmsKeyArn: KMS, tenantDefaults: DEFAULTS, rotation: { functionArn: ROTATION_FN, days: 30 }, userPoolId: POOL });
    expect(provisionConfigFromEnvironment({ ...ENV, ROTATION_DAYS: '' }).rotation).toBeUndefined();
    expect(rotationSchedule(1)).toBe('rate(1 day)');
    expect(rotationSchedule(30)).toBe('rate(30 days)');
  });

  test.each([
    [{ TENANT_TABLE: '' }, 'TENANT_TABLE must be set'],
    [{ MAX_TENANTS: '-1' }, 'MAX_TENANTS must be a whole number'],
    [{ MAX_TENANTS: 'ten' }, 'MAX_TENANTS must be a whole number'],
    [{ PLATFORM_SPEC: '{' }, 'PLATFORM_SPEC must be JSON'],
    [{ TENANT_DEFAULTS: JSON.stringify({ ...DEFAULTS, memory: '1Gi' }) }, "at least the gateway's memoryLimit"],
    [{ ROTATION_DAYS: '0' }, 'ROTATION_DAYS must be empty or a whole number of days'],
    [{ ROTATION_FUNCTION_ARN: '' }, 'ROTATION_FUNCTION_ARN must be set'],
  ])('%j is refused: %s', (override, message) => {
    expect(() => provisionConfigFromEnvironment({ ...ENV, ...override })).toThrow(message);
  });

  test('a bad setting fails the message (it is delivered again once fixed), it is not dropped', async () => {
    const run = setup();
    run.world.addUser(ANN);
    expect(await run.deliver(ANN, { KMS_KEY_ARN: '' })).toEqual(['m-1']);
    expect(run.world.operations).toEqual([]);
    expect(await run.deliver(ANN)).toEqual([]);
  });
});

// Last: this test restores the real DynamoDB client.
describe('the DynamoDB requests', () => {
  test('every request of a run with a collision, a cap and a retry is valid for a DynamoDB engine (dynalite)', async () => {
    const run = setup();
    const [a, b] = COLLIDING;
    run.world.addUser(a);
    run.world.addUser(b);
    run.world.addUser(ANN);
    await run.deliver(a);
    run.world.failure = { index: run.world.operations.length + 4, after: true }; // after b's claim committed
    await run.deliver(b);
    run.world.failure = undefined;
    await run.deliver([b, ANN], { MAX_TENANTS: '2' });
    const requests = run.world.dynamoRequests;
    expect(new Set(requests.map((r) => r.command))).toEqual(new Set(['GetItem', 'PutItem', 'UpdateItem', 'TransactWriteItems']));

    dynamodb.restore();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const dynalite = require('dynalite');
    const server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      await client.send(new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      const refused: string[] = [];
      const send = async (command: any, what: string) => {
        try {
          await client.send(command);
        } catch (error) {
          if ((error as Error).name !== 'ConditionalCheckFailedException') refused.push(`${what}: ${(error as Error).name}: ${(error as Error).message}`);
        }
      };
      // dynalite has no transactions: each transaction item is sent as the request it would be on its own.
      for (const { command, input } of requests) {
        if (command === 'GetItem') await send(new GetItemCommand(input), command);
        if (command === 'PutItem') await send(new PutItemCommand(input), command);
        if (command === 'UpdateItem') await send(new UpdateItemCommand(input), command);
        if (command === 'TransactWriteItems') {
          for (const t of input.TransactItems) {
            if (t.Put) await send(new PutItemCommand(t.Put), 'TransactWriteItems Put');
            if (t.Update) await send(new UpdateItemCommand(t.Update), 'TransactWriteItems Update');
          }
        }
      }
      expect(refused).toEqual([]);
      client.destroy();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
