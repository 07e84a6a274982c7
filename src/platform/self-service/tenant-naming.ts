/**
 * Names and tokens of self-service tenants, without CDK and without the AWS SDK (the handlers share them).
 *
 * A tenant's name comes from the Cognito username (the user's `sub`, an opaque identifier) and nothing else: never
 * from the e-mail address, so a tenant's name, namespace, URL path and secret name carry no personal data. The
 * derivation is deterministic, so a retried provisioning picks the same names in the same order.
 * @internal
 */
import { createHash, randomBytes } from 'node:crypto';
import { isTenantName } from '../tenant-spec';

/** The lengths of the candidate names, shortest first: a longer one is only used when the shorter ones are taken. @internal */
export const TENANT_NAME_LENGTHS = [10, 12, 16, 20] as const;

/** RFC 4648 base32 alphabet, lower case: DNS-safe, no character that needs escaping anywhere a name is used. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lower-case base32 (no padding) of `bytes`. */
function base32(bytes: Uint8Array): string {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

/**
 * The tenant names a user may get, in the order they are tried: `u` followed by the lower-case base32 of
 * sha256(username), cut to 10, 12, 16 and 20 characters. Every candidate is a valid, non-reserved tenant name.
 * Throws when `username` is not a non-empty string.
 * @internal
 */
export function tenantNameCandidates(username: string): string[] {
  if (typeof username !== 'string' || username.length === 0) throw new Error('a tenant name needs a non-empty username');
  const digest = base32(createHash('sha256').update(username, 'utf8').digest());
  return TENANT_NAME_LENGTHS.map((length) => `u${digest.slice(0, length - 1)}`);
}

/** Length of a gateway token. @internal */
export const GATEWAY_TOKEN_LENGTH = 48;
/** What every gateway token the self-service handlers create looks like. @internal */
export const GATEWAY_TOKEN_PATTERN = /^[A-Za-z0-9]{48}$/;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random gateway token: 48 alphanumeric characters from the operating system's CSPRNG, without bias. @internal */
export function randomGatewayToken(): string {
  // 62 symbols: bytes of 248 or more are rejected so that every symbol is equally likely.
  const limit = 256 - (256 % ALPHANUMERIC.length);
  let out = '';
  while (out.length < GATEWAY_TOKEN_LENGTH) {
    for (const byte of randomBytes(64)) {
      if (byte < limit && out.length < GATEWAY_TOKEN_LENGTH) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
  }
  return out;
}

const SECRET_NAME = /^openclaw\/([^/]+)\/gateway-token$/;

/** The tenant of a gateway-token secret name `openclaw/<tenant>/gateway-token`, or undefined for any other name. @internal */
export function tenantOfSecretName(name: string | undefined): string | undefined {
  const m = typeof name === 'string' ? SECRET_NAME.exec(name) : null;
  return m && isTenantName(m[1]) ? m[1] : undefined;
}
