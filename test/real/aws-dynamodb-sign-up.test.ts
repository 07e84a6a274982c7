/**
 * The sign-up gate (the pre sign-up trigger and its per-domain hourly counter) against moto's DynamoDB: the real
 * handler, a real SDK client, tables made from the platform's synthesized template, and DynamoDB's own evaluation
 * of the conditional writes (the in-memory fakes evaluate a subset we wrote ourselves).
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RESOURCES, createTableFromTemplate, tableKeysOf, useMoto } from './support/moto';
import { COUNTER_TABLE_KEY, COUNTER_TTL_ATTRIBUTE, TENANT_COUNT_KEY, TENANT_TABLE_KEY, signUpCounterKey } from '../../src/platform/self-service/contract';
import { MESSAGES, PreSignUpEvent, createHandler } from '../../src/platform/self-service/pre-sign-up.lambda';
import { SignUpRejected, admitSignUp, hourBucket } from '../../src/platform/self-service/sign-up-limit';

jest.setTimeout(60_000);

const moto = useMoto();
const TENANTS = 'openclaw-tenants';
const COUNTERS = 'openclaw-sign-up-counters';
const NOW = new Date('2026-12-07T10:17:42.000Z');
const HOUR_MS = 3_600_000;

let ddb: DynamoDBClient;

beforeEach(async () => {
  ddb = new DynamoDBClient(moto().clientConfig);
  await createTableFromTemplate(ddb, RESOURCES.tenantTable, TENANTS);
  await createTableFromTemplate(ddb, RESOURCES.counterTable, COUNTERS);
});

afterEach(() => ddb.destroy());

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    TENANT_TABLE: TENANTS,
    COUNTER_TABLE: COUNTERS,
    ALLOWED_DOMAINS: 'example.com,example.org',
    SIGNUPS_PER_DOMAIN_PER_HOUR: '3',
    MAX_TENANTS: '100',
    ...overrides,
  };
}

function signUp(email: string, triggerSource = 'PreSignUp_SignUp'): PreSignUpEvent {
  return { version: '1', triggerSource, region: 'eu-west-1', userPoolId: 'eu-west-1_Example', userName: email, request: { userAttributes: { email } }, response: {} };
}

/** The trigger at a fixed time; its console lines are kept out of the test output. */
function trigger(environment: Record<string, string>, now: Date = NOW) {
  const handler = createHandler({ ddb, env: environment, now: () => now });
  return async (event: PreSignUpEvent) => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    const error = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      return await handler(event);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
}

async function counter(domain: string, at: Date = NOW) {
  const key = { [COUNTER_TABLE_KEY]: { S: signUpCounterKey(domain, hourBucket(at)) } };
  const got = await ddb.send(new GetItemCommand({ TableName: COUNTERS, Key: key, ConsistentRead: true }));
  return got.Item;
}

describe('the tables the tests use are the template\'s', () => {
  test('both self-service tables are keyed by the partition key the handlers write', () => {
    expect(tableKeysOf(RESOURCES.tenantTable)).toEqual({ hash: TENANT_TABLE_KEY, range: undefined });
    expect(tableKeysOf(RESOURCES.counterTable)).toEqual({ hash: COUNTER_TABLE_KEY, range: undefined });
  });
});

describe('the per-domain hourly counter (DynamoDB conditions evaluated by moto)', () => {
  test('admits exactly the hourly allowance of a domain and refuses the next sign-up with the person\'s message', async () => {
    const preSignUp = trigger(env());
    for (let i = 1; i <= 3; i++) {
      const answer = await preSignUp(signUp(`user${i}@example.com`));
      expect(answer.response).toEqual({ autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
    }
    await expect(preSignUp(signUp('user4@example.com'))).rejects.toThrow(new SignUpRejected(MESSAGES.tooMany('example.com', '11')));
    // A refused sign-up takes no slot: the counter stays at the allowance.
    const item = await counter('example.com');
    expect(item?.count).toEqual({ N: '3' });
    // The TTL attribute the table's TimeToLiveSpecification names: an hour after the counter's hour ends.
    expect(Number(item?.[COUNTER_TTL_ATTRIBUTE]?.N)).toBe(Date.parse('2026-12-07T12:00:00Z') / 1000);
  });

  test('the allowance is per domain and per UTC hour', async () => {
    const preSignUp = trigger(env({ SIGNUPS_PER_DOMAIN_PER_HOUR: '1' }));
    await preSignUp(signUp('ann@example.com'));
    await expect(preSignUp(signUp('bob@example.com'))).rejects.toThrow(SignUpRejected);
    await preSignUp(signUp('cat@example.org')); // another domain has its own counter
    await trigger(env({ SIGNUPS_PER_DOMAIN_PER_HOUR: '1' }), new Date(NOW.getTime() + HOUR_MS))(signUp('bob@example.com')); // the next hour
    expect((await counter('example.com'))?.count).toEqual({ N: '1' });
    expect((await counter('example.com', new Date(NOW.getTime() + HOUR_MS)))?.count).toEqual({ N: '1' });
  });

  test('concurrent sign-ups from one domain never take more than the allowance', async () => {
    const limit = 5;
    const attempts = 24;
    const results = await Promise.allSettled(Array.from({ length: attempts }, () =>
      admitSignUp(ddb, { table: COUNTERS, domain: 'example.com', limit, now: NOW })));
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]);
    const admitted = results.filter((r) => r.status === 'fulfilled' && r.value.admitted);
    expect(admitted).toHaveLength(limit);
    // Each admitted sign-up saw its own count: 1..limit, each once.
    expect(admitted.map((r) => (r as PromiseFulfilledResult<{ count?: number }>).value.count).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await counter('example.com'))?.count).toEqual({ N: String(limit) });
  });

  test('a domain that is not on the list takes no slot and never reaches the table', async () => {
    await expect(trigger(env())(signUp('eve@evil.example'))).rejects.toThrow(MESSAGES.domainNotAllowed('evil.example'));
    expect(await counter('evil.example')).toBeUndefined();
  });
});

describe('the tenant cap (read from the tenant table before a slot is taken)', () => {
  async function setTenantCount(count: number) {
    await ddb.send(new PutItemCommand({ TableName: TENANTS, Item: { [TENANT_TABLE_KEY]: { S: TENANT_COUNT_KEY }, count: { N: String(count) } } }));
  }

  test('a full platform refuses self sign-up and administrator-created users, without using the domain\'s allowance', async () => {
    await setTenantCount(2);
    const preSignUp = trigger(env({ MAX_TENANTS: '2' }));
    await expect(preSignUp(signUp('ann@example.com'))).rejects.toThrow(MESSAGES.full(2));
    await expect(preSignUp(signUp('ann@example.com', 'PreSignUp_AdminCreateUser'))).rejects.toThrow(MESSAGES.full(2));
    expect(await counter('example.com')).toBeUndefined();
  });

  test('room for one more admits the sign-up', async () => {
    await setTenantCount(1);
    await trigger(env({ MAX_TENANTS: '2' }))(signUp('ann@example.com'));
    expect((await counter('example.com'))?.count).toEqual({ N: '1' });
  });

  test('a missing table is an outage: refused with the generic message, never the SDK\'s error text', async () => {
    const preSignUp = trigger(env({ COUNTER_TABLE: 'no-such-table' }));
    await expect(preSignUp(signUp('ann@example.com'))).rejects.toThrow(new SignUpRejected(MESSAGES.unavailable));
  });
});
