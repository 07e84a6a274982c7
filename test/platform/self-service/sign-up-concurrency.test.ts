/**
 * The hourly sign-up limit against a real DynamoDB-compatible engine (dynalite, in process): the conditional
 * UpdateItem must hold under concurrency, which no mock can show.
 */
import { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createHandler, PreSignUpEvent } from '../../../src/platform/self-service/pre-sign-up.lambda';

// dynalite ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: { createTableMs: number }) => import('node:http').Server = require('dynalite');

const TENANTS = 'tenants';
const COUNTERS = 'signup-counters';
const ENV = { TENANT_TABLE: TENANTS, COUNTER_TABLE: COUNTERS, ALLOWED_DOMAINS: 'example.com,example.org', MAX_TENANTS: '100' };
const TOO_MANY = /^Too many sign-ups from example\.(com|org) this hour; try again after \d\d:00 UTC\.$/;

let server: import('node:http').Server;
let ddb: DynamoDBClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  ddb = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const table of [TENANTS, COUNTERS]) {
    await ddb.send(new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    while ((await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus !== 'ACTIVE') {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
});

afterAll(async () => {
  ddb?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(() => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

function signUp(email: string, i: number): PreSignUpEvent {
  return {
    version: '1',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_AbCdEfGhI',
    userName: `user-${i}`,
    triggerSource: 'PreSignUp_SignUp',
    request: { userAttributes: { email } },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

/** Runs the sign-ups all at once; answers how many were admitted and the distinct refusal messages. */
async function burst(handler: ReturnType<typeof createHandler>, emails: string[]) {
  const results = await Promise.allSettled(emails.map((email, i) => handler(signUp(email, i))));
  const refusals = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  return { admitted: results.length - refusals.length, refusals: [...new Set(refusals)] };
}

async function counter(key: string) {
  const got = await ddb.send(new GetItemCommand({ TableName: COUNTERS, Key: { pk: { S: key } }, ConsistentRead: true }));
  return got.Item && { count: Number(got.Item.count.N), expiresAt: Number(got.Item.expiresAt.N) };
}

test('50 parallel sign-ups from one domain admit exactly the default limit of 5; the rest are told to come back next hour', async () => {
  const handler = createHandler({ ddb, env: ENV, now: () => new Date('2025-03-04T10:17:00Z') });
  const { admitted, refusals } = await burst(handler, Array.from({ length: 50 }, (_, i) => `user${i}@example.com`));
  expect(admitted).toBe(5);
  expect(refusals).toEqual(['Too many sign-ups from example.com this hour; try again after 11:00 UTC.']);
  expect(await counter('SIGNUP#example.com#2025-03-04T10')).toEqual({ count: 5, expiresAt: Date.UTC(2025, 2, 4, 12) / 1000 });
});

test('two domains signing up at the same time are counted independently', async () => {
  const handler = createHandler({ ddb, env: { ...ENV, SIGNUPS_PER_DOMAIN_PER_HOUR: '7' }, now: () => new Date('2025-05-01T08:30:00Z') });
  const emails = Array.from({ length: 100 }, (_, i) => (i % 2 ? `u${i}@example.org` : `u${i}@example.com`));
  const { admitted, refusals } = await burst(handler, emails);
  expect(admitted).toBe(14);
  expect(refusals.every((message) => TOO_MANY.test(message))).toBe(true);
  expect(await counter('SIGNUP#example.com#2025-05-01T08')).toMatchObject({ count: 7 });
  expect(await counter('SIGNUP#example.org#2025-05-01T08')).toMatchObject({ count: 7 });
});

test('a new UTC hour starts a new allowance; the last hour\'s counter is left to expire', async () => {
  const at = (iso: string) => createHandler({ ddb, env: ENV, now: () => new Date(iso) });
  const emails = Array.from({ length: 20 }, (_, i) => `late${i}@example.com`);
  expect((await burst(at('2025-06-10T13:59:59.999Z'), emails)).admitted).toBe(5);
  expect((await burst(at('2025-06-10T13:59:59.999Z'), emails)).admitted).toBe(0);
  expect((await burst(at('2025-06-10T14:00:00.000Z'), emails)).admitted).toBe(5);
  expect(await counter('SIGNUP#example.com#2025-06-10T13')).toEqual({ count: 5, expiresAt: Date.UTC(2025, 5, 10, 15) / 1000 });
  expect(await counter('SIGNUP#example.com#2025-06-10T14')).toEqual({ count: 5, expiresAt: Date.UTC(2025, 5, 10, 16) / 1000 });
});

test('a full platform refuses every sign-up and leaves the hourly counter untouched', async () => {
  await ddb.send(new PutItemCommand({ TableName: TENANTS, Item: { pk: { S: 'META#tenant-count' }, count: { N: '3' } } }));
  try {
    const handler = createHandler({ ddb, env: { ...ENV, MAX_TENANTS: '3' }, now: () => new Date('2025-07-01T09:00:00Z') });
    const { admitted, refusals } = await burst(handler, Array.from({ length: 10 }, (_, i) => `full${i}@example.com`));
    expect(admitted).toBe(0);
    expect(refusals).toEqual(['The platform has reached its limit of 3 tenants; ask an administrator.']);
    expect(await counter('SIGNUP#example.com#2025-07-01T09')).toBeUndefined();
  } finally {
    await ddb.send(new PutItemCommand({ TableName: TENANTS, Item: { pk: { S: 'META#tenant-count' }, count: { N: '0' } } }));
  }
});
