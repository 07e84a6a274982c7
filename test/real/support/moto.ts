/**
 * moto's AWS emulation for the real-component tests: one moto server per test file (started in `beforeAll`, stopped
 * by its process id in `afterAll`), reset between tests, and the resources the platform's constructs create, made
 * from the synthesized template of the platform itself so that a change to a table's keys, the user pool's password
 * policy or the provisioning queue's settings reaches these tests without anyone editing them.
 *
 * Only what moto honours is copied from the template: key schemas and attributes, TTL, the user pool's username
 * attributes and password policy, the app client's auth flows and token revocation, the queue's visibility timeout,
 * FIFO settings and redrive policy. KMS keys, deletion protection and the like are left out (moto ignores them).
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import {
  CognitoIdentityProviderClient, CreateUserPoolClientCommand, CreateUserPoolCommand, CreateUserPoolCommandInput, ExplicitAuthFlowsType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  AttributeDefinition, CreateTableCommand, DynamoDBClient, KeySchemaElement, UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { RunningServer, freePort, installTool, removeDir, repoRoot, tempDir } from './servers';

export const MOTO_REGION = 'eu-west-1';
export const MOTO_ACCOUNT = '123456789012'; // moto's default account

/** What every AWS SDK v3 client of a test is built with: moto's endpoint, a region and dummy credentials. */
export interface MotoClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** S3 buckets as paths (`http://127.0.0.1:port/bucket/key`): no wildcard DNS on 127.0.0.1. */
  readonly forcePathStyle: boolean;
  readonly maxAttempts: number;
  readonly requestHandler: { readonly httpAgent: http.Agent };
}

/** One moto server. */
export class Moto {
  /** Starts moto on a free port of 127.0.0.1 (ready in about 3 s). */
  public static async start(name = 'moto'): Promise<Moto> {
    const [program] = installTool('moto');
    const port = await freePort();
    const dir = tempDir('moto');
    const endpoint = `http://127.0.0.1:${port}`;
    const server = await RunningServer.start({
      name,
      command: program,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      // moto reads no AWS settings of ours; a clean environment keeps a developer's profile out of it.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
      ready: async () => (await fetchWithTimeout(`${endpoint}/moto-api/`, { method: 'GET' }, 2_000)).ok,
      readyTimeoutMs: 60_000,
      logFile: path.join(dir, 'moto.log'),
    });
    return new Moto(server, endpoint, dir);
  }

  private constructor(public readonly server: RunningServer, public readonly endpoint: string, private readonly dir: string) {}

  /**
   * The configuration of an SDK client talking to this server (a new one each time: one connection per client).
   *
   * Each client sends its requests one after the other over a single connection. moto's server handles requests in
   * threads without serialising writes to an item, so two conditional writes sent at once can both pass their
   * condition (seen: two concurrent first sign-ups of a domain both counted as 1), which DynamoDB never allows.
   * One connection per client gives moto DynamoDB's per-item serialisation; the handlers' own concurrency (calls of
   * concurrent invocations interleaving between a read and a conditional write) is still exercised in full.
   */
  public get clientConfig(): MotoClientConfig {
    return {
      endpoint: this.endpoint,
      region: MOTO_REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      forcePathStyle: true,
      // A refused call is the answer under test: no retries hiding it (and none slowing a failing test down).
      maxAttempts: 1,
      requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1 }) },
    };
  }

  /** Forgets every resource (moto's reset API), so each test starts from nothing. */
  public async reset(): Promise<void> {
    const answer = await fetchWithTimeout(`${this.endpoint}/moto-api/reset`, { method: 'POST' }, 10_000);
    if (!answer.ok) throw new Error(`moto's reset answered ${answer.status}`);
  }

  /** Stops the server by its process id and removes its directory. */
  public async stop(): Promise<void> {
    await this.server.stop();
    removeDir(this.dir);
  }
}

async function fetchWithTimeout(url: string, init: RequestInit, ms: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts one moto server for the test file and resets it before each test. Use the returned getter inside tests.
 */
export function useMoto(): () => Moto {
  let moto: Moto | undefined;
  beforeAll(async () => {
    moto = await Moto.start();
  }, 90_000);
  afterAll(async () => {
    await moto?.stop();
  }, 30_000);
  beforeEach(async () => {
    await moto!.reset();
  }, 15_000);
  return () => {
    if (!moto) throw new Error('moto is not running (its beforeAll failed)');
    return moto;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// the platform's template

let platformJson: any;

/** What the child process runs: a tenant platform with self-service (and budgets, on by default), synthesized. */
const SYNTH_SCRIPT = `
const { Stack } = require('aws-cdk-lib');
const { Template } = require('aws-cdk-lib/assertions');
const acm = require('aws-cdk-lib/aws-certificatemanager');
const { OpenClawTenantPlatform } = require('./src/platform/platform');
const { testApp } = require('./test/util');
const app = testApp();
const stack = new Stack(app, 'Real');
const certificate = acm.Certificate.fromCertificateArn(stack, 'EdgeCertificate',
  'arn:aws:acm:us-east-1:111122223333:certificate/11111111-2222-3333-4444-555555555555');
new OpenClawTenantPlatform(stack, 'Platform', {
  edge: { domainName: 'openclaw.example.com', certificate },
  selfService: { allowedEmailDomains: ['example.com'] },
});
require('fs').writeFileSync(process.env.TEMPLATE_OUT, JSON.stringify(Template.fromStack(stack).toJSON()));
`;

/**
 * The synthesized template of a tenant platform with self-service and budgets. It is synthesized in a child process
 * without type checking (in the test process, ts-jest would type-check the whole construct library first, minutes
 * on a busy machine) and kept in the temporary directory under a hash of the sources, so the test files of one run
 * synthesize it once and any change to src/ synthesizes it again. Synthesis needs the handlers' bundles; those
 * missing are built with the project's own bundle steps (the `bundle:*` tasks' esbuild commands), as the build would.
 */
export function platformTemplate(): any {
  if (platformJson) return platformJson;
  const root = repoRoot();
  const cached = path.join(os.tmpdir(), `cdk-openclaw-platform-template-${sourcesHash(root)}.json`);
  if (!fs.existsSync(cached)) {
    ensureHandlerBundles();
    const partial = `${cached}.${process.pid}`;
    try {
      execFileSync(path.join(root, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', '--project', 'tsconfig.dev.json', '-e', SYNTH_SCRIPT], {
        cwd: root, env: { ...process.env, TEMPLATE_OUT: partial }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000,
      });
    } catch (e: any) {
      throw new Error(`synthesizing the platform for the moto tests failed:\n${String(e.stderr ?? e.message).slice(-4000)}`);
    }
    fs.renameSync(partial, cached);
  }
  platformJson = JSON.parse(fs.readFileSync(cached, 'utf8'));
  return platformJson;
}

/** A hash of everything synthesis reads from the repository: the sources and the locked dependencies. */
function sourcesHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(full).update(fs.readFileSync(full));
    }
  };
  walk(path.join(root, 'src'));
  hash.update(fs.readFileSync(path.join(root, 'package-lock.json')));
  hash.update(fs.readFileSync(path.join(root, 'test', 'util.ts')));
  return hash.digest('hex').slice(0, 16);
}

function ensureHandlerBundles(): void {
  const root = repoRoot();
  const tasks = JSON.parse(fs.readFileSync(path.join(root, '.projen', 'tasks.json'), 'utf8')).tasks as Record<string, any>;
  for (const step of tasks.bundle?.steps ?? []) {
    for (const s of tasks[step.spawn]?.steps ?? []) {
      const args: string[] | undefined = s.execArgs;
      if (!args || args[0] !== 'esbuild') continue;
      const out = args.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length);
      if (!out || fs.existsSync(path.join(root, out))) continue;
      execFileSync(path.join(root, 'node_modules', '.bin', 'esbuild'), args.slice(1), { cwd: root, stdio: 'pipe', timeout: 120_000 });
    }
  }
}

/** The one resource of `type` whose logical id matches `pattern`, as [logicalId, resource]. */
export function resourceOf(json: any, type: string, pattern: RegExp): [string, any] {
  const found = Object.entries<any>(json.Resources).filter(([id, r]) => r.Type === type && pattern.test(id));
  if (found.length !== 1) throw new Error(`expected one ${type} matching ${pattern} in the platform's template, found ${found.length}`);
  return found[0];
}

/** Logical id patterns of the platform's resources the tests make in moto. */
export const RESOURCES = {
  tenantTable: /^PlatformSelfServiceTenants[0-9A-F]{8}$/,
  counterTable: /^PlatformSelfServiceSignUpCounters[0-9A-F]{8}$/,
  usageTable: /^PlatformBudgetsUsage[0-9A-F]{8}$/,
  userPool: /^PlatformSelfServiceUserPool[0-9A-F]{8}$/,
  userPoolClient: /^PlatformSelfServiceUserPoolWebClient[0-9A-F]{8}$/,
  provisioningQueue: /^PlatformSelfServiceProvisioning[0-9A-F]{8}$/,
  deadLetterQueue: /^PlatformSelfServiceProvisioningDeadLetters[0-9A-F]{8}$/,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// resources

/**
 * Creates the table the template's `AWS::DynamoDB::Table` (by logical id pattern) describes, under `name`: its key
 * schema, attribute definitions, global secondary indexes and TTL attribute. Returns the table's name.
 */
export async function createTableFromTemplate(ddb: DynamoDBClient, logicalId: RegExp, name: string): Promise<string> {
  const [, table] = resourceOf(platformTemplate(), 'AWS::DynamoDB::Table', logicalId);
  const p = table.Properties;
  await ddb.send(new CreateTableCommand({
    TableName: name,
    KeySchema: p.KeySchema as KeySchemaElement[],
    AttributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
    BillingMode: p.BillingMode ?? 'PAY_PER_REQUEST',
    ProvisionedThroughput: p.ProvisionedThroughput,
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
  }));
  if (p.TimeToLiveSpecification?.Enabled) {
    await ddb.send(new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: p.TimeToLiveSpecification.AttributeName, Enabled: true },
    }));
  }
  return name;
}

/** The key schema of a table of the template: its key names by role. */
export function tableKeysOf(logicalId: RegExp): { hash: string; range?: string } {
  const [, table] = resourceOf(platformTemplate(), 'AWS::DynamoDB::Table', logicalId);
  const schema = table.Properties.KeySchema as { AttributeName: string; KeyType: string }[];
  return { hash: schema.find((k) => k.KeyType === 'HASH')!.AttributeName, range: schema.find((k) => k.KeyType === 'RANGE')?.AttributeName };
}

/** The self-service user pool and its web client, with the template's settings that moto honours. */
export async function createUserPoolFromTemplate(cognito: CognitoIdentityProviderClient, name = 'openclaw-users'): Promise<{ userPoolId: string; clientId: string }> {
  const json = platformTemplate();
  const [, pool] = resourceOf(json, 'AWS::Cognito::UserPool', RESOURCES.userPool);
  const [, client] = resourceOf(json, 'AWS::Cognito::UserPoolClient', RESOURCES.userPoolClient);
  const p = pool.Properties;
  const input: CreateUserPoolCommandInput = {
    PoolName: name,
    UsernameAttributes: p.UsernameAttributes,
    AutoVerifiedAttributes: p.AutoVerifiedAttributes,
    Policies: p.Policies,
    MfaConfiguration: p.MfaConfiguration,
    AdminCreateUserConfig: p.AdminCreateUserConfig,
    AccountRecoverySetting: p.AccountRecoverySetting,
    Schema: p.Schema,
  };
  const created = await cognito.send(new CreateUserPoolCommand(input));
  const userPoolId = created.UserPool!.Id!;
  const c = client.Properties;
  const made = await cognito.send(new CreateUserPoolClientCommand({
    UserPoolId: userPoolId,
    ClientName: 'web',
    GenerateSecret: c.GenerateSecret,
    ExplicitAuthFlows: c.ExplicitAuthFlows as ExplicitAuthFlowsType[],
    PreventUserExistenceErrors: c.PreventUserExistenceErrors,
    EnableTokenRevocation: c.EnableTokenRevocation,
    AccessTokenValidity: c.AccessTokenValidity,
    IdTokenValidity: c.IdTokenValidity,
    RefreshTokenValidity: c.RefreshTokenValidity,
    TokenValidityUnits: c.TokenValidityUnits,
    SupportedIdentityProviders: c.SupportedIdentityProviders,
  }));
  return { userPoolId, clientId: made.UserPoolClient!.ClientId! };
}

/** The template's client settings (for tests that check the flow they use is one the client allows). */
export function userPoolClientSettings(): any {
  return resourceOf(platformTemplate(), 'AWS::Cognito::UserPoolClient', RESOURCES.userPoolClient)[1].Properties;
}

/** The provisioning queue and its dead-letter queue, with the template's FIFO, timeout and redrive settings. */
export async function createProvisioningQueues(sqs: SQSClient): Promise<{ queueUrl: string; deadLetterUrl: string }> {
  const json = platformTemplate();
  const [dlqId, dlq] = resourceOf(json, 'AWS::SQS::Queue', RESOURCES.deadLetterQueue);
  const [, queue] = resourceOf(json, 'AWS::SQS::Queue', RESOURCES.provisioningQueue);
  const fifo = queue.Properties.FifoQueue === true;
  const suffix = fifo ? '.fifo' : '';
  const deadLetterUrl = (await sqs.send(new CreateQueueCommand({
    QueueName: `provisioning-dead-letters${suffix}`,
    Attributes: queueAttributes(dlq.Properties),
  }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const redrive = queue.Properties.RedrivePolicy;
  if (redrive && JSON.stringify(redrive.deadLetterTargetArn) !== JSON.stringify({ 'Fn::GetAtt': [dlqId, 'Arn'] })) {
    throw new Error('the provisioning queue\'s dead-letter target is not the template\'s dead-letter queue');
  }
  const queueUrl = (await sqs.send(new CreateQueueCommand({
    QueueName: `provisioning${suffix}`,
    Attributes: {
      ...queueAttributes(queue.Properties),
      ...(redrive ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: redrive.maxReceiveCount }) } : {}),
    },
  }))).QueueUrl!;
  return { queueUrl, deadLetterUrl };
}

function queueAttributes(p: any): Record<string, string> {
  const out: Record<string, string> = {};
  const copy = (from: string, to = from) => {
    if (p[from] !== undefined) out[to] = String(p[from]);
  };
  copy('FifoQueue');
  copy('ContentBasedDeduplication');
  copy('VisibilityTimeout');
  copy('MessageRetentionPeriod');
  copy('DelaySeconds');
  copy('ReceiveMessageWaitTimeSeconds');
  return out;
}

/** The provisioning queue's settings in the template. */
export function provisioningQueueSettings(): any {
  return resourceOf(platformTemplate(), 'AWS::SQS::Queue', RESOURCES.provisioningQueue)[1].Properties;
}

// ---------------------------------------------------------------------------------------------------------------
// the parts moto lacks

/**
 * Answers a real SDK client's commands from an in-memory fake (`{ OperationName: (input) => output }`), before
 * serialization and the network: for the services moto does not emulate (EKS Pod Identity, Logs Insights). A
 * command the fake does not answer fails the test.
 */
export function answeredByFake<C extends { middlewareStack: unknown }>(client: C, service: string, fake: Record<string, (input: any) => object>): C {
  const middleware = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
    const operation = String(context.commandName).replace(/Command$/, '');
    const answer = fake[operation];
    if (!answer) throw new Error(`the ${service} fake does not answer ${operation}`);
    return { output: { $metadata: { httpStatusCode: 200 }, ...answer(structuredClone(args.input)) } };
  };
  (client.middlewareStack as { add(m: unknown, options: object): void }).add(middleware, { step: 'initialize', priority: 'high', name: `${service}Fake` });
  return client;
}
