/**
 * The user pool's pre sign-up trigger: who may create an account.
 * - Self sign-up (`PreSignUp_SignUp`, `PreSignUp_ExternalProvider`): the e-mail domain must be on the administrator's
 *   list (`ALLOWED_DOMAINS`; empty = self sign-up closed), the platform must have room for another tenant
 *   (`MAX_TENANTS`), and the domain must have a sign-up slot left this UTC hour (`SIGNUPS_PER_DOMAIN_PER_HOUR`).
 *   The cap is read before a slot is taken, so a full platform does not use up a domain's hourly allowance.
 * - Accounts an administrator creates (`PreSignUp_AdminCreateUser`): trusted, so only the cap applies.
 * The trigger never confirms or verifies anyone: the address is proven by the code Cognito sends to it.
 *
 * A refusal is a thrown Error whose message is the text for the person signing up (Cognito answers
 * "PreSignUp failed with error <message>."). Anything unexpected (a DynamoDB outage, a missing setting) is logged and
 * refused with a generic message, so no SDK error or stack trace text ever reaches the sign-up form.
 *
 * The cap check here is a courtesy, not the guarantee: two sign-ups may both see room for the last tenant. The
 * provisioner counts tenants atomically and marks the loser CAPPED.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ENV, TENANT_COUNT_KEY } from './contract';
import { tableKey } from './handler-util';
import { SignUpRejected, admitSignUp, emailDomain, hourBucket, isAllowedDomain, parseAllowedDomains } from './sign-up-limit';

/**
 * The parts of Cognito's pre sign-up event the trigger reads; Cognito sends more, returned untouched.
 * @internal
 */
export interface PreSignUpEvent {
  readonly version?: string;
  readonly triggerSource: string;
  readonly region?: string;
  readonly userPoolId?: string;
  readonly userName?: string;
  readonly request: {
    readonly userAttributes: Record<string, string>;
    readonly validationData?: Record<string, string> | null;
    readonly clientMetadata?: Record<string, string> | null;
  };
  response: {
    autoConfirmUser?: boolean;
    autoVerifyEmail?: boolean;
    autoVerifyPhone?: boolean;
  };
}

/**
 * What the trigger works with; tests pass their own.
 * @internal
 */
export interface PreSignUpDeps {
  readonly ddb: DynamoDBClient;
  /** The environment (read on every call); `process.env` by default. */
  readonly env?: Record<string, string | undefined>;
  /** The clock; `new Date()` by default. */
  readonly now?: () => Date;
}

/** The hourly sign-up allowance per domain when `SIGNUPS_PER_DOMAIN_PER_HOUR` is not set. @internal */
export const DEFAULT_SIGNUPS_PER_DOMAIN_PER_HOUR = 5;

/** Messages for the person signing up. @internal */
export const MESSAGES = {
  closed: 'Self sign-up is closed: ask an administrator for an account.',
  domainNotAllowed: (domain: string) =>
    `Sign-up is not open to ${shown(domain)}; an administrator controls which e-mail domains may sign up.`,
  tooMany: (domain: string, nextHour: string) => `Too many sign-ups from ${shown(domain)} this hour; try again after ${nextHour}:00 UTC.`,
  full: (max: number) => `The platform has reached its limit of ${max} tenants; ask an administrator.`,
  malformed: 'The sign-up request is incomplete; try again.',
  unavailable: 'Sign-up is not available right now; try again later or ask an administrator.',
} as const;

/** A domain as messages show it: ASCII already (punycode), and cut short so a message stays one short line. */
function shown(domain: string): string {
  return domain.length <= 60 ? domain : `${domain.slice(0, 57)}...`;
}

/** A setting the construct always provides is missing or wrong: refused generically, logged for the operator. */
class Misconfigured extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Misconfigured';
  }
}

/**
 * The trigger, over the given clients (the deployed `handler` uses the defaults).
 * @internal
 */
export function createHandler(deps: PreSignUpDeps): (event: PreSignUpEvent) => Promise<PreSignUpEvent> {
  return async (event) => {
    try {
      return await check(event, deps);
    } catch (error) {
      if (error instanceof SignUpRejected) throw error;
      // Never the error itself in the answer: it may carry SDK internals. The log has what an operator needs.
      console.error(JSON.stringify({
        message: 'pre sign-up check failed',
        triggerSource: typeof event?.triggerSource === 'string' ? event.triggerSource.slice(0, 64) : undefined,
        error: { name: (error as { name?: unknown })?.name, message: String((error as { message?: unknown })?.message ?? error) },
      }));
      throw new SignUpRejected(MESSAGES.unavailable);
    }
  };
}

/**
 * Cognito's pre sign-up trigger.
 * Short timeouts: Cognito gives up on the trigger after 5 s, and the two calls normally take milliseconds. (Newer
 * SDK versions only warn on a request timeout unless `throwOnRequestTimeout` is set; older ones ignore the flag.)
 */
export const handler = createHandler({
  ddb: new DynamoDBClient({ requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true } }),
});

async function check(event: PreSignUpEvent, deps: PreSignUpDeps): Promise<PreSignUpEvent> {
  if (!isRecord(event) || !isRecord(event.request) || (event.response !== undefined && !isRecord(event.response))) {
    throw new SignUpRejected(MESSAGES.malformed);
  }
  const env = deps.env ?? process.env;
  const now = (deps.now ?? (() => new Date()))();
  switch (event.triggerSource) {
    case 'PreSignUp_SignUp':
    case 'PreSignUp_ExternalProvider': {
      const allowed = parseAllowedDomains(env[ENV.ALLOWED_DOMAINS]);
      if (allowed.length === 0) throw new SignUpRejected(MESSAGES.closed);
      const attributes = isRecord(event.request.userAttributes) ? event.request.userAttributes : {};
      const domain = emailDomain(attributes.email);
      if (!isAllowedDomain(domain, allowed)) throw new SignUpRejected(MESSAGES.domainNotAllowed(domain));
      await requireRoom(deps.ddb, env);
      const limit = wholeNumberSetting(env, ENV.SIGNUPS_PER_DOMAIN_PER_HOUR, DEFAULT_SIGNUPS_PER_DOMAIN_PER_HOUR);
      const admission = await admitSignUp(deps.ddb, { table: requiredSetting(env, ENV.COUNTER_TABLE), domain, limit, now });
      if (!admission.admitted) {
        throw new SignUpRejected(MESSAGES.tooMany(domain, String((now.getUTCHours() + 1) % 24).padStart(2, '0')));
      }
      console.log(JSON.stringify({ message: 'sign-up admitted', triggerSource: event.triggerSource, domain, hour: hourBucket(now), count: admission.count }));
      break;
    }
    case 'PreSignUp_AdminCreateUser':
      await requireRoom(deps.ddb, env);
      break;
    default:
      throw new SignUpRejected(MESSAGES.malformed);
  }
  return withoutAutoConfirmation(event);
}

/** Refuses when the tenants that count against the cap already reach `MAX_TENANTS`. */
async function requireRoom(ddb: DynamoDBClient, env: Record<string, string | undefined>): Promise<void> {
  const max = wholeNumberSetting(env, ENV.MAX_TENANTS);
  const got = await ddb.send(new GetItemCommand({
    TableName: requiredSetting(env, ENV.TENANT_TABLE),
    Key: tableKey(TENANT_COUNT_KEY),
    ProjectionExpression: '#count',
    ExpressionAttributeNames: { '#count': 'count' },
    ConsistentRead: true,
  }));
  const stored = got.Item?.count;
  const count = stored === undefined ? 0 : Number(stored.N); // no item yet: no tenants
  if (!Number.isFinite(count)) throw new Misconfigured('the tenant count is not a number'); // fail closed
  if (count >= max) throw new SignUpRejected(MESSAGES.full(max));
}

/**
 * The event as Cognito sent it, with the auto-confirm and auto-verify flags false (they already are in a genuine
 * event; this only makes sure no caller-supplied value is echoed back).
 */
function withoutAutoConfirmation(event: PreSignUpEvent): PreSignUpEvent {
  event.response = { ...event.response, autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false };
  return event;
}

function requiredSetting(env: Record<string, string | undefined>, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Misconfigured(`${name} is not set`);
  return value;
}

function wholeNumberSetting(env: Record<string, string | undefined>, name: string, fallback?: number): number {
  const raw = env[name]?.trim();
  if (!raw) {
    if (fallback === undefined) throw new Misconfigured(`${name} is not set`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Misconfigured(`${name} is not a whole number: ${raw.slice(0, 32)}`);
  return value;
}

function isRecord(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
