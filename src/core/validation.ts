import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws the error every construct of this library raises for bad input: it names the construct path,
 * the prop, the value that was given and what is allowed.
 */
export function invalidProp(scope: IConstruct, prop: string, value: unknown, allowed: string): never {
  throw new Error(`${scope.node.path}: ${prop} must be ${allowed}, got ${describe(value)}`);
}

/** Fails unless `value` is an integer within [min, max]; tokens are checked at deploy time instead. */
export function checkIntegerRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalidProp(scope, prop, value, `an integer from ${min} to ${max}`);
  }
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

/** True when `value` is an IPv4 CIDR block such as `203.0.113.0/24`. */
export function isIpv4Cidr(value: string): boolean {
  return IPV4_CIDR.test(value);
}

/** Fails unless each entry is an IPv4 CIDR block; tokens pass. */
export function checkIpv4Cidrs(scope: IConstruct, prop: string, values: readonly string[] | undefined): void {
  for (const value of values ?? []) {
    if (Token.isUnresolved(value)) continue;
    if (!isIpv4Cidr(value)) {
      invalidProp(scope, prop, value, 'a list of IPv4 CIDR blocks such as 203.0.113.0/24');
    }
  }
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** True when `value` is a lower-case fully qualified DNS name such as `openclaw.example.com`. */
export function isDnsName(value: string): boolean {
  return DNS_NAME.test(value);
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Fails unless each entry looks like an e-mail address; tokens pass. */
export function checkEmails(scope: IConstruct, prop: string, values: readonly string[] | undefined): void {
  for (const value of values ?? []) {
    if (!Token.isUnresolved(value) && !EMAIL.test(value)) invalidProp(scope, prop, value, 'e-mail addresses such as ops@example.com');
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
