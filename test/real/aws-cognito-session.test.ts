/**
 * The session API (session.lambda.ts) with real Cognito access tokens from moto: the handler's GetUser check of
 * the token, the issuer check against this platform's pool, a global sign-out and a disabled user both ending the
 * token, a user without a record getting a real provisioning message on the template's queue, and an ACTIVE
 * tenant's gateway token read from Secrets Manager.
 *
 * The DELETE answer's rotation stays on our fakes (test/platform/self-service/session.test.ts): moto's
 * RotateSecret needs a rotation Lambda function it would run in Docker.
 */
import {
  AdminCreateUserCommand, AdminDisableUserCommand, AdminSetUserPasswordCommand, AdminUserGlobalSignOutCommand, CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { RESOURCES, createProvisioningQueues, createTableFromTemplate, createUserPoolFromTemplate, useMoto, userPoolClientSettings } from './support/moto';
import { ACCESS_TOKEN_HEADER, SESSION_PATH, TENANT_TABLE_KEY, userKey } from '../../src/platform/self-service/contract';
import { FunctionUrlEvent, createHandler, poolIssuer } from '../../src/platform/self-service/session.lambda';
import { gatewayTokenSecretName } from '../../src/platform/tenant-spec';

jest.setTimeout(60_000);

const moto = useMoto();
const TABLE = 'openclaw-tenants';
const PASSWORD = 'Correct-Horse-Battery-9';

let cognito: CognitoIdentityProviderClient;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
let secrets: SecretsManagerClient;
let pool: { userPoolId: string; clientId: string };
let queueUrl: string;
let logs: { level: string; message: string }[];

beforeEach(async () => {
  const config = moto().clientConfig;
  cognito = new CognitoIdentityProviderClient(config);
  dynamodb = new DynamoDBClient(config);
  sqs = new SQSClient(config);
  secrets = new SecretsManagerClient(config);
  await createTableFromTemplate(dynamodb, RESOURCES.tenantTable, TABLE);
  pool = await createUserPoolFromTemplate(cognito);
  queueUrl = (await createProvisioningQueues(sqs)).queueUrl;
  logs = [];
});

afterEach(() => {
  for (const client of [cognito, dynamodb, sqs, secrets]) client.destroy();
});

function session() {
  return createHandler({
    cognito,
    dynamodb,
    sqs,
    secrets,
    config: () => ({ tenantTable: TABLE, queueUrl, userPoolId: pool.userPoolId }),
    log: (level, message) => logs.push({ level, message }),
  });
}

const request = (method: string, token?: string): FunctionUrlEvent => ({
  version: '2.0',
  rawPath: SESSION_PATH,
  headers: token === undefined ? {} : { [ACCESS_TOKEN_HEADER]: token },
  requestContext: { http: { method, path: SESSION_PATH } },
});

async function user(email: string, userPoolId = pool.userPoolId): Promise<string> {
  const created = await cognito.send(new AdminCreateUserCommand({
    UserPoolId: userPoolId,
    Username: email,
    MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }],
  }));
  await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: email, Password: PASSWORD, Permanent: true }));
  return created.User!.Username!;
}

/** Signs in with the flow the template's web client allows, as the sign-in page does. */
async function signIn(email: string, clientId = pool.clientId): Promise<string> {
  expect(userPoolClientSettings().ExplicitAuthFlows).toContain('ALLOW_USER_PASSWORD_AUTH');
  const answer = await cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD } }));
  return answer.AuthenticationResult!.AccessToken!;
}

async function activeTenant(username: string, tenant: string, gatewayToken: string) {
  const now = new Date().toISOString();
  await dynamodb.send(new PutItemCommand({
    TableName: TABLE,
    Item: {
      [TENANT_TABLE_KEY]: { S: userKey(username) },
      username: { S: username },
      email: { S: 'ann@example.com' },
      tenant: { S: tenant },
      status: { S: 'ACTIVE' },
      createdAt: { S: now },
      updatedAt: { S: now },
    },
  }));
  await secrets.send(new CreateSecretCommand({ Name: gatewayTokenSecretName(tenant), SecretString: gatewayToken }));
}

const body = (answer: { body: string }) => JSON.parse(answer.body);

describe('the session API with real Cognito tokens', () => {
  test('the issuer of moto\'s tokens is the one the handler expects of this pool', async () => {
    await user('ann@example.com');
    const token = await signIn('ann@example.com');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ iss: poolIssuer(pool.userPoolId), token_use: 'access' });
  });

  test('a signed-in user without a record gets 202 PROVISIONING and one provisioning message on the queue', async () => {
    const username = await user('ann@example.com');
    const answer = await session()(request('GET', await signIn('ann@example.com')));
    expect(answer.statusCode).toBe(202);
    expect(body(answer)).toEqual({ status: 'PROVISIONING', retryAfterSeconds: 5 });
    expect(answer.headers['cache-control']).toBe('no-store');
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((got.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([{ version: 1, userPoolId: pool.userPoolId, username }]);
  });

  test('an ACTIVE tenant\'s user gets its path and gateway token; after a global sign-out the same token gets 401', async () => {
    const username = await user('ann@example.com');
    const gatewayToken = 'G'.repeat(48);
    await activeTenant(username, 'acme', gatewayToken);
    const token = await signIn('ann@example.com');

    const answer = await session()(request('GET', token));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toEqual({ status: 'ACTIVE', tenant: 'acme', path: '/t/acme/', gatewayToken });

    // By the e-mail address the user signed in with: moto revokes only the tokens issued under the very name given
    // (real Cognito resolves the alias to the user and revokes them all).
    await cognito.send(new AdminUserGlobalSignOutCommand({ UserPoolId: pool.userPoolId, Username: 'ann@example.com' }));
    const after = await session()(request('GET', token));
    expect(after.statusCode).toBe(401);
    expect(body(after)).toMatchObject({ status: 'UNAUTHORIZED' });
    expect(after.body).not.toContain(gatewayToken);
    // A fresh sign-in works again: the sign-out ended the old tokens, not the account.
    expect((await session()(request('GET', await signIn('ann@example.com')))).statusCode).toBe(200);
  });

  test('a disabled user\'s still-unexpired token gets 401', async () => {
    const username = await user('ann@example.com');
    await activeTenant(username, 'acme', 'G'.repeat(48));
    const token = await signIn('ann@example.com');
    await cognito.send(new AdminDisableUserCommand({ UserPoolId: pool.userPoolId, Username: username }));
    expect((await session()(request('GET', token))).statusCode).toBe(401);
  });

  test('a real token of another user pool (same region) never names one of our users', async () => {
    const other = await createUserPoolFromTemplate(cognito, 'someone-elses-pool');
    const username = await user('ann@example.com');
    await activeTenant(username, 'acme', 'G'.repeat(48));
    await user('ann@example.com', other.userPoolId);
    const foreign = await signIn('ann@example.com', other.clientId);
    const answer = await session()(request('GET', foreign));
    expect(answer.statusCode).toBe(401);
    expect(answer.body).not.toContain('G'.repeat(48));
  });

  test('a token whose signature was tampered with (claims kept) is refused by Cognito', async () => {
    const username = await user('ann@example.com');
    await activeTenant(username, 'acme', 'G'.repeat(48));
    const [header, payload, signature] = (await signIn('ann@example.com')).split('.');
    const forged = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    expect((await session()(request('GET', forged))).statusCode).toBe(401);
  });

  test('no token, or one that is not a JWT: 401 without a call to Cognito', async () => {
    expect((await session()(request('GET'))).statusCode).toBe(401);
    expect((await session()(request('GET', 'not-a-token'))).statusCode).toBe(401);
  });
});
