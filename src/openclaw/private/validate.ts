import { isIPv4, isIPv6 } from 'net';
import { Token } from 'aws-cdk-lib';

/**
 * Internal validation helpers shared by the OpenClaw configuration model.
 * Every error reads `OpenClawConfig: <prop path> must be <allowed>, got '<value>'` so the
 * construct that owns the config can prefix its own construct path.
 */

/** Secret provider aliases, as OpenClaw validates them. */
export const PROVIDER_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/** Environment variable names accepted by OpenClaw for env SecretRefs and `passEnv`. */
export const ENV_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,127}$/;

/** Throws the standard configuration error. */
export function fail(path: string, allowed: string, got: unknown): never {
  throw new Error(`OpenClawConfig: ${path} must be ${allowed}, got '${show(got)}'`);
}

/** True when the value (string, number or list) contains an unresolved CDK token. */
export function isToken(value: unknown): boolean {
  return value !== undefined && value !== null && Token.isUnresolved(value);
}

/** Checks an integer range unless the value is a token. */
export function checkInt(path: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || isToken(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(path, `an integer between ${min} and ${max}`, value);
  }
}

/** Checks a string against a pattern unless it is a token. */
export function checkPattern(path: string, value: string | undefined, pattern: RegExp, allowed: string): void {
  if (value === undefined || isToken(value)) {
    return;
  }
  if (!pattern.test(value)) {
    fail(path, allowed, value);
  }
}

/** Checks a list length unless the list itself is a token. */
export function checkListLength(path: string, list: string[] | undefined, max: number): void {
  if (list === undefined || isToken(list)) {
    return;
  }
  if (list.length > max) {
    fail(path, `a list of at most ${max} entries`, `${list.length} entries`);
  }
}

/** True for a dotted-quad IPv4 address. */
export function isIpv4(value: string): boolean {
  return isIPv4(value);
}

/** True for an IPv6 address without a zone index. */
export function isIpv6(value: string): boolean {
  return !value.includes('%') && isIPv6(value);
}

/** True for an IPv4/IPv6 address, or an address with a valid prefix length. */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) {
    return isIpv4(value) || isIpv6(value);
  }
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix)) {
    return false;
  }
  if (isIpv4(address)) {
    return Number(prefix) <= 32;
  }
  return isIpv6(address) && Number(prefix) <= 128;
}

/** Renders a value for an error message, keeping it short and single-line. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
