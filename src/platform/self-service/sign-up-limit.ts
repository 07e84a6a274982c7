/**
 * The sign-up gate's pure parts and its one DynamoDB write: the e-mail domain of an address, whether a domain may
 * sign up, and the per-domain hourly counter. CDK-free (the pre sign-up trigger bundles it).
 * @internal
 */
import { domainToASCII } from 'node:url';
// eslint-disable-next-line import/no-extraneous-dependencies -- the Lambda runtime provides @aws-sdk/* (bundled as external)
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { COUNTER_TABLE_KEY, COUNTER_TTL_ATTRIBUTE, signUpCounterKey } from './contract';

/**
 * A sign-up the gate refuses. Its message is shown to the person signing up (Cognito wraps it as
 * "PreSignUp failed with error <message>."), so it is short, plain and never carries internals.
 * @internal
 */
export class SignUpRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignUpRejected';
  }
}

/** RFC 5321 §4.5.3.1: a local part of at most 64 octets, a forward path of 256 octets less the angle brackets. */
const MAX_LOCAL_OCTETS = 64;
const MAX_ADDRESS_OCTETS = 254;
const MAX_LABEL_OCTETS = 63;

/**
 * Control, format (zero-width, bidirectional overrides, soft hyphen...), separator, lone surrogate and private-use
 * characters: nothing a person means to type in an address, and the usual material of look-alike addresses.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}\p{Co}]/u;
/**
 * ASCII characters a domain name never contains. `domainToASCII` parses a URL host, so it would otherwise decode
 * `%41` or cut the name at `/`, `?` or `#`; only letters, digits, hyphens and dots get that far.
 */
const FORBIDDEN_ASCII_IN_DOMAIN = /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/;
/** A host name label after IDNA conversion (RFC 1123): letters, digits and inner hyphens. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

const INVALID_ADDRESS = 'Enter a valid e-mail address.';

/**
 * The domain of an e-mail address, lower case and in its ASCII (punycode) form: `Ann@Bücher.DE` → `xn--bcher-kva.de`.
 * The address is trimmed; it must hold exactly one `@`, a local part of at most 64 octets, a domain name of at least
 * two labels of at most 63 octets each with a non-numeric top-level label, and at most 254 octets in all (RFC 5321).
 * Invisible and control characters are refused anywhere in the address.
 * @throws SignUpRejected with a message for the person signing up when the address is malformed
 * @internal
 */
export function emailDomain(email: string): string {
  if (typeof email !== 'string' || email.trim() === '') throw new SignUpRejected('An e-mail address is required to sign up.');
  const address = email.trim();
  // Checked on the raw text first so a huge value costs nothing more; the octet checks below are the real limits.
  if (address.length > MAX_ADDRESS_OCTETS) throw new SignUpRejected('The e-mail address is too long.');
  if (INVISIBLE.test(address)) throw new SignUpRejected('The e-mail address contains invisible or control characters.');
  const parts = address.split('@');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new SignUpRejected(INVALID_ADDRESS);
  const [local, unicodeDomain] = parts;
  if (Buffer.byteLength(local, 'utf8') > MAX_LOCAL_OCTETS) throw new SignUpRejected('The part of the e-mail address before the @ is too long.');
  if (FORBIDDEN_ASCII_IN_DOMAIN.test(unicodeDomain)) throw new SignUpRejected(INVALID_ADDRESS);

  const domain = domainToASCII(unicodeDomain); // UTS #46: lower case, width folding, punycode; '' when invalid
  const labels = domain.split('.');
  if (
    domain === ''
    || labels.length < 2
    || labels.some((label) => label.length > MAX_LABEL_OCTETS || !LABEL.test(label))
    || /^[0-9]+$/.test(labels[labels.length - 1]) // an IPv4 address, or a made-up numeric top-level domain
  ) {
    throw new SignUpRejected(INVALID_ADDRESS);
  }
  if (Buffer.byteLength(local, 'utf8') + 1 + domain.length > MAX_ADDRESS_OCTETS) throw new SignUpRejected('The e-mail address is too long.');
  return domain;
}

/**
 * Normalises the `ALLOWED_DOMAINS` setting (comma-separated) the way {@link emailDomain} normalises an address's
 * domain: trimmed, lower case, punycode. Empty entries are dropped; an empty result means self sign-up is closed.
 * @internal
 */
export function parseAllowedDomains(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => domainToASCII(entry) || entry.toLowerCase());
}

/**
 * Whether `domain` (as {@link emailDomain} returns it) is one of `allowed`, exactly. Subdomains are deliberately not
 * admitted: allowing `example.com` says nothing about who controls `mail.example.com` or `students.example.com`
 * (subdomains are routinely delegated to other parties: hosting customers, departments, SaaS providers), and
 * suffix matching invites mistakes such as `notexample.com` or `example.com.evil.net`. An administrator lists
 * every domain that may sign up.
 * @internal
 */
export function isAllowedDomain(domain: string, allowed: readonly string[]): boolean {
  return allowed.includes(domain);
}

/**
 * The UTC hour of `date`, `yyyy-mm-ddThh`: the sign-up counters' time bucket.
 * @internal
 */
export function hourBucket(date: Date): string {
  return date.toISOString().slice(0, 13);
}

/** Options of {@link admitSignUp}. @internal */
export interface AdmitSignUpOptions {
  /** The sign-up counters table (partition key `pk`, TTL attribute `expiresAt`). */
  readonly table: string;
  /** The e-mail domain, as {@link emailDomain} returns it. */
  readonly domain: string;
  /** Sign-ups admitted per domain per UTC hour; below 1 admits none (without touching the table). */
  readonly limit: number;
  readonly now: Date;
}

/** The outcome of {@link admitSignUp}. @internal */
export interface SignUpAdmission {
  readonly admitted: boolean;
  /** The domain's count this hour including this sign-up, when admitted. */
  readonly count?: number;
}

/**
 * Takes one of the domain's sign-up slots for the current UTC hour, or reports that none is left. One conditional
 * UpdateItem on `SIGNUP#<domain>#<hour>`, so the cost is the same whatever the number of users, and concurrent
 * sign-ups never overshoot the limit (DynamoDB serialises the conditional writes on the item). The counter expires
 * (TTL) an hour after its hour ends; until DynamoDB deletes it, a past hour's item is simply never read again.
 * @internal
 */
export async function admitSignUp(ddb: DynamoDBClient, options: AdmitSignUpOptions): Promise<SignUpAdmission> {
  const limit = Math.floor(options.limit);
  if (!(limit >= 1)) return { admitted: false };
  const hourStart = Math.floor(options.now.getTime() / 3_600_000) * 3_600;
  const expiresAt = hourStart + 2 * 3_600; // the end of the hour, plus one hour
  try {
    const out = await ddb.send(new UpdateItemCommand({
      TableName: options.table,
      Key: { [COUNTER_TABLE_KEY]: { S: signUpCounterKey(options.domain, hourBucket(options.now)) } },
      // `count` is a DynamoDB reserved word, hence the name placeholders.
      UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :ttl)',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
      ExpressionAttributeNames: { '#count': 'count', '#expiresAt': COUNTER_TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':ttl': { N: String(expiresAt) }, ':limit': { N: String(limit) } },
      ReturnValues: 'UPDATED_NEW',
    }));
    const count = Number(out.Attributes?.count?.N);
    return Number.isFinite(count) ? { admitted: true, count } : { admitted: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as { name?: unknown })?.name === 'ConditionalCheckFailedException') {
      return { admitted: false };
    }
    throw error;
  }
}
