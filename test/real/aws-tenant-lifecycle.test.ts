/**
 * A self-service tenant's life against moto: the post confirmation trigger queues the provisioning message on a real
 * SQS queue (made from the template), the provisioner consumes it and writes the tenant table with a real
 * TransactWriteItems (cancellation reasons from DynamoDB, not from our fake), creates the gateway token in Secrets
 * Manager; deprovisioning disables and signs the Cognito user out (their real access token is then refused), the
 * export streams a tar into S3 by multipart upload, `verify` reads it back, and `remove` takes the tenant off the
 * count in one transaction.
 *
 * Kept on our fakes, because moto lacks them: EKS Pod Identity associations (moto answers 500) and the cluster API
 * (the Kubernetes tier tests the real API server; here MemoryKube).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  AdminCreateUserCommand, AdminDisableUserCommand, AdminEnableUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient, GetUserCommand, InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  RESOURCES, answeredByFake, createProvisioningQueues, createTableFromTemplate, createUserPoolFromTemplate, provisioningQueueSettings,
  useMoto, userPoolClientSettings,
} from './support/moto';
import { removeDir, tempDir } from './support/servers';
import { samplePlatform } from '../../oracles/lib/tenant-sample';
import { KubeError, TENANT_COUNT_KEY, TENANT_TABLE_KEY, tenantKey, userKey } from '../../src/platform/self-service/contract';
import { DeprovisionDeps, deprovision } from '../../src/platform/self-service/deprovision';
import { MIN_PART_SIZE, exportTenant } from '../../src/platform/self-service/export';
import { createHandler as postConfirmationHandler } from '../../src/platform/self-service/post-confirmation.lambda';
import { CAPPED_MESSAGE, ProvisionOutcome, createHandler as provisionHandler, provisionConfigFromEnvironment } from '../../src/platform/self-service/provision';
import { tenantNameCandidates } from '../../src/platform/self-service/tenant-naming';
import { gatewayTokenSecretName, tenantNamespace } from '../../src/platform/tenant-spec';
import { FakeEks } from '../platform/self-service/fake-aws';
import { MemoryKube } from '../platform/self-service/memory-kube';

jest.setTimeout(120_000);

const moto = useMoto();
const TABLE = 'openclaw-tenants';
const BUCKET = 'openclaw-exports';
const CLUSTER = 'openclaw';
const ROLE = 'arn:aws:iam::123456789012:role/openclaw-tenant';
const PASSWORD = 'Correct-Horse-Battery-9';
const quiet = () => {};

interface World {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly eks: EKSClient;
  readonly fakeEks: FakeEks;
  readonly kube: MemoryKube;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
  readonly kmsKeyArn: string;
  readonly logs: { level: string; message: string; fields?: Record<string, unknown> }[];
}

let world: World;

beforeEach(async () => {
  const config = moto().clientConfig;
  const cognito = new CognitoIdentityProviderClient(config);
  const dynamodb = new DynamoDBClient(config);
  const sqs = new SQSClient(config);
  const s3 = new S3Client(config);
  const fakeEks = new FakeEks(CLUSTER);
  await createTableFromTemplate(dynamodb, RESOURCES.tenantTable, TABLE);
  const { userPoolId, clientId } = await createUserPoolFromTemplate(cognito);
  const { queueUrl, deadLetterUrl } = await createProvisioningQueues(sqs);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: config.region as any } }));
  // The platform key's ARN, as the construct passes it (moto stores it without checking the key: no KMS client here).
  const kmsKeyArn = `arn:aws:kms:${config.region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  world = {
    cognito,
    dynamodb,
    sqs,
    s3,
    fakeEks,
    userPoolId,
    clientId,
    queueUrl,
    deadLetterUrl,
    kmsKeyArn,
    secrets: new SecretsManagerClient(config),
    eks: answeredByFake(new EKSClient(config), 'EKS', {
      ...fakeEks.operations,
      // Deprovisioning's one call the shared fake does not model.
      DeletePodIdentityAssociation: (input: { clusterName?: string; associationId?: string }) => {
        const i = fakeEks.associations.findIndex((a) => a.clusterName === input.clusterName && a.associationId === input.associationId);
        if (i < 0) throw Object.assign(new Error('No association'), { name: 'ResourceNotFoundException' });
        return { association: fakeEks.associations.splice(i, 1)[0] };
      },
    }),
    kube: new MemoryKube(),
    logs: [],
  };
});

afterEach(() => {
  for (const client of [world.cognito, world.dynamodb, world.secrets, world.sqs, world.s3, world.eks]) client.destroy();
});

/** A user as the sign-in page leaves one after confirming: e-mail username attribute, so the username is the sub. */
async function confirmedUser(email: string): Promise<string> {
  const created = await world.cognito.send(new AdminCreateUserCommand({
    UserPoolId: world.userPoolId,
    Username: email,
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }],
    MessageAction: 'SUPPRESS',
  }));
  await world.cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: world.userPoolId, Username: email, Password: PASSWORD, Permanent: true }));
  return created.User!.Username!;
}

/** An access token from the flow the template's web client allows (password sign-in). */
async function signIn(email: string): Promise<string> {
  expect(userPoolClientSettings().ExplicitAuthFlows).toContain('ALLOW_USER_PASSWORD_AUTH');
  const answer = await world.cognito.send(new InitiateAuthCommand({
    ClientId: world.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: PASSWORD },
  }));
  return answer.AuthenticationResult!.AccessToken!;
}

function provisionEnv(maxTenants = 10): Record<string, string> {
  return {
    TENANT_TABLE: TABLE,
    MAX_TENANTS: String(maxTenants),
    CLUSTER_NAME: CLUSTER,
    TENANT_ROLE_ARN: ROLE,
    KMS_KEY_ARN: world.kmsKeyArn,
    PLATFORM_SPEC: JSON.stringify(samplePlatform()),
    TENANT_DEFAULTS: JSON.stringify({ cpu: '4', memory: '8Gi', pods: 10, budgetUsd: 75 }),
    // No scheduled rotation: moto's RotateSecret fails the provisioning (it calls the rotation function, a Lambda
    // function moto runs only in Docker), so the rotation step stays on the fakes of provision.test.ts.
    ROTATION_DAYS: '',
    USER_POOL_ID: world.userPoolId,
  };
}

function provisioner(maxTenants = 10) {
  return provisionHandler({
    cognito: world.cognito,
    dynamodb: world.dynamodb,
    secrets: world.secrets,
    eks: world.eks,
    kube: () => world.kube,
    config: () => provisionConfigFromEnvironment(provisionEnv(maxTenants)),
    log: (level, message, fields) => world.logs.push({ level, message, fields }),
    metric: quiet,
  });
}

const outcomes = () => world.logs.filter((l) => l.message === 'provisioning message handled').map((l) => l.fields?.outcome as ProvisionOutcome);

async function item(pk: string) {
  return (await world.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { [TENANT_TABLE_KEY]: { S: pk } }, ConsistentRead: true }))).Item;
}

async function tenantCount(): Promise<number> {
  const got = await item(TENANT_COUNT_KEY);
  return got ? Number(got.count.N) : 0;
}

/** Takes every message off the provisioning queue (long polling, bounded). */
async function receiveAll() {
  const got = await world.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return got.Messages ?? [];
}

/** Provisions a confirmed user the way production does: post confirmation → queue → provisioner. */
async function provisionThroughQueue(email: string): Promise<{ username: string; tenant: string }> {
  const username = await confirmedUser(email);
  await postConfirmationHandler({ sqs: world.sqs, env: { QUEUE_URL: world.queueUrl } })({
    version: '1', triggerSource: 'PostConfirmation_ConfirmSignUp', region: 'eu-west-1', userPoolId: world.userPoolId, userName: username,
  });
  const [message] = await receiveAll();
  const answer = await provisioner()({ Records: [{ messageId: message.MessageId!, body: message.Body! }] });
  expect(answer.batchItemFailures).toEqual([]);
  await world.sqs.send(new DeleteMessageCommand({ QueueUrl: world.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
  const record = await item(userKey(username));
  return { username, tenant: record!.tenant.S! };
}

describe('provisioning: post confirmation → SQS → provisioner → DynamoDB and Secrets Manager', () => {
  test('one confirmed sign-up puts one message on the template\'s queue, and consuming it makes exactly one ACTIVE tenant', async () => {
    expect(provisioningQueueSettings().FifoQueue).toBeUndefined(); // a standard queue: duplicates are possible, so replays must be harmless
    const username = await confirmedUser('ann@example.com');
    const post = postConfirmationHandler({ sqs: world.sqs, env: { QUEUE_URL: world.queueUrl } });
    await post({ version: '1', triggerSource: 'PostConfirmation_ConfirmSignUp', region: 'eu-west-1', userPoolId: world.userPoolId, userName: username });
    // A password reset confirmation queues nothing.
    await post({ version: '1', triggerSource: 'PostConfirmation_ConfirmForgotPassword', region: 'eu-west-1', userPoolId: world.userPoolId, userName: username });

    const messages = await receiveAll();
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0].Body!)).toEqual({ version: 1, userPoolId: world.userPoolId, username });

    const deliver = provisioner();
    const answer = await deliver({ Records: [{ messageId: messages[0].MessageId!, body: messages[0].Body! }] });
    expect(answer.batchItemFailures).toEqual([]);
    await world.sqs.send(new DeleteMessageCommand({ QueueUrl: world.queueUrl, ReceiptHandle: messages[0].ReceiptHandle! }));

    const record = await item(userKey(username));
    const tenant = record!.tenant.S!;
    expect(tenant).toBe(tenantNameCandidates(username)[0]);
    expect(record).toMatchObject({
      status: { S: 'ACTIVE' },
      email: { S: 'ann@example.com' },
      username: { S: username },
      steps: { L: [{ S: 'claim' }, { S: 'gateway-token' }, { S: 'pod-identity' }, { S: 'manifests' }] },
    });
    expect(await item(tenantKey(tenant))).toMatchObject({ username: { S: username } });
    expect(await tenantCount()).toBe(1);

    // The gateway token is a real secret with the tags deprovisioning and the budgets read.
    const secret = await world.secrets.send(new DescribeSecretCommand({ SecretId: gatewayTokenSecretName(tenant) }));
    expect(Object.fromEntries((secret.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      'tenant-namespace': tenantNamespace(tenant), 'budget-usd': '75', 'openclaw:provisioned-by': 'self-service',
    });
    expect(secret.KmsKeyId).toBe(world.kmsKeyArn);
    const token = (await world.secrets.send(new GetSecretValueCommand({ SecretId: gatewayTokenSecretName(tenant) }))).SecretString;
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);

    // A duplicate delivery (a standard queue delivers at least once) changes nothing.
    const again = await deliver({ Records: [{ messageId: 'replayed', body: messages[0].Body! }] });
    expect(again.batchItemFailures).toEqual([]);
    expect(outcomes()).toEqual(['provisioned', 'already-active']);
    expect(await tenantCount()).toBe(1);
    expect((await world.secrets.send(new GetSecretValueCommand({ SecretId: gatewayTokenSecretName(tenant) }))).SecretString).toBe(token);
    expect(await receiveAll()).toEqual([]);
  });

  test('concurrent provisioning of more users than the cap: TransactWriteItems lets exactly the cap in, the rest are CAPPED', async () => {
    const max = 2;
    const usernames: string[] = [];
    for (let i = 0; i < 5; i++) usernames.push(await confirmedUser(`user${i}@example.com`));
    const deliver = provisioner(max);
    const answers = await Promise.all(usernames.map((username, i) => deliver({
      Records: [{ messageId: `m${i}`, body: JSON.stringify({ version: 1, userPoolId: world.userPoolId, username }) }],
    })));
    // A lost race is a transaction cancelled by DynamoDB; the provisioner reads it again, never fails the message.
    expect(answers.flatMap((a) => a.batchItemFailures)).toEqual([]);
    const records = await Promise.all(usernames.map((u) => item(userKey(u))));
    const statuses = records.map((r) => r!.status.S).sort();
    expect(statuses).toEqual(['ACTIVE', 'ACTIVE', 'CAPPED', 'CAPPED', 'CAPPED']);
    expect(records.filter((r) => r!.status.S === 'CAPPED').every((r) => r!.message.S === CAPPED_MESSAGE && r!.tenant.S === '')).toBe(true);
    expect(await tenantCount()).toBe(max);
    expect(outcomes().sort()).toEqual(['capped', 'capped', 'capped', 'provisioned', 'provisioned']);
  });

  test('a tenant name already claimed by someone else: the transaction is cancelled on the claim and the next candidate is used', async () => {
    const username = await confirmedUser('ann@example.com');
    const [first, second] = tenantNameCandidates(username);
    await world.dynamodb.send(new PutItemCommand({
      TableName: TABLE, Item: { [TENANT_TABLE_KEY]: { S: tenantKey(first) }, username: { S: 'someone-else' }, createdAt: { S: '2026-01-01T00:00:00.000Z' } },
    }));
    const answer = await provisioner()({ Records: [{ messageId: 'm', body: JSON.stringify({ version: 1, userPoolId: world.userPoolId, username }) }] });
    expect(answer.batchItemFailures).toEqual([]);
    expect((await item(userKey(username)))!.tenant.S).toBe(second);
    expect((await item(tenantKey(first)))!.username.S).toBe('someone-else');
    expect(await tenantCount()).toBe(1);
  });

  test('a disabled user is not provisioned (AdminGetUser as Cognito answers it)', async () => {
    const username = await confirmedUser('ann@example.com');
    await world.cognito.send(new AdminDisableUserCommand({ UserPoolId: world.userPoolId, Username: username }));
    await provisioner()({ Records: [{ messageId: 'm', body: JSON.stringify({ version: 1, userPoolId: world.userPoolId, username }) }] });
    expect(outcomes()).toEqual(['not-provisionable']);
    expect(await item(userKey(username))).toBeUndefined();
  });
});

describe('deprovisioning: Cognito sign-out, the S3 export read back, the tenant table', () => {
  let mount: string;
  beforeEach(() => {
    mount = tempDir('export-mount');
  });
  afterEach(() => removeDir(mount));

  function deps(now: () => Date = () => new Date()): DeprovisionDeps {
    return {
      dynamodb: world.dynamodb,
      cognito: world.cognito,
      s3: world.s3,
      eks: world.eks,
      secrets: world.secrets,
      kube: () => world.kube,
      config: { tableName: TABLE, userPoolId: world.userPoolId, exportBucket: BUCKET, clusterName: CLUSTER, secretRecoveryDays: 7 },
      now,
    };
  }

  test('begin → stop → export → verify → remove: the user is locked out, the archive reads back whole, the count drops', async () => {
    const { username, tenant } = await provisionThroughQueue('ann@example.com');
    const token = await signIn('ann@example.com');
    const tokenOfUsername = await signIn(username);
    expect((await world.cognito.send(new GetUserCommand({ AccessToken: token }))).Username).toBe(username);
    expect((await world.cognito.send(new GetUserCommand({ AccessToken: tokenOfUsername }))).Username).toBe(username);
    expect(world.fakeEks.associations).toHaveLength(1);

    // begin: DEPROVISIONING, the user disabled and signed out everywhere.
    const begun = await deprovision({ step: 'begin', tenant }, deps());
    expect(begun).toEqual({ step: 'begin', tenant, username, status: 'DEPROVISIONING' });
    expect((await world.cognito.send(new AdminGetUserCommand({ UserPoolId: world.userPoolId, Username: username }))).Enabled).toBe(false);
    await expect(world.cognito.send(new GetUserCommand({ AccessToken: token }))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(signIn('ann@example.com')).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    // The sign-out on its own: a token issued under the username (the name deprovisioning signs out; moto revokes only
    // tokens issued under the very name given) stays refused after an administrator enables the account again.
    await world.cognito.send(new AdminEnableUserCommand({ UserPoolId: world.userPoolId, Username: username }));
    await expect(world.cognito.send(new GetUserCommand({ AccessToken: tokenOfUsername }))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await world.cognito.send(new AdminDisableUserCommand({ UserPoolId: world.userPoolId, Username: username }));
    // Idempotent: a retried begin changes nothing and still succeeds.
    await expect(deprovision({ step: 'begin', tenant }, deps())).resolves.toMatchObject({ status: 'DEPROVISIONING' });

    // stop: the gateway scaled to zero (in the in-memory cluster), the stop time recorded.
    const stopped = await deprovision({ step: 'stop', tenant }, deps());
    expect(stopped).toMatchObject({ step: 'stop', deployment: 'stopped' });

    // export: the tenant's directory, with a file larger than one part, so the upload has several parts.
    const root = path.join(mount, tenantNamespace(tenant));
    fs.mkdirSync(path.join(root, 'workspace', 'notes'), { recursive: true });
    const big = Buffer.alloc(MIN_PART_SIZE + 1234567, 0);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    fs.writeFileSync(path.join(root, 'workspace', 'big.bin'), big);
    fs.writeFileSync(path.join(root, 'workspace', 'notes', 'today.md'), '# Today\n\nÄrger mit Umlauten — und Unicode.\n');
    fs.symlinkSync('notes/today.md', path.join(root, 'workspace', 'latest.md'));
    const exported = await exportTenant(tenant, { s3: world.s3, bucket: BUCKET, mount, kmsKeyId: world.kmsKeyArn });
    expect(exported.files).toBe(2);
    expect(exported.bytes).toBeGreaterThan(MIN_PART_SIZE);
    const head = await world.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: exported.exportKey, PartNumber: 1 }));
    expect(head.PartsCount).toBe(2);

    // The stored archive, read back from S3, untars (with the system's tar) to the same files.
    const object = await world.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: exported.exportKey }));
    const archive = Buffer.from(await object.Body!.transformToByteArray());
    expect(archive.length).toBe(exported.bytes);
    const out = tempDir('untar');
    try {
      fs.writeFileSync(path.join(out, 'export.tar'), archive);
      execFileSync('tar', ['-xf', 'export.tar'], { cwd: out });
      const back = path.join(out, tenantNamespace(tenant), 'workspace');
      expect(fs.readFileSync(path.join(back, 'big.bin')).equals(big)).toBe(true);
      expect(fs.readFileSync(path.join(back, 'notes', 'today.md'), 'utf8')).toBe('# Today\n\nÄrger mit Umlauten — und Unicode.\n');
      expect(fs.readlinkSync(path.join(back, 'latest.md'))).toBe('notes/today.md');
    } finally {
      removeDir(out);
    }

    // verify: hashes the stored object against its manifest; EXPORTED.
    const verified = await deprovision({ step: 'verify', tenant, export: exported }, deps());
    expect(verified).toMatchObject({ step: 'verify', status: 'EXPORTED', exportKey: exported.exportKey, sha256: exported.sha256 });

    // remove: namespace, association and secret go; REMOVED and off the count in one transaction.
    const removed = await deprovision({ step: 'remove', tenant }, deps());
    expect(removed).toMatchObject({ step: 'remove', status: 'REMOVED', alreadyRemoved: false, namespaceDeleted: true, associationsDeleted: 1, secret: 'scheduled' });
    expect((await item(userKey(username)))!.status.S).toBe('REMOVED');
    expect(await tenantCount()).toBe(0);
    const secret = await world.secrets.send(new DescribeSecretCommand({ SecretId: gatewayTokenSecretName(tenant) }));
    expect(secret.DeletedDate).toBeDefined();
    // Again: nothing more is taken off the count.
    await expect(deprovision({ step: 'remove', tenant }, deps())).resolves.toMatchObject({ alreadyRemoved: true });
    expect(await tenantCount()).toBe(0);
  });

  test('verify refuses an archive that is not what its manifest describes (the object replaced in S3)', async () => {
    const { tenant } = await provisionThroughQueue('ann@example.com');
    await deprovision({ step: 'begin', tenant }, deps());
    await deprovision({ step: 'stop', tenant }, deps());
    fs.mkdirSync(path.join(mount, tenantNamespace(tenant)), { recursive: true });
    fs.writeFileSync(path.join(mount, tenantNamespace(tenant), 'a.txt'), 'a');
    const exported = await exportTenant(tenant, { s3: world.s3, bucket: BUCKET, mount });
    await world.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: exported.exportKey, Body: Buffer.alloc(exported.bytes, 1) }));
    await expect(deprovision({ step: 'verify', tenant, export: exported }, deps())).rejects.toMatchObject({ name: 'ExportMismatch' });
    await expect(deprovision({ step: 'remove', tenant }, deps())).rejects.toMatchObject({ name: 'ExportNotVerified' });
    expect(await tenantCount()).toBe(1);
  });

  test('a message the provisioner keeps failing is delivered again, then lands on the template\'s dead-letter queue', async () => {
    const settings = provisioningQueueSettings();
    const maxReceiveCount: number = settings.RedrivePolicy.maxReceiveCount;
    const attributes = await world.sqs.send(new GetQueueAttributesCommand({ QueueUrl: world.queueUrl, AttributeNames: ['All'] }));
    expect(attributes.Attributes!.VisibilityTimeout).toBe(String(settings.VisibilityTimeout));

    const username = await confirmedUser('ann@example.com');
    await postConfirmationHandler({ sqs: world.sqs, env: { QUEUE_URL: world.queueUrl } })({
      version: '1', triggerSource: 'PostConfirmation_ConfirmSignUp', region: 'eu-west-1', userPoolId: world.userPoolId, userName: username,
    });
    // The cluster API is down: every delivery fails after the claim.
    const failing = provisionHandler({
      cognito: world.cognito,
      dynamodb: world.dynamodb,
      secrets: world.secrets,
      eks: world.eks,
      kube: () => { throw new KubeError(503, 'ServiceUnavailable', 'the cluster API is unavailable'); },
      config: () => provisionConfigFromEnvironment(provisionEnv()),
      log: (level, message, fields) => world.logs.push({ level, message, fields }),
      metric: quiet,
    });
    let deliveries = 0;
    // What Lambda's event source does with a reported failure: nothing, so the message comes back once its visibility
    // timeout ends (made to end now instead of after the template's 720 s).
    for (let round = 0; round < maxReceiveCount + 2; round++) {
      const [message] = await receiveAll();
      if (!message) break;
      deliveries++;
      const answer = await failing({ Records: [{ messageId: message.MessageId!, body: message.Body! }] });
      expect(answer.batchItemFailures).toEqual([{ itemIdentifier: message.MessageId }]);
      await world.sqs.send(new ChangeMessageVisibilityCommand({
        QueueUrl: world.queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0,
      }));
    }
    expect(deliveries).toBe(maxReceiveCount);
    const dead = await world.sqs.send(new ReceiveMessageCommand({ QueueUrl: world.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((dead.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([{ version: 1, userPoolId: world.userPoolId, username }]);
    // The failed attempts kept the claim (one tenant counted), to be finished when the message is re-driven.
    expect((await item(userKey(username)))!.status.S).toBe('PROVISIONING');
    expect(await tenantCount()).toBe(1);
  });
});
