import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  AdminDisableUserCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, TransactionCanceledException,
  TransactWriteItemsCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeletePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { DEPROVISION_FIELD_MANAGER, Kube, KubeError, KubeRef, TENANT_COUNT_KEY } from '../../../src/platform/self-service/contract';
import {
  DeprovisionConfig, DeprovisionEvent, DeprovisionResult, configFromEnvironment, deprovision,
} from '../../../src/platform/self-service/deprovision';
import { ExportResult, exportTenant, manifestKeyOf } from '../../../src/platform/self-service/export';

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const eks = mockClient(EKSClient);
const secrets = mockClient(SecretsManagerClient);
const cognito = mockClient(CognitoIdentityProviderClient);

const T = 'acme';
const NS = 'openclaw-acme';
const USER = 'user-1';
const SECRET_NAME = 'openclaw/acme/gateway-token';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:openclaw/acme/gateway-token-AbCdEf';
const INITIAL_COUNT = 3;
const CONFIG: DeprovisionConfig = { tableName: 'tenants', userPoolId: 'pool-1', exportBucket: 'exports', clusterName: 'cluster', secretRecoveryDays: 30 };

const awsError = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

// ---------------------------------------------------------------------------------------------------------------
// An in-memory world: the table (with the condition and update expressions the handler uses), the export bucket,
// EKS, Secrets Manager, Cognito and the cluster. Every operation passes two gates (before and after it takes effect)
// where a failure can be injected; every deletion checks the guarantee at the moment it happens.

type Item = Record<string, AttributeValue>;

class World {
  readonly items = new Map<string, Item>();
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  associations = [
    { associationId: 'a-acme', namespace: NS, serviceAccount: 'openclaw' },
    { associationId: 'a-acme-extra', namespace: NS, serviceAccount: 'tools' },
    { associationId: 'a-other', namespace: 'openclaw-other', serviceAccount: 'openclaw' },
  ];
  readonly secrets = new Map<string, { arn: string; tags: Array<{ Key: string; Value: string }>; deletedDate?: Date; recoveryDays?: number }>();
  readonly users = new Map<string, { enabled: boolean; signOuts: number }>([[USER, { enabled: true, signOuts: 0 }]]);
  readonly kube = new FakeKube(this);
  readonly violations: string[] = [];
  clock = Date.parse('2025-01-01T00:00:00Z');
  /** Fake-clock time the gateway was last seen (or made) running. */
  lastRunning = this.clock;
  /** The gate index at which to fail (undefined: none). */
  failAt?: number;
  gates = 0;

  constructor() {
    this.put({ pk: s(`TENANT#${T}`), username: s(USER), createdAt: s('2024-12-01T00:00:00.000Z') });
    this.put({
      pk: s(`USER#${USER}`),
      username: s(USER),
      email: s('a@example.com'),
      tenant: s(T),
      status: s('ACTIVE'),
      createdAt: s('2024-12-01T00:00:00.000Z'),
      updatedAt: s('2024-12-01T00:00:00.000Z'),
    });
    this.put({ pk: s(TENANT_COUNT_KEY), count: { N: String(INITIAL_COUNT) } });
    this.secrets.set(SECRET_NAME, {
      arn: SECRET_ARN,
      tags: [{ Key: 'tenant-namespace', Value: NS }, { Key: 'budget-usd', Value: '100' }, { Key: 'openclaw:provisioned-by', Value: 'self-service' }],
    });
  }

  readonly now = () => new Date(this.tick());
  tick(): number { return (this.clock += 1000); }

  gate(what: string, kube = false): void {
    if (this.failAt !== undefined && this.gates++ === this.failAt) {
      throw kube ? new KubeError(503, 'ServiceUnavailable', `injected failure of ${what}`) : awsError('ServiceUnavailable', 503, `injected failure of ${what}`);
    }
  }

  put(item: Item): void { this.items.set(item.pk.S!, item); }
  get user(): Item { return this.items.get(`USER#${USER}`)!; }
  get count(): number { return Number(this.items.get(TENANT_COUNT_KEY)!.count.N); }
  setUser(fields: Record<string, string | undefined>): void {
    const item = { ...this.user };
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete item[k]; else item[k] = s(v);
    this.put(item);
  }

  /** The guarantee, checked when a deletion happens: the record is EXPORTED with an export that exists, was taken after the gateway last ran, and the gateway does not run. */
  checkDeletion(what: string): void {
    const status = this.user.status.S;
    const exportKey = this.user.exportKey?.S;
    const problems: string[] = [];
    if (status !== 'EXPORTED') problems.push(`status ${status}`);
    if (!exportKey) {problems.push('no export key');} else if (!this.objects.has(exportKey)) {problems.push(`export ${exportKey} missing`);} else {
      const manifest = this.objects.get(manifestKeyOf(exportKey));
      const createdAt = manifest ? Date.parse(JSON.parse(manifest.toString()).createdAt) : NaN;
      if (!(createdAt > this.lastRunning)) problems.push(`export taken at ${createdAt}, gateway ran until ${this.lastRunning}`);
    }
    if (this.kube.running()) problems.push('gateway running');
    if (problems.length) this.violations.push(`${what} deleted while ${problems.join(', ')}`);
  }
}

class FakeKube implements Kube {
  readonly objects = new Map<string, any>();
  readonly applied: Array<{ object: any; fieldManager?: string }> = [];
  readonly deleted: KubeRef[] = [];

  constructor(private readonly world: World) {
    this.objects.set(key({ kind: 'Namespace', name: NS }), { metadata: { name: NS } });
    this.objects.set(key({ kind: 'Namespace', name: 'openclaw-other' }), { metadata: { name: 'openclaw-other' } });
    this.objects.set(key({ kind: 'Deployment', namespace: NS, name: 'openclaw' }), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'openclaw', namespace: NS, generation: 1 },
      spec: { replicas: 1 },
      status: { replicas: 1, observedGeneration: 1 },
    });
  }

  get deployment(): any { return this.objects.get(key({ kind: 'Deployment', namespace: NS, name: 'openclaw' })); }
  running(): boolean { const d = this.deployment; return d !== undefined && d.status.replicas > 0; }

  /** Someone scales the gateway back up (an operator, a stray re-apply). */
  restart(replicas = 1): void {
    const d = this.deployment;
    if (!d) return;
    d.spec.replicas = replicas;
    d.metadata.generation++;
    d.status = { replicas, observedGeneration: d.metadata.generation };
    this.world.lastRunning = this.world.tick();
  }

  async apply(object: any, options?: { fieldManager?: string }): Promise<void> {
    this.world.gate('kube apply', true);
    this.world.tick();
    const existing = this.objects.get(key({ kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name }));
    if (!existing) {
      if (!this.objects.has(key({ kind: 'Namespace', name: object.metadata.namespace }))) throw new KubeError(404, 'NotFound', `namespaces "${object.metadata.namespace}" not found`);
      throw new KubeError(422, 'Invalid', 'Deployment.apps "openclaw" is invalid: spec.selector: Required value');
    }
    this.applied.push({ object: structuredClone(object), fieldManager: options?.fieldManager });
    if (object.spec?.replicas !== undefined && object.spec.replicas !== existing.spec.replicas) {
      existing.spec.replicas = object.spec.replicas;
      existing.metadata.generation++;
    }
    this.world.gate('kube apply (answer)', true);
  }

  async get(ref: KubeRef): Promise<any> {
    this.world.gate('kube get', true);
    const now = this.world.tick();
    const object = this.objects.get(key(ref));
    if (object?.kind === 'Deployment') {
      // The controller catches up one pod at a time.
      if (object.status.replicas > 0) this.world.lastRunning = now;
      object.status.observedGeneration = object.metadata.generation;
      if (object.status.replicas > object.spec.replicas) object.status.replicas--;
      else object.status.replicas = object.spec.replicas;
      if (object.status.replicas > 0) this.world.lastRunning = now;
    }
    return object === undefined ? undefined : structuredClone(object);
  }

  async delete(ref: KubeRef): Promise<boolean> {
    this.world.gate('kube delete', true);
    this.world.checkDeletion(`namespace ${ref.name}`);
    this.deleted.push(ref);
    const existed = this.objects.delete(key(ref));
    if (ref.kind === 'Namespace') for (const k of [...this.objects.keys()]) if (k.startsWith(`Deployment/${ref.name}/`)) this.objects.delete(k);
    this.world.gate('kube delete (answer)', true);
    return existed;
  }
}

function key(ref: { kind: string; namespace?: string; name: string }): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}
function s(value: string): AttributeValue { return { S: value }; }

// The expressions the handler writes: `#a = :v`, `#a IN (:v, ...)` joined by AND; SET (`#a = :v`,
// `#a = if_not_exists(#a, :v)`), REMOVE and ADD clauses.
function conditionHolds(expression: string | undefined, item: Item, names: Record<string, string>, values: Item): boolean {
  if (!expression) return true;
  const same = (a?: AttributeValue, b?: AttributeValue) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);
  return expression.split(/\s+AND\s+/).every((clause) => {
    let m = /^(#\w+) = (:\w+)$/.exec(clause.trim());
    if (m) return same(item[names[m[1]]], values[m[2]]);
    m = /^(#\w+) IN \(([^)]*)\)$/.exec(clause.trim());
    if (m) return m[2].split(',').some(v => same(item[names[m[1]]], values[v.trim()]));
    throw new Error(`the fake table does not know the condition "${clause}"`);
  });
}
function applyUpdate(expression: string, item: Item, names: Record<string, string>, values: Item): Item {
  const out = { ...item };
  for (const section of expression.split(/\s(?=SET |REMOVE |ADD )/)) {
    const [verb, ...rest] = section.trim().split(' ');
    const body = rest.join(' ');
    if (verb === 'SET') {
      for (const assignment of body.split(/,\s*(?=#)/)) {
        const m = /^(#\w+) = (?:(:\w+)|if_not_exists\((#\w+), (:\w+)\))$/.exec(assignment.trim());
        if (!m) throw new Error(`the fake table does not know "${assignment}"`);
        out[names[m[1]]] = m[2] ? values[m[2]] : (out[names[m[3]]] ?? values[m[4]]);
      }
    } else if (verb === 'REMOVE') {
      for (const name of body.split(',')) delete out[names[name.trim()]];
    } else if (verb === 'ADD') {
      const m = /^(#\w+) (:\w+)$/.exec(body.trim());
      if (!m) throw new Error(`the fake table does not know "ADD ${body}"`);
      out[names[m[1]]] = { N: String(Number(out[names[m[1]]]?.N ?? 0) + Number(values[m[2]].N)) };
    } else {
      throw new Error(`the fake table does not know "${section}"`);
    }
  }
  return out;
}

let world: World;
let mount: string;
let exportsTaken: ExportResult[];

function install(): void {
  ddb.on(GetItemCommand).callsFake(async (input) => {
    world.gate('GetItem');
    const item = world.items.get(input.Key.pk.S);
    return { Item: item && structuredClone(item) };
  });
  ddb.on(UpdateItemCommand).callsFake(async (input) => {
    world.gate('UpdateItem');
    const current = world.items.get(input.Key.pk.S) ?? { pk: input.Key.pk };
    if (!conditionHolds(input.ConditionExpression, current, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {})) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    world.put(applyUpdate(input.UpdateExpression, current, input.ExpressionAttributeNames ?? {}, input.ExpressionAttributeValues ?? {}));
    world.gate('UpdateItem (answer)');
    return {};
  });
  ddb.on(TransactWriteItemsCommand).callsFake(async (input) => {
    world.gate('TransactWriteItems');
    const updates = input.TransactItems.map((t: any) => t.Update);
    const codes = updates.map((u: any) => {
      const current = world.items.get(u.Key.pk.S) ?? { pk: u.Key.pk };
      return conditionHolds(u.ConditionExpression, current, u.ExpressionAttributeNames ?? {}, u.ExpressionAttributeValues ?? {}) ? 'None' : 'ConditionalCheckFailed';
    });
    if (codes.includes('ConditionalCheckFailed')) {
      throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code: string) => ({ Code })) });
    }
    for (const u of updates) {
      const current = world.items.get(u.Key.pk.S) ?? { pk: u.Key.pk };
      world.put(applyUpdate(u.UpdateExpression, current, u.ExpressionAttributeNames ?? {}, u.ExpressionAttributeValues ?? {}));
    }
    world.gate('TransactWriteItems (answer)');
    return {};
  });

  s3.on(CreateMultipartUploadCommand).callsFake(async (input) => {
    world.gate('CreateMultipartUpload');
    const id = `upload-${world.uploads.size + 1}`;
    world.uploads.set(id, { key: input.Key, parts: new Map() });
    return { UploadId: id };
  });
  s3.on(UploadPartCommand).callsFake(async (input) => {
    world.gate('UploadPart');
    world.uploads.get(input.UploadId)!.parts.set(input.PartNumber, Buffer.from(input.Body));
    return { ETag: `"${input.PartNumber}"` };
  });
  s3.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
    world.gate('CompleteMultipartUpload');
    const upload = world.uploads.get(input.UploadId)!;
    world.objects.set(upload.key, Buffer.concat(input.MultipartUpload.Parts.map((p: any) => upload.parts.get(p.PartNumber)!)));
    world.uploads.delete(input.UploadId);
    return {};
  });
  s3.on(AbortMultipartUploadCommand).callsFake(async (input) => { world.uploads.delete(input.UploadId); return {}; });
  s3.on(PutObjectCommand).callsFake(async (input) => {
    world.gate('PutObject');
    world.objects.set(input.Key, Buffer.from(input.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake(async (input) => {
    world.gate('GetObject');
    const body = world.objects.get(input.Key);
    if (!body) throw awsError('NoSuchKey', 404);
    return { Body: Readable.from([body]), ContentLength: body.length };
  });
  s3.on(HeadObjectCommand).callsFake(async (input) => {
    world.gate('HeadObject');
    const body = world.objects.get(input.Key);
    if (!body) throw awsError('NotFound', 404);
    return { ContentLength: body.length };
  });

  eks.on(ListPodIdentityAssociationsCommand).callsFake(async (input) => {
    world.gate('ListPodIdentityAssociations');
    const all = world.associations.filter(a => !input.namespace || a.namespace === input.namespace);
    const start = input.nextToken ? Number(input.nextToken) : 0;
    return { associations: all.slice(start, start + 1), nextToken: start + 1 < all.length ? String(start + 1) : undefined };
  });
  eks.on(DeletePodIdentityAssociationCommand).callsFake(async (input) => {
    world.gate('DeletePodIdentityAssociation');
    world.checkDeletion(`association ${input.associationId}`);
    if (!world.associations.some(a => a.associationId === input.associationId)) throw awsError('ResourceNotFoundException', 404);
    world.associations = world.associations.filter(a => a.associationId !== input.associationId);
    world.gate('DeletePodIdentityAssociation (answer)');
    return {};
  });

  secrets.on(DescribeSecretCommand).callsFake(async (input) => {
    world.gate('DescribeSecret');
    const secret = world.secrets.get(input.SecretId) ?? [...world.secrets.values()].find(v => v.arn === input.SecretId);
    if (!secret) throw awsError('ResourceNotFoundException', 400);
    return { ARN: secret.arn, Name: SECRET_NAME, Tags: secret.tags, DeletedDate: secret.deletedDate };
  });
  secrets.on(DeleteSecretCommand).callsFake(async (input) => {
    world.gate('DeleteSecret');
    world.checkDeletion('secret');
    if (input.ForceDeleteWithoutRecovery) world.violations.push('secret deleted without recovery');
    const secret = [...world.secrets.values()].find(v => v.arn === input.SecretId);
    if (!secret) throw awsError('ResourceNotFoundException', 400);
    if (secret.deletedDate) throw awsError('InvalidRequestException', 400, 'already scheduled for deletion');
    secret.deletedDate = world.now();
    secret.recoveryDays = input.RecoveryWindowInDays;
    world.gate('DeleteSecret (answer)');
    return {};
  });

  cognito.on(AdminDisableUserCommand).callsFake(async (input) => {
    world.gate('AdminDisableUser');
    const user = world.users.get(input.Username);
    if (!user) throw awsError('UserNotFoundException', 400);
    user.enabled = false;
    return {};
  });
  cognito.on(AdminUserGlobalSignOutCommand).callsFake(async (input) => {
    world.gate('AdminUserGlobalSignOut');
    const user = world.users.get(input.Username);
    if (!user) throw awsError('UserNotFoundException', 400);
    user.signOuts++;
    return {};
  });
}

function reset(): void {
  for (const mock of [ddb, s3, eks, secrets, cognito]) mock.reset();
  world = new World();
  exportsTaken = [];
  install();
}

beforeEach(() => {
  mount = fs.mkdtempSync(path.join(os.tmpdir(), 'deprovision-test-'));
  fs.mkdirSync(path.join(mount, NS, 'workspace'), { recursive: true });
  fs.writeFileSync(path.join(mount, NS, 'workspace', 'notes.md'), '# the tenant\'s notes\n');
  reset();
});
afterEach(() => fs.rmSync(mount, { recursive: true, force: true }));

const deps = (config: DeprovisionConfig = CONFIG) => ({
  dynamodb: new DynamoDBClient({}),
  cognito: new CognitoIdentityProviderClient({}),
  s3: new S3Client({}),
  eks: new EKSClient({}),
  secrets: new SecretsManagerClient({}),
  kube: () => world.kube,
  config,
  now: world.now,
});
const run = (step: DeprovisionEvent['step'], result?: Partial<ExportResult>, config?: DeprovisionConfig): Promise<DeprovisionResult> =>
  deprovision({ step, tenant: T, export: result }, deps(config));
const runExport = async (): Promise<ExportResult> => {
  const result = await exportTenant(T, { s3: new S3Client({}), bucket: 'exports', mount, now: world.now });
  exportsTaken.push(result);
  return result;
};
async function stopUntilStopped(): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await run('stop');
      return;
    } catch (error) {
      if ((error as Error).name !== 'GatewayStillRunning' || i > 10) throw error;
    }
  }
}
async function toExported(): Promise<ExportResult> {
  await run('begin');
  await stopUntilStopped();
  const result = await runExport();
  await run('verify', result);
  return result;
}
const nothingDeleted = () => {
  expect(world.kube.deleted).toEqual([]);
  expect(eks.commandCalls(DeletePodIdentityAssociationCommand)).toHaveLength(0);
  expect(secrets.commandCalls(DeleteSecretCommand)).toHaveLength(0);
  expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
};

// ---------------------------------------------------------------------------------------------------------------

describe('begin', () => {
  test('an ACTIVE tenant becomes DEPROVISIONING; its user is disabled and signed out everywhere; the count stays', async () => {
    await expect(run('begin')).resolves.toEqual({ step: 'begin', tenant: T, username: USER, status: 'DEPROVISIONING' });
    expect(world.user.status.S).toBe('DEPROVISIONING');
    expect(world.users.get(USER)).toEqual({ enabled: false, signOuts: 1 });
    expect(cognito.commandCalls(AdminDisableUserCommand)[0].args[0].input).toEqual({ UserPoolId: 'pool-1', Username: USER });
    expect(cognito.commandCalls(AdminUserGlobalSignOutCommand)[0].args[0].input).toEqual({ UserPoolId: 'pool-1', Username: USER });
    expect(world.count).toBe(INITIAL_COUNT);
  });

  test('is idempotent: a retry changes nothing, and an EXPORTED tenant stays EXPORTED', async () => {
    await run('begin');
    await run('begin');
    expect(world.user.status.S).toBe('DEPROVISIONING');
    world.setUser({ status: 'EXPORTED', exportKey: 'exports/openclaw-acme/x.tar' });
    await expect(run('begin')).resolves.toMatchObject({ status: 'EXPORTED' });
    expect(world.user.status.S).toBe('EXPORTED');
    expect(world.count).toBe(INITIAL_COUNT);
  });

  test('a CAPPED tenant (not counted) is counted while it deprovisions, once, so removing it later takes exactly one off', async () => {
    world.setUser({ status: 'CAPPED' });
    await run('begin');
    await run('begin');
    expect(world.user.status.S).toBe('DEPROVISIONING');
    expect(world.count).toBe(INITIAL_COUNT + 1);
  });

  test.each(['PROVISIONING', 'REMOVED'])('refuses a %s tenant and touches nothing', async (status) => {
    world.setUser({ status });
    await expect(run('begin')).rejects.toMatchObject({ name: 'InvalidState' });
    expect(world.user.status.S).toBe(status);
    expect(cognito.calls()).toHaveLength(0);
  });

  test('an unknown tenant, a claim whose user record is missing or of another tenant, are refused', async () => {
    await expect(deprovision({ step: 'begin', tenant: 'nobody' }, deps())).rejects.toMatchObject({ name: 'TenantNotFound' });
    world.setUser({ tenant: 'other' });
    await expect(run('begin')).rejects.toMatchObject({ name: 'InvalidState', message: expect.stringContaining('whose record is of tenant other') });
    world.items.delete(`USER#${USER}`);
    await expect(run('begin')).rejects.toMatchObject({ name: 'TenantNotFound' });
    expect(cognito.calls()).toHaveLength(0);
  });

  test('a user already gone from the pool does not block deprovisioning', async () => {
    world.users.clear();
    await expect(run('begin')).resolves.toMatchObject({ status: 'DEPROVISIONING' });
  });

  test('bad input is refused by name', async () => {
    await expect(deprovision({ step: 'begin', tenant: '../x' }, deps())).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(deprovision({ step: 'destroy' as any, tenant: T }, deps())).rejects.toMatchObject({ name: 'InvalidInput' });
    await expect(run('begin', undefined, { ...CONFIG, userPoolId: undefined })).rejects.toMatchObject({ name: 'Misconfigured', message: expect.stringContaining('USER_POOL_ID') });
  });
});

describe('stop', () => {
  test('scales the gateway to zero with the deprovisioning field manager, and says GatewayStillRunning until no pod is left', async () => {
    world.kube.restart(2);
    await run('begin');
    await expect(run('stop')).rejects.toMatchObject({ name: 'GatewayStillRunning' });
    expect(world.kube.applied[0]).toEqual({
      object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'openclaw', namespace: NS }, spec: { replicas: 0 } },
      fieldManager: DEPROVISION_FIELD_MANAGER,
    });
    expect(world.user.stoppedAt).toBeUndefined();
    await expect(run('stop')).resolves.toMatchObject({ step: 'stop', deployment: 'stopped' });
    expect(world.kube.running()).toBe(false);
    expect(world.user.stoppedAt?.S).toMatch(/^2025-/);
  });

  test('a gateway that is gone already counts as stopped', async () => {
    world.kube.objects.clear();
    await run('begin');
    await expect(run('stop')).resolves.toMatchObject({ deployment: 'absent' });
    expect(world.kube.applied).toEqual([]);
  });

  test('a gateway deleted between the look and the scale-down is stopped; a failed scale-down of a live gateway is an error', async () => {
    await run('begin');
    const apply = world.kube.apply.bind(world.kube);
    world.kube.apply = async () => {
      world.kube.objects.delete(key({ kind: 'Deployment', namespace: NS, name: 'openclaw' }));
      throw new KubeError(422, 'Invalid', 'Deployment.apps "openclaw" is invalid: spec.selector: Required value');
    };
    await expect(run('stop')).resolves.toMatchObject({ deployment: 'absent' });

    reset();
    await run('begin');
    world.kube.apply = async () => { throw new KubeError(403, 'Forbidden', 'deployments.apps "openclaw" is forbidden'); };
    await expect(run('stop')).rejects.toMatchObject({ name: 'KubeError', status: 403 });
    expect(world.user.stoppedAt).toBeUndefined();
    world.kube.apply = apply;
  });

  test('refuses before begin: an active tenant\'s gateway is never stopped by this function', async () => {
    await expect(run('stop')).rejects.toMatchObject({ name: 'InvalidState' });
    expect(world.kube.applied).toEqual([]);
  });

  test('a gateway that runs again after the export sends an EXPORTED tenant back to DEPROVISIONING: the export must be taken again', async () => {
    await toExported();
    world.kube.restart();
    await expect(run('stop')).resolves.toMatchObject({ deployment: 'stopped' });
    expect(world.user.status.S).toBe('DEPROVISIONING');
    await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified' });
    nothingDeleted();
  });
});

describe('verify', () => {
  test('re-reads and hashes the stored archive; a match with its manifest makes the tenant EXPORTED with the export key', async () => {
    await run('begin');
    await stopUntilStopped();
    const result = await runExport();
    await expect(run('verify', result)).resolves.toEqual({
      step: 'verify', tenant: T, status: 'EXPORTED', exportKey: result.exportKey, sha256: result.sha256, bytes: result.bytes,
    });
    expect(world.user.status.S).toBe('EXPORTED');
    expect(world.user.exportKey.S).toBe(result.exportKey);
    expect(s3.commandCalls(GetObjectCommand).map(c => c.args[0].input.Key)).toEqual([result.manifestKey, result.exportKey]);
    await expect(run('verify', result)).resolves.toMatchObject({ status: 'EXPORTED' }); // idempotent
  });

  test.each([
    ['one byte flipped', (b: Buffer) => { const c = Buffer.from(b); c[700] = 255 - c[700]; return c; }],
    ['truncated', (b: Buffer) => b.subarray(0, b.length - 512)],
    ['extended', (b: Buffer) => Buffer.concat([b, Buffer.alloc(512)])],
  ])('catches a corrupted archive (%s): ExportMismatch, and the tenant stays DEPROVISIONING', async (_, corrupt) => {
    await run('begin');
    await stopUntilStopped();
    const result = await runExport();
    world.objects.set(result.exportKey, corrupt(world.objects.get(result.exportKey)!));
    await expect(run('verify', result)).rejects.toMatchObject({ name: 'ExportMismatch' });
    expect(world.user.status.S).toBe('DEPROVISIONING');
    expect(world.user.exportKey).toBeUndefined();
  });

  test('a missing archive or manifest, or a result that disagrees with the manifest, is ExportMismatch', async () => {
    await run('begin');
    await stopUntilStopped();
    const result = await runExport();
    await expect(run('verify', { ...result, sha256: '0'.repeat(64) })).rejects.toMatchObject({ name: 'ExportMismatch' });
    world.objects.delete(result.manifestKey);
    await expect(run('verify', result)).rejects.toMatchObject({ name: 'ExportMismatch', message: expect.stringContaining('manifest') });
    const second = await runExport();
    world.objects.delete(second.exportKey);
    await expect(run('verify', second)).rejects.toMatchObject({ name: 'ExportMismatch', message: expect.stringContaining('does not exist') });
    expect(world.user.status.S).toBe('DEPROVISIONING');
  });

  test('an export taken before the gateway was confirmed stopped, or while it runs again, is refused', async () => {
    await run('begin');
    const early = await runExport();
    await expect(run('verify', early)).rejects.toMatchObject({ name: 'ExportBeforeStop' });
    await stopUntilStopped();
    await expect(run('verify', early)).rejects.toMatchObject({ name: 'ExportBeforeStop', message: expect.stringContaining('before the gateway stopped') });
    const late = await runExport();
    world.kube.restart();
    await expect(run('verify', late)).rejects.toMatchObject({ name: 'ExportBeforeStop', message: expect.stringContaining('runs again') });
    expect(world.user.status.S).toBe('DEPROVISIONING');
  });

  test('an export cannot be verified when the stop was never recorded, even if the gateway is down by now', async () => {
    await run('begin');
    const early = await runExport(); // taken while the gateway runs
    ddb.on(UpdateItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400)); // stop scales down, then fails to record it
    await expect(run('stop')).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    install();
    expect(world.kube.running()).toBe(false);
    await expect(run('verify', early)).rejects.toMatchObject({ name: 'ExportBeforeStop', message: expect.stringContaining('never confirmed stopped') });
  });

  test('only the tenant\'s own exports are accepted', async () => {
    await run('begin');
    await stopUntilStopped();
    for (const exportKey of [undefined, 'exports/openclaw-other/2025.tar', 'exports/openclaw-acme/../openclaw-other/x.tar', 'exports/openclaw-acme/x.zip']) {
      await expect(run('verify', { exportKey })).rejects.toMatchObject({ name: 'InvalidInput' });
    }
  });
});

describe('remove', () => {
  test('after a verified export: deletes the namespace, the tenant\'s associations and (recoverably) its secret, then REMOVED and one off the count', async () => {
    const exported = await toExported();
    await expect(run('remove')).resolves.toEqual({
      step: 'remove',
      tenant: T,
      status: 'REMOVED',
      exportKey: exported.exportKey,
      alreadyRemoved: false,
      namespaceDeleted: true,
      associationsDeleted: 2,
      secret: 'scheduled',
    });
    expect(world.kube.deleted).toEqual([{ apiVersion: 'v1', kind: 'Namespace', name: NS }]);
    expect(world.kube.objects.has('Namespace//openclaw-other')).toBe(true);
    expect(world.associations.map(a => a.associationId)).toEqual(['a-other']);
    expect(eks.commandCalls(ListPodIdentityAssociationsCommand).map(c => c.args[0].input)).toEqual([
      { clusterName: 'cluster', namespace: NS, nextToken: undefined }, { clusterName: 'cluster', namespace: NS, nextToken: '1' },
    ]);
    expect(secrets.commandCalls(DeleteSecretCommand).map(c => c.args[0].input)).toEqual([{ SecretId: SECRET_ARN, RecoveryWindowInDays: 30 }]);
    expect(world.user.status.S).toBe('REMOVED');
    expect(world.user.exportKey.S).toBe(exported.exportKey);
    expect(world.count).toBe(INITIAL_COUNT - 1);
    expect(world.objects.has(exported.exportKey)).toBe(true);
    expect(world.violations).toEqual([]);
  });

  test('the recovery window comes from SECRET_RECOVERY_DAYS (7 to 30, default 30)', async () => {
    await toExported();
    await run('remove', undefined, configFromEnvironment({ ...process.env, TENANT_TABLE: 'tenants', EXPORT_BUCKET: 'exports', CLUSTER_NAME: 'cluster', SECRET_RECOVERY_DAYS: '7' }));
    expect(secrets.commandCalls(DeleteSecretCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN, RecoveryWindowInDays: 7 });
    expect(configFromEnvironment({}).secretRecoveryDays).toBe(30);
    for (const bad of ['6', '31', '7.5', 'thirty']) expect(() => configFromEnvironment({ SECRET_RECOVERY_DAYS: bad })).toThrow('from 7 to 30');
  });

  describe('refuses, deleting nothing, without a verified export that exists', () => {
    test('no record', async () => {
      world.items.delete(`TENANT#${T}`);
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('no record') });
      nothingDeleted();
    });
    test('a claim without its user record', async () => {
      world.items.delete(`USER#${USER}`);
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('no record') });
      nothingDeleted();
    });
    test.each(['ACTIVE', 'CAPPED', 'PROVISIONING'])('status %s', async (status) => {
      world.setUser({ status, exportKey: 'exports/openclaw-acme/x.tar' });
      world.objects.set('exports/openclaw-acme/x.tar', Buffer.alloc(1024));
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining(`status is ${status}`) });
      nothingDeleted();
    });
    test('status DEPROVISIONING, even with an export in the bucket that was never verified', async () => {
      await run('begin');
      await stopUntilStopped();
      const result = await runExport();
      world.setUser({ exportKey: result.exportKey });
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('status is DEPROVISIONING') });
      nothingDeleted();
    });
    test('EXPORTED without an export key', async () => {
      world.setUser({ status: 'EXPORTED' });
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('no export key') });
      nothingDeleted();
    });
    test('EXPORTED with another tenant\'s export key', async () => {
      world.setUser({ status: 'EXPORTED', exportKey: 'exports/openclaw-other/x.tar' });
      world.objects.set('exports/openclaw-other/x.tar', Buffer.alloc(1024));
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('not one of its exports') });
      nothingDeleted();
    });
    test('the export object is gone', async () => {
      const exported = await toExported();
      world.objects.delete(exported.exportKey);
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('does not exist') });
      nothingDeleted();
    });
    test('the export object cannot be read (403)', async () => {
      await toExported();
      s3.on(HeadObjectCommand).rejects(awsError('Forbidden', 403));
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('denied') });
      nothingDeleted();
    });
    test('the gateway runs again', async () => {
      await toExported();
      world.kube.restart();
      await expect(run('remove')).rejects.toMatchObject({ name: 'ExportNotVerified', message: expect.stringContaining('runs again') });
      nothingDeleted();
    });
  });

  test('a retried remove takes the tenant off the count once: after success, and after a lost answer', async () => {
    await toExported();
    await run('remove');
    await expect(run('remove')).resolves.toMatchObject({ status: 'REMOVED', alreadyRemoved: true });
    expect(world.count).toBe(INITIAL_COUNT - 1);
    expect(secrets.commandCalls(DeleteSecretCommand)).toHaveLength(1);

    reset();
    await toExported();
    ddb.on(TransactWriteItemsCommand).callsFakeOnce(async (input) => {
      // The transaction takes effect, then its answer is lost: the state machine retries the step.
      for (const t of input.TransactItems) {
        const u = t.Update;
        const current = world.items.get(u.Key.pk.S) ?? { pk: u.Key.pk };
        world.put(applyUpdate(u.UpdateExpression, current, u.ExpressionAttributeNames, u.ExpressionAttributeValues));
      }
      throw awsError('InternalServerError', 500);
    });
    await expect(run('remove')).rejects.toMatchObject({ name: 'InternalServerError' });
    await expect(run('remove')).resolves.toMatchObject({ status: 'REMOVED', alreadyRemoved: true });
    expect(world.count).toBe(INITIAL_COUNT - 1);
  });

  test('two removes racing each other take the tenant off the count once', async () => {
    await toExported();
    const results = await Promise.all([run('remove'), run('remove')]);
    expect(results.map(r => r.step === 'remove' && r.alreadyRemoved).sort()).toEqual([false, true]);
    expect(world.user.status.S).toBe('REMOVED');
    expect(world.count).toBe(INITIAL_COUNT - 1);
    expect(world.secrets.get(SECRET_NAME)!.recoveryDays).toBe(30);
    expect(world.violations).toEqual([]);
  });

  test('a remove that failed half-way completes on retry, deleting what is left and counting once', async () => {
    await toExported();
    eks.on(DeletePodIdentityAssociationCommand).rejects(awsError('ServerException', 500));
    await expect(run('remove')).rejects.toMatchObject({ name: 'ServerException' });
    expect(world.user.status.S).toBe('EXPORTED');
    install();
    await expect(run('remove')).resolves.toMatchObject({ namespaceDeleted: false, associationsDeleted: 2, secret: 'scheduled', alreadyRemoved: false });
    expect(world.count).toBe(INITIAL_COUNT - 1);
  });

  test('a secret self-service did not create is never deleted', async () => {
    await toExported();
    world.secrets.get(SECRET_NAME)!.tags = [{ Key: 'tenant-namespace', Value: NS }];
    await expect(run('remove')).rejects.toMatchObject({ name: 'NotSelfService' });
    expect(secrets.commandCalls(DeleteSecretCommand)).toHaveLength(0);
    expect(world.user.status.S).toBe('EXPORTED');
  });

  test('a secret already scheduled for deletion, or gone, is left as it is', async () => {
    await toExported();
    world.secrets.get(SECRET_NAME)!.deletedDate = new Date();
    await expect(run('remove')).resolves.toMatchObject({ secret: 'already-scheduled' });
    expect(secrets.commandCalls(DeleteSecretCommand)).toHaveLength(0);

    reset();
    await toExported();
    world.secrets.clear();
    await expect(run('remove')).resolves.toMatchObject({ secret: 'absent' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

type Action = 'begin' | 'stop' | 'export' | 'verify' | 'remove' | 'lose-export' | 'corrupt-export' | 'restart-gateway';

describe('the deprovisioning guarantee', () => {
  test('for any steps in any order with injected failures, nothing is deleted before an existing export, taken after the gateway last ran, is verified; the count drops once', async () => {
    const action = fc.constantFrom<Action>('begin', 'stop', 'export', 'verify', 'remove', 'lose-export', 'corrupt-export', 'restart-gateway');
    // A failure at the n-th gate (before or after an operation) of the step, or none.
    const failure = fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.nat({ max: 14 }) });
    const op = fc.record({ action, failAt: failure });
    // Any order at all; and the state machine's own order (twice) with steps dropped and anything inserted, which
    // reaches the deletions far more often than a uniform draw.
    const anyOrder = fc.array(op, { maxLength: 16 });
    const HAPPY: Action[] = ['begin', 'stop', 'stop', 'export', 'verify', 'remove'];
    const adversary = fc.record({ action: fc.constantFrom<Action>('lose-export', 'corrupt-export', 'restart-gateway'), failAt: fc.constant(undefined) });
    const perturbed = fc.tuple(
      fc.array(failure, { minLength: 12, maxLength: 12 }),
      fc.array(fc.record({ at: fc.nat({ max: 12 }), op: fc.oneof(op, adversary) }), { maxLength: 6 }),
      fc.uniqueArray(fc.nat({ max: 11 }), { maxLength: 3 }),
    ).map(([fails, inserts, drops]) => {
      const ops = [...HAPPY, ...HAPPY].map((a, i) => ({ action: a, failAt: fails[i] })).filter((_, i) => !drops.includes(i));
      for (const { at, op: extra } of inserts) ops.splice(Math.min(at, ops.length), 0, extra);
      return ops;
    });
    const stats = { runs: 0, removedBySequence: 0, deletedSomething: 0, refusedWithDeletionsLeft: 0 };
    await fc.assert(fc.asyncProperty(fc.oneof(anyOrder, perturbed), async (ops) => {
      stats.runs++;
      reset();
      const attempt = async (a: Action, failAt?: number): Promise<void> => {
        world.failAt = failAt;
        world.gates = 0;
        try {
          switch (a) {
            case 'export': await runExport(); break;
            case 'verify': await run('verify', exportsTaken[exportsTaken.length - 1]); break;
            case 'lose-export': if (exportsTaken.length) world.objects.delete(exportsTaken[exportsTaken.length - 1].exportKey); break;
            case 'corrupt-export': {
              const last = exportsTaken.length ? world.objects.get(exportsTaken[exportsTaken.length - 1].exportKey) : undefined;
              if (last) last[600] = 255 - last[600];
              break;
            }
            case 'restart-gateway': world.kube.restart(); break;
            default: await run(a);
          }
        } catch {
          // failures are expected; the guarantee is checked by the world at each deletion
        } finally {
          world.failAt = undefined;
        }
      };
      for (const { action: a, failAt } of ops) await attempt(a, failAt);
      if (world.user.status.S === 'REMOVED') stats.removedBySequence++;
      if (world.kube.deleted.length) stats.deletedSomething++;
      if (ops.some(o => o.action === 'remove') && world.user.status.S !== 'REMOVED') stats.refusedWithDeletionsLeft++;
      expect(world.violations).toEqual([]);
      expect(world.count).toBe(INITIAL_COUNT - (world.user.status.S === 'REMOVED' ? 1 : 0));

      // Whatever happened, a clean run of the state machine's steps finishes the job, once.
      if (world.user.status.S !== 'REMOVED') {
        await run('begin');
        await stopUntilStopped();
        await run('verify', await runExport());
        await run('remove');
      }
      expect(world.violations).toEqual([]);
      expect(world.user.status.S).toBe('REMOVED');
      expect(world.count).toBe(INITIAL_COUNT - 1);
      expect(world.kube.objects.has(`Namespace//${NS}`)).toBe(false);
      expect(world.associations.map(a => a.associationId)).toEqual(['a-other']);
      expect(world.secrets.get(SECRET_NAME)!.recoveryDays).toBe(30);
    }), { numRuns: 150 });
    // The draws reach the deletions (the property is not vacuous): about one run in five removes the tenant.
    expect(stats.deletedSomething).toBeGreaterThan(0);
    expect(stats.refusedWithDeletionsLeft).toBeGreaterThan(0);
  }, 120_000);

  test('the world notices a deletion that breaks the guarantee (the property above can fail)', async () => {
    await run('begin');
    await world.kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: NS });
    expect(world.violations).toEqual([expect.stringContaining('status DEPROVISIONING, no export key, gateway running')]);
  });
});
