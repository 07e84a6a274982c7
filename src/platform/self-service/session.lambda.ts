/**
 * The session API (a Lambda function URL, payload format 2.0, behind CloudFront at `SESSION_PATH`):
 *
 * - `GET`: the signed-in user's tenant state, and for an ACTIVE tenant its path and gateway token. A user without a
 *   record gets a provisioning message queued (this covers users an administrator created, for whom Cognito runs no
 *   post confirmation trigger) and 202 PROVISIONING.
 * - `DELETE` ("sign out everywhere"): starts a rotation of the tenant's gateway token; the rotation function restarts
 *   the gateway with the new token, which ends every open gateway session (the tenant's data stays on EFS).
 *
 * The caller is authenticated by the Cognito access token in the `ACCESS_TOKEN_HEADER` header: Cognito's GetUser
 * checks its signature, expiry and revocation (a signed-out or disabled user's token fails there, which a local JWT
 * check would miss). GetUser accepts the access token of ANY user pool in the region, so the token's issuer is
 * checked against this platform's pool first: a token from a pool someone else controls, whose usernames they
 * choose, must never name one of our users.
 *
 * Every answer is JSON with `Cache-Control: no-store`. Tokens are never logged.
 */
import { CognitoIdentityProviderClient, GetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { gatewayTokenSecretName, isTenantName } from '../tenant-spec';
import {
  ACCESS_TOKEN_HEADER, ENV, ProvisionMessage, SESSION_PATH, SessionResponse, TenantStatus, USER_POOL_ID_PATTERN, userKey,
} from './contract';
import { Logger, StoredTenantRecord, errorFields, errorName, jsonLogger, requireEnv, tableKey, tenantRecordFromItem } from './handler-util';

/**
 * The parts of a function URL request (payload format 2.0) the handler reads.
 * @internal
 */
export interface FunctionUrlEvent {
  readonly version?: string;
  readonly rawPath?: string;
  /** Header names in lower case, as function URLs deliver them. */
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: { readonly http?: { readonly method?: string; readonly path?: string } };
}

/**
 * A function URL response.
 * @internal
 */
export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The session function's settings.
 * @internal
 */
export interface SessionConfig {
  readonly tenantTable: string;
  readonly queueUrl: string;
  /** This platform's user pool: only its access tokens are accepted. */
  readonly userPoolId: string;
}

/**
 * The settings from the environment: TENANT_TABLE, QUEUE_URL and USER_POOL_ID. Throws an Error naming the first
 * missing variable.
 * @internal
 */
export function sessionConfigFromEnvironment(env: Record<string, string | undefined> = process.env): SessionConfig {
  const need = (name: string): string => requireEnv(env, name, () => new Error(`The environment variable ${name} must be set for the session function`));
  const userPoolId = need(ENV.USER_POOL_ID);
  if (!USER_POOL_ID_PATTERN.test(userPoolId)) {
    throw new Error(`The environment variable ${ENV.USER_POOL_ID} must be a user pool ID such as 'eu-west-1_AbC123', got '${userPoolId}'`);
  }
  return { tenantTable: need(ENV.TENANT_TABLE), queueUrl: need(ENV.QUEUE_URL), userPoolId };
}

/**
 * What the session function works with; tests pass their own.
 * @internal
 */
export interface SessionDeps {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly secrets: SecretsManagerClient;
  readonly config: () => SessionConfig;
  /** One structured log line (never given a token). @default a JSON line on stdout or stderr */
  readonly log?: Logger;
}

/** Seconds the UI waits before asking again while a tenant is being provisioned or rotated. @internal */
export const RETRY_AFTER_SECONDS = 5;

const MAX_TOKEN_LENGTH = 8192;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The Cognito errors that mean "this token does not sign anybody in". */
const UNAUTHENTICATED = new Set([
  'NotAuthorizedException', 'UserNotFoundException', 'UserNotConfirmedException', 'PasswordResetRequiredException',
  'InvalidParameterException', 'ResourceNotFoundException',
]);
/** Worth another try later. */
const UNAVAILABLE = new Set(['TooManyRequestsException', 'InternalErrorException', 'LimitExceededException', 'ThrottlingException']);

const MESSAGES: Record<Exclude<TenantStatus, 'ACTIVE' | 'PROVISIONING'>, string> = {
  CAPPED: 'OpenClaw is at its tenant limit, so your workspace could not be created yet. An administrator will create it once there is room.',
  DEPROVISIONING: 'Your workspace is being removed. Ask an administrator if this is unexpected.',
  EXPORTED: 'Your workspace has been removed. Ask an administrator if you need your files.',
  REMOVED: 'Your workspace has been removed. Ask an administrator if you need your files.',
};

type Body = SessionResponse | { readonly status?: string; readonly message?: string };

function respond(statusCode: number, body: Body, headers: Record<string, string> = {}): FunctionUrlResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

const unauthorized = () => respond(401, { status: 'UNAUTHORIZED', message: 'Sign in again: the session is missing, expired or signed out.' });
const unavailable = () => respond(503, { message: 'The service is busy; try again in a few seconds.' }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
const failed = () => respond(500, { message: 'Something went wrong on our side; try again shortly.' });

/** The claims of a JWT's payload, or undefined when it is not one (nothing is verified here). */
function claimsOf(token: string): Record<string, unknown> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** The issuer of the access tokens of a user pool. @internal */
export function poolIssuer(userPoolId: string): string {
  return `https://cognito-idp.${userPoolId.split('_')[0]}.amazonaws.com/${userPoolId}`;
}

/**
 * The handler, over the given clients (the deployed `handler` uses the defaults).
 * @internal
 */
export function createHandler(deps: SessionDeps): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const log = deps.log ?? jsonLogger;

  /** The username the request's access token signs in, or an answer to give instead. */
  async function authenticate(event: FunctionUrlEvent, config: SessionConfig): Promise<string | FunctionUrlResult> {
    const token = event.headers?.[ACCESS_TOKEN_HEADER];
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWT.test(token)) return unauthorized();
    const claims = claimsOf(token);
    // Unverified until GetUser accepts the whole token; once it does, these claims are the issuer's.
    if (claims?.iss !== poolIssuer(config.userPoolId) || claims?.token_use !== 'access') return unauthorized();
    try {
      const user = await deps.cognito.send(new GetUserCommand({ AccessToken: token }));
      return typeof user.Username === 'string' && user.Username ? user.Username : unauthorized();
    } catch (error) {
      const name = errorName(error);
      if (UNAUTHENTICATED.has(name)) return unauthorized();
      if (UNAVAILABLE.has(name)) {
        log('warn', 'Cognito is unavailable', { error: name });
        return unavailable();
      }
      throw error;
    }
  }

  async function record(config: SessionConfig, username: string): Promise<StoredTenantRecord | undefined> {
    const got = await deps.dynamodb.send(new GetItemCommand({
      TableName: config.tenantTable,
      Key: tableKey(userKey(username)),
      ConsistentRead: true,
    }));
    return tenantRecordFromItem(got.Item);
  }

  /** 403 for the states that have no gateway (with the record's own message when it has one). */
  function closed(r: { status: TenantStatus; message?: string }): FunctionUrlResult | undefined {
    if (!(r.status in MESSAGES)) return undefined;
    const status = r.status as keyof typeof MESSAGES;
    return respond(403, { status, message: r.message || MESSAGES[status] });
  }

  function activeTenant(username: string, r: { tenant: string }): string {
    if (!isTenantName(r.tenant)) throw new Error(`the ACTIVE record of user ${username} names an invalid tenant`);
    return r.tenant;
  }

  async function get(config: SessionConfig, username: string): Promise<FunctionUrlResult> {
    const r = await record(config, username);
    if (!r) {
      const message: ProvisionMessage = { version: 1, userPoolId: config.userPoolId, username };
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: JSON.stringify(message) }));
      log('info', 'provisioning requested', { username });
      return respond(202, { status: 'PROVISIONING', retryAfterSeconds: RETRY_AFTER_SECONDS }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    if (r.status === 'PROVISIONING') {
      return respond(202, { status: 'PROVISIONING', retryAfterSeconds: RETRY_AFTER_SECONDS }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    if (r.status === 'ACTIVE') {
      const tenant = activeTenant(username, r);
      const secret = await deps.secrets.send(new GetSecretValueCommand({ SecretId: gatewayTokenSecretName(tenant) }));
      if (typeof secret.SecretString !== 'string' || !secret.SecretString) throw new Error(`the gateway token of tenant ${tenant} has no value`);
      return respond(200, { status: 'ACTIVE', tenant, path: `/t/${tenant}/`, gatewayToken: secret.SecretString });
    }
    const answer = closed(r);
    if (answer) return answer;
    throw new Error(`the record of user ${username} has an unknown status`);
  }

  async function signOutEverywhere(config: SessionConfig, username: string): Promise<FunctionUrlResult> {
    const r = await record(config, username);
    if (!r || r.status === 'PROVISIONING') return respond(409, { message: 'Your workspace is not running yet, so there is no session to sign out of.' });
    if (r.status === 'ACTIVE') {
      const tenant = activeTenant(username, r);
      try {
        await deps.secrets.send(new RotateSecretCommand({ SecretId: gatewayTokenSecretName(tenant), RotateImmediately: true }));
      } catch (error) {
        // A rotation still under way ends every session too: the request is already being served.
        const message = String((error as { message?: unknown })?.message ?? '');
        if (errorName(error) !== 'InvalidRequestException' || !/previous rotation|rotation .*(in progress|not complete|isn't complete)/i.test(message)) throw error;
      }
      log('info', 'gateway token rotation requested (sign out everywhere)', { username, tenant });
      return respond(202, { status: 'ROTATING' }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    const answer = closed(r);
    if (answer) return answer;
    throw new Error(`the record of user ${username} has an unknown status`);
  }

  return async (event) => {
    const method = event?.requestContext?.http?.method?.toUpperCase();
    const path = event?.rawPath ?? event?.requestContext?.http?.path;
    try {
      if (path !== SESSION_PATH) return respond(404, { message: 'Not found.' });
      if (method !== 'GET' && method !== 'DELETE') return respond(405, { message: 'Use GET or DELETE.' }, { allow: 'GET, DELETE' });
      const config = deps.config();
      const who = await authenticate(event, config);
      if (typeof who !== 'string') return who;
      return method === 'GET' ? await get(config, who) : await signOutEverywhere(config, who);
    } catch (error) {
      log('error', 'session request failed', { method, error: errorFields(error, '') });
      return UNAVAILABLE.has(errorName(error)) || errorName(error) === 'ProvisionedThroughputExceededException' ? unavailable() : failed();
    }
  };
}

let config: SessionConfig | undefined;

/** The session function URL's handler. */
export const handler = createHandler({
  cognito: new CognitoIdentityProviderClient({}),
  dynamodb: new DynamoDBClient({}),
  sqs: new SQSClient({}),
  secrets: new SecretsManagerClient({}),
  config: () => (config ??= sessionConfigFromEnvironment()),
});
