import {
  CognitoIdentityProviderClient, GetUserCommand, NotAuthorizedException, TooManyRequestsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, InvalidRequestException, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCESS_TOKEN_HEADER, SESSION_PATH, userKey } from '../../../src/platform/self-service/contract';
import {
  FunctionUrlEvent, FunctionUrlResult, createHandler, poolIssuer, sessionConfigFromEnvironment,
} from '../../../src/platform/self-service/session.lambda';

const cognito = mockClient(CognitoIdentityProviderClient);
const dynamodb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);

const POOL = 'eu-west-1_AbC123xyz';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/111122223333/openclaw-provisioning';
const ENV = { TENANT_TABLE: 'tenants', QUEUE_URL: QUEUE, USER_POOL_ID: POOL };
const ANN = '8d3e6c8a-6f0e-4b55-9d61-1a2b3c4d5e6f';
const TENANT = 'uabcdefghi';
const GATEWAY_TOKEN = 'G4tewayT0kenValue0123456789abcdefghijklmnopqrstuv';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256', kid: 'k1' })}.${b64(claims)}.c2lnbmF0dXJlLW9mLXRoZS1pc3N1ZXI`;
const ACCESS_TOKEN = jwt({ iss: poolIssuer(POOL), token_use: 'access', sub: ANN, username: ANN, client_id: 'client', exp: 4102444800 });

const logs: string[] = [];
const handler = createHandler({
  cognito: new CognitoIdentityProviderClient({ region: 'eu-west-1' }),
  dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
  sqs: new SQSClient({ region: 'eu-west-1' }),
  secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
  config: () => sessionConfigFromEnvironment(env),
  log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })),
});
let env: Record<string, string | undefined> = ENV;

const request = (method: string, token: string | null = ACCESS_TOKEN, path = SESSION_PATH): FunctionUrlEvent => ({
  version: '2.0',
  rawPath: path,
  headers: token === null ? { host: 'abc.lambda-url.eu-west-1.on.aws' } : { [ACCESS_TOKEN_HEADER]: token },
  requestContext: { http: { method, path } },
});

const record = (status: string, extra: Record<string, string> = {}) => ({
  Item: {
    pk: { S: userKey(ANN) },
    username: { S: ANN },
    tenant: { S: status === 'CAPPED' ? '' : TENANT },
    status: { S: status },
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { S: v }])),
  },
});

/** Every answer is JSON that no cache keeps. */
function body(result: FunctionUrlResult): any {
  expect(result.headers['cache-control']).toBe('no-store');
  expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(result.body);
}

const awsCalls = () => cognito.calls().length + dynamodb.calls().length + sqs.calls().length + secrets.calls().length;

beforeEach(() => {
  for (const m of [cognito, dynamodb, sqs, secrets]) m.reset();
  env = ENV;
  logs.length = 0;
  cognito.on(GetUserCommand).rejects(new NotAuthorizedException({ message: 'Invalid Access Token', $metadata: {} }));
  cognito.on(GetUserCommand, { AccessToken: ACCESS_TOKEN }).resolves({ Username: ANN, UserAttributes: [] });
  dynamodb.on(GetItemCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: GATEWAY_TOKEN });
  secrets.on(RotateSecretCommand).resolves({});
});

afterEach(() => {
  // Neither the access token nor the gateway token is ever logged, whatever happened.
  for (const line of logs) {
    expect(line).not.toContain(ACCESS_TOKEN.split('.')[1]);
    expect(line).not.toContain(ACCESS_TOKEN.split('.')[2]);
    expect(line).not.toContain(GATEWAY_TOKEN);
  }
});

describe('GET: the signed-in user\'s tenant', () => {
  test('Cognito GetUser checks the token, then the record is read by the username it returns', async () => {
    dynamodb.on(GetItemCommand).resolves(record('PROVISIONING'));
    await handler(request('GET'));
    expect(cognito.commandCalls(GetUserCommand)[0].args[0].input).toEqual({ AccessToken: ACCESS_TOKEN });
    expect(dynamodb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'tenants', Key: { pk: { S: userKey(ANN) } }, ConsistentRead: true });
  });

  test('no record yet (an administrator created the user): provisioning is queued, 202 PROVISIONING', async () => {
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ status: 'PROVISIONING', retryAfterSeconds: 5 });
    expect(result.headers['retry-after']).toBe('5');
    const sent = sqs.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0].input.QueueUrl).toBe(QUEUE);
    expect(JSON.parse(sent[0].args[0].input.MessageBody!)).toEqual({ version: 1, userPoolId: POOL, username: ANN });
  });

  test('PROVISIONING: 202 with retryAfterSeconds 5 and nothing queued again', async () => {
    dynamodb.on(GetItemCommand).resolves(record('PROVISIONING'));
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ status: 'PROVISIONING', retryAfterSeconds: 5 });
    expect(sqs.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  test('ACTIVE: 200 with the tenant, its path and the gateway token read from the tenant\'s secret', async () => {
    dynamodb.on(GetItemCommand).resolves(record('ACTIVE'));
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(200);
    expect(body(result)).toEqual({ status: 'ACTIVE', tenant: TENANT, path: `/t/${TENANT}/`, gatewayToken: GATEWAY_TOKEN });
    expect(secrets.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: `openclaw/${TENANT}/gateway-token` });
    expect(sqs.calls()).toHaveLength(0);
  });

  test.each([
    ['CAPPED', { message: 'OpenClaw is at its tenant limit (recorded message).' }, 'OpenClaw is at its tenant limit (recorded message).'],
    ['CAPPED', {}, 'OpenClaw is at its tenant limit, so your workspace could not be created yet. An administrator will create it once there is room.'],
    ['DEPROVISIONING', {}, 'Your workspace is being removed. Ask an administrator if this is unexpected.'],
    ['EXPORTED', {}, 'Your workspace has been removed. Ask an administrator if you need your files.'],
    ['REMOVED', {}, 'Your workspace has been removed. Ask an administrator if you need your files.'],
  ])('%s: 403 with a clear message, no token and nothing queued', async (status, extra, message) => {
    dynamodb.on(GetItemCommand).resolves(record(status, extra));
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(403);
    expect(body(result)).toEqual({ status, message });
    expect(secrets.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  test('an ACTIVE record with an invalid tenant name: 500, no secret read', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: { ...record('ACTIVE').Item, tenant: { S: '../admin' } } });
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(500);
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('DELETE: sign out everywhere', () => {
  test('ACTIVE: an immediate rotation of the tenant\'s token (the schedule untouched), 202 ROTATING', async () => {
    dynamodb.on(GetItemCommand).resolves(record('ACTIVE'));
    const result = await handler(request('DELETE'));
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ status: 'ROTATING' });
    expect(secrets.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: `openclaw/${TENANT}/gateway-token`, RotateImmediately: true }]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('a rotation already under way: 202 ROTATING as well', async () => {
    dynamodb.on(GetItemCommand).resolves(record('ACTIVE'));
    secrets.on(RotateSecretCommand).rejects(new InvalidRequestException({ message: 'A previous rotation isn\'t complete. That rotation will be reattempted.', $metadata: {} }));
    const result = await handler(request('DELETE'));
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ status: 'ROTATING' });
  });

  test('a rotation that cannot start for another reason: 500, not a false "signed out"', async () => {
    dynamodb.on(GetItemCommand).resolves(record('ACTIVE'));
    secrets.on(RotateSecretCommand).rejects(new InvalidRequestException({ message: 'No Lambda rotation function ARN is associated with this secret.', $metadata: {} }));
    const result = await handler(request('DELETE'));
    expect(result.statusCode).toBe(500);
    expect(body(result).status).toBeUndefined();
  });

  test.each([['no record', {}], ['PROVISIONING', record('PROVISIONING')]])('%s: 409, nothing rotated or queued', async (_, item) => {
    dynamodb.on(GetItemCommand).resolves(item);
    const result = await handler(request('DELETE'));
    expect(result.statusCode).toBe(409);
    body(result);
    expect(secrets.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  test('REMOVED: 403, nothing rotated', async () => {
    dynamodb.on(GetItemCommand).resolves(record('REMOVED'));
    const result = await handler(request('DELETE'));
    expect(result.statusCode).toBe(403);
    expect(body(result).status).toBe('REMOVED');
    expect(secrets.calls()).toHaveLength(0);
  });
});

describe('authentication', () => {
  test.each([
    ['no token', null],
    ['an empty token', ''],
    ['not a JWT', 'hello'],
    ['a JWT with an unreadable payload', 'a.b.c'],
    ['an oversized token', `${'a'.repeat(9000)}.b.c`],
  ])('%s: 401 without asking Cognito', async (_, token) => {
    const result = await handler(request('GET', token));
    expect(result.statusCode).toBe(401);
    expect(body(result)).toEqual({ status: 'UNAUTHORIZED', message: expect.stringContaining('Sign in again') });
    expect(awsCalls()).toBe(0);
  });

  test('an access token of ANOTHER user pool naming one of our users is refused, even though Cognito accepts it', async () => {
    const foreign = jwt({ iss: poolIssuer('eu-west-1_Attacker1'), token_use: 'access', sub: ANN, username: ANN });
    cognito.on(GetUserCommand, { AccessToken: foreign }).resolves({ Username: ANN, UserAttributes: [] });
    dynamodb.on(GetItemCommand).resolves(record('ACTIVE'));
    for (const method of ['GET', 'DELETE']) {
      const result = await handler(request(method, foreign));
      expect(result.statusCode).toBe(401);
    }
    expect(dynamodb.calls()).toHaveLength(0);
    expect(secrets.calls()).toHaveLength(0);
  });

  test('an ID token of our pool is not an access token: 401', async () => {
    const idToken = jwt({ iss: poolIssuer(POOL), token_use: 'id', sub: ANN });
    cognito.on(GetUserCommand, { AccessToken: idToken }).resolves({ Username: ANN, UserAttributes: [] });
    const result = await handler(request('GET', idToken));
    expect(result.statusCode).toBe(401);
    expect(dynamodb.calls()).toHaveLength(0);
  });

  test.each(['Access Token has expired', 'Access Token has been revoked', 'User is disabled.'])(
    'a token Cognito refuses (%s): 401, the record is never read', async (message) => {
      const token = jwt({ iss: poolIssuer(POOL), token_use: 'access', sub: ANN, jti: message });
      cognito.on(GetUserCommand, { AccessToken: token }).rejects(new NotAuthorizedException({ message, $metadata: {} }));
      const result = await handler(request('GET', token));
      expect(result.statusCode).toBe(401);
      expect(dynamodb.calls()).toHaveLength(0);
    });

  test('Cognito throttled: 503 with Retry-After, the error logged by name only', async () => {
    cognito.on(GetUserCommand, { AccessToken: ACCESS_TOKEN }).rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(503);
    expect(result.headers['retry-after']).toBe('5');
    body(result);
  });
});

describe('requests the API does not serve', () => {
  test.each(['POST', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'])('%s: 405 with Allow, no AWS call', async (method) => {
    const result = await handler(request(method));
    expect(result.statusCode).toBe(405);
    expect(result.headers.allow).toBe('GET, DELETE');
    body(result);
    expect(awsCalls()).toBe(0);
  });

  test('another path: 404, no AWS call', async () => {
    const result = await handler(request('GET', ACCESS_TOKEN, '/api/session/../admin'));
    expect(result.statusCode).toBe(404);
    body(result);
    expect(awsCalls()).toBe(0);
  });

  test('a failure inside: 500 with a generic message that leaks nothing', async () => {
    dynamodb.on(GetItemCommand).rejects(Object.assign(new Error('User: arn:aws:sts::111122223333:assumed-role/x is not authorized'), { name: 'AccessDeniedException' }));
    const result = await handler(request('GET'));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('arn:aws');
    expect(logs.some((l) => l.includes('AccessDeniedException'))).toBe(true);
  });

  test('a missing or bad USER_POOL_ID: 500 for every request (never an unchecked token)', async () => {
    for (const USER_POOL_ID of [undefined, 'not-a-pool']) {
      env = { ...ENV, USER_POOL_ID };
      const result = await handler(request('GET'));
      expect(result.statusCode).toBe(500);
    }
    expect(awsCalls()).toBe(0);
    expect(() => sessionConfigFromEnvironment({ ...ENV, USER_POOL_ID: undefined })).toThrow('USER_POOL_ID must be set');
  });

  test('the issuer of a pool\'s tokens', () => {
    expect(poolIssuer('eu-west-1_AbC123xyz')).toBe('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123xyz');
  });
});
