/**
 * What one more self-service sign-up and one more provisioning cost with 10, 1,000 and 10,000 users and tenants
 * already there, counted in API calls: the real handlers (the pre sign-up trigger; the post-confirmation trigger and
 * the provisioner) over real AWS SDK clients whose requests are answered in the process, by the fakes of DynamoDB,
 * Cognito, Secrets Manager, EKS and SQS (test/.../fake-aws.ts, shared with the provisioner's tests) with every call
 * counted, and a counting in-memory cluster (test/.../memory-kube.ts). Next to
 * them, the design this replaced: a pre sign-up that listed every user of the pool (ListUsers, 60 users a page).
 *
 * Prints a Markdown table (AWS calls by service and operation, Kubernetes calls, DynamoDB items read and written,
 * Cognito users returned) and the ratio calls(10,000) / calls(10) of each flow. Exits non-zero when any count of ours
 * differs between sizes (the cost of a sign-up or a tenant must not depend on how many there are), or when a flow
 * does not end as it should (sign-up admitted; tenant ACTIVE and counted).
 *
 *   npx ts-node -r tsconfig-paths/register --project tsconfig.dev.json bench/self-service.ts
 */
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
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
import {
  FakeCognito, FakeDynamoDB, FakeEks, FakeOperations, FakeSecretsManager, FakeSqs, Item, KEY, LIST_USERS_PAGE,
} from '../test/platform/self-service/fake-aws';
import { MemoryKube } from '../test/platform/self-service/memory-kube';

const SIZES = [10, 1_000, 10_000];

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
// retries and the network) counts the command and returns the answer of a fake of test/.../fake-aws.ts, or throws the
// fake's error.
// ------------------------------------------------------------------------------------------------------------------

const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };

function answeredBy<C extends { middlewareStack: unknown }>(client: C, service: string, fake: FakeOperations): C {
  const middleware = (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
    const operation = String(context.commandName).replace(/Command$/, '');
    bump(tally.aws, `${service} ${operation}`);
    const answer = fake[operation];
    if (!answer) {
      unsupported.push(`${service} ${operation}`);
      throw new Error(`the benchmark's ${service} fake does not answer ${operation}; extend test/platform/self-service/fake-aws.ts`);
    }
    return { output: { $metadata: { httpStatusCode: 200 }, ...answer(structuredClone(args.input)) } };
  };
  (client.middlewareStack as { add(m: unknown, options: object): void }).add(middleware, { step: 'initialize', priority: 'high', name: 'benchInMemory' });
  return client;
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
  public readonly dynamodb = new FakeDynamoDB([TENANTS, COUNTERS], { itemRead: () => tally.itemsRead++, itemWritten: () => tally.itemsWritten++ });
  public readonly cognito = new FakeCognito(POOL, { usersReturned: (count) => { tally.usersReturned += count; } });
  public readonly secrets = new FakeSecretsManager(() => NOW);
  public readonly eks = new FakeEks(CLUSTER);
  public readonly sqs = new FakeSqs(QUEUE_URL);
  /** Real SDK clients answered by the fakes, a new one each call, every command counted. */
  public readonly clients = {
    dynamodb: () => answeredBy(new DynamoDBClient(CLIENT_CONFIG), 'DynamoDB', this.dynamodb.operations),
    cognito: () => answeredBy(new CognitoIdentityProviderClient(CLIENT_CONFIG), 'Cognito', this.cognito.operations),
    secrets: () => answeredBy(new SecretsManagerClient(CLIENT_CONFIG), 'Secrets Manager', this.secrets.operations),
    eks: () => answeredBy(new EKSClient(CLIENT_CONFIG), 'EKS', this.eks.operations),
    sqs: () => answeredBy(new SQSClient(CLIENT_CONFIG), 'SQS', this.sqs.operations),
  };
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
        { lambdaArn: ROTATION_FN, rules: { ScheduleExpression: 'rate(30 days)' } });
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
    ddb: platform.clients.dynamodb(),
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
  const cognito = platform.clients.cognito();
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
  const confirm = createPostConfirmation({ sqs: platform.clients.sqs(), env: { QUEUE_URL } });
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
    cognito: platform.clients.cognito(),
    dynamodb: platform.clients.dynamodb(),
    secrets: platform.clients.secrets(),
    eks: platform.clients.eks(),
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
    platform.eks.associations.find((a) => a.namespace === rendered.namespace && a.serviceAccount === rendered.serviceAccount)?.roleArn !== ROLE && 'no Pod Identity association',
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
