import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { MESSAGES, PreSignUpEvent, createHandler } from '../../../src/platform/self-service/pre-sign-up.lambda';
import { SignUpRejected, admitSignUp, emailDomain, hourBucket, isAllowedDomain, parseAllowedDomains } from '../../../src/platform/self-service/sign-up-limit';

const ddbMock = mockClient(DynamoDBClient);
const ddb = new DynamoDBClient({ region: 'eu-west-1' });
const NOW = new Date('2025-03-04T10:17:42.123Z');
/** 2025-03-04T12:00:00Z: the end of the 10:00 hour plus one hour. */
const TTL_FOR_NOW = Date.UTC(2025, 2, 4, 12) / 1000;
const ENV = {
  TENANT_TABLE: 'tenants',
  COUNTER_TABLE: 'signup-counters',
  ALLOWED_DOMAINS: 'example.com, Bücher.de',
  SIGNUPS_PER_DOMAIN_PER_HOUR: '5',
  MAX_TENANTS: '10',
};
const ccf = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function event(triggerSource: string, attributes: Record<string, unknown> = { email: 'ann@example.com' }): PreSignUpEvent {
  return {
    version: '1',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_AbCdEfGhI',
    userName: '6b2f0a8e-0b1e-4f3e-9d3c-1e2f3a4b5c6d',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client' },
    triggerSource,
    request: { userAttributes: attributes as Record<string, string>, validationData: null },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  } as PreSignUpEvent;
}

function handlerWith(env: Record<string, string | undefined> = ENV, now: Date = NOW) {
  return createHandler({ ddb, env, now: () => now });
}

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(GetItemCommand).resolves({ Item: { pk: { S: 'META#tenant-count' }, count: { N: '3' } } });
  ddbMock.on(UpdateItemCommand).resolves({ Attributes: { count: { N: '1' } } });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('self sign-up (PreSignUp_SignUp)', () => {
  test('an allowed domain with room and a free slot is admitted: the same event comes back, nothing auto-confirmed or auto-verified', async () => {
    const input = event('PreSignUp_SignUp');
    const expected = structuredClone(input);
    const out = await handlerWith()(input);
    expect(out).toBe(input);
    expect(out).toEqual(expected);
    expect(out.response).toEqual({ autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
  });

  test('the cap is read first (consistently, from the tenant count item), then one conditional counter update on SIGNUP#<domain>#<hour>', async () => {
    const order: string[] = [];
    ddbMock.on(GetItemCommand).callsFake(() => { order.push('GetItem'); return { Item: { count: { N: '3' } } }; });
    ddbMock.on(UpdateItemCommand).callsFake(() => { order.push('UpdateItem'); return { Attributes: { count: { N: '1' } } }; });
    await handlerWith()(event('PreSignUp_SignUp'));
    expect(order).toEqual(['GetItem', 'UpdateItem']);
    expect(ddbMock.commandCalls(GetItemCommand)[0].args[0].input).toEqual({
      TableName: 'tenants',
      Key: { pk: { S: 'META#tenant-count' } },
      ProjectionExpression: '#count',
      ExpressionAttributeNames: { '#count': 'count' },
      ConsistentRead: true,
    });
    expect(ddbMock.commandCalls(UpdateItemCommand)[0].args[0].input).toEqual({
      TableName: 'signup-counters',
      Key: { pk: { S: 'SIGNUP#example.com#2025-03-04T10' } },
      UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :ttl)',
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
      ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':ttl': { N: String(TTL_FOR_NOW) }, ':limit': { N: '5' } },
      ReturnValues: 'UPDATED_NEW',
    });
  });

  test('PreSignUp_ExternalProvider goes through the same checks', async () => {
    await expect(handlerWith()(event('PreSignUp_ExternalProvider', { email: 'ann@example.org' })))
      .rejects.toThrow(MESSAGES.domainNotAllowed('example.org'));
    await handlerWith()(event('PreSignUp_ExternalProvider'));
    expect(ddbMock.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  test.each([
    ['not set', undefined],
    ['empty', ''],
    ['only commas and blanks', ' , ,'],
  ])('no allowed domains (%s): self sign-up is closed, before anything is read', async (_, allowed) => {
    await expect(handlerWith({ ...ENV, ALLOWED_DOMAINS: allowed })(event('PreSignUp_SignUp')))
      .rejects.toThrow(new SignUpRejected('Self sign-up is closed: ask an administrator for an account.'));
    expect(ddbMock.calls()).toHaveLength(0);
  });

  test('a domain not on the list is refused by name, without revealing the list, before anything is read', async () => {
    const rejection = handlerWith()(event('PreSignUp_SignUp', { email: 'Mallory@Evil.Example' }));
    await expect(rejection).rejects.toThrow(
      'Sign-up is not open to evil.example; an administrator controls which e-mail domains may sign up.');
    await expect(rejection).rejects.not.toThrow(/example\.com|bcher/);
    expect(ddbMock.calls()).toHaveLength(0);
  });

  test('a long domain is cut short in the message, which stays one short line', async () => {
    const long = `${'d'.repeat(63)}.${'e'.repeat(63)}.example`;
    await expect(handlerWith()(event('PreSignUp_SignUp', { email: `ann@${long}` })))
      .rejects.toThrow(`Sign-up is not open to ${long.slice(0, 57)}...; an administrator controls which e-mail domains may sign up.`);
  });

  test('a subdomain of an allowed domain is not allowed (exact match only)', async () => {
    await expect(handlerWith()(event('PreSignUp_SignUp', { email: 'ann@mail.example.com' })))
      .rejects.toThrow(MESSAGES.domainNotAllowed('mail.example.com'));
    await expect(handlerWith()(event('PreSignUp_SignUp', { email: 'ann@notexample.com' })))
      .rejects.toThrow(MESSAGES.domainNotAllowed('notexample.com'));
  });

  test('internationalised domains are compared and counted in punycode, whatever the case', async () => {
    await handlerWith()(event('PreSignUp_SignUp', { email: 'jörg@BÜCHER.de' }));
    expect(ddbMock.commandCalls(UpdateItemCommand)[0].args[0].input.Key).toEqual({ pk: { S: 'SIGNUP#xn--bcher-kva.de#2025-03-04T10' } });
  });

  test('over the hourly limit: refused with the domain and the next full hour', async () => {
    ddbMock.on(UpdateItemCommand).rejects(ccf());
    await expect(handlerWith()(event('PreSignUp_SignUp')))
      .rejects.toThrow(new SignUpRejected('Too many sign-ups from example.com this hour; try again after 11:00 UTC.'));
    await expect(handlerWith(ENV, new Date('2025-03-04T23:59:59.999Z'))(event('PreSignUp_SignUp')))
      .rejects.toThrow('Too many sign-ups from example.com this hour; try again after 00:00 UTC.');
    await expect(handlerWith(ENV, new Date('2025-03-04T08:00:00.000Z'))(event('PreSignUp_SignUp')))
      .rejects.toThrow('try again after 09:00 UTC.');
  });

  test('a platform at its cap refuses sign-up without spending a rate-limit slot', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '10' } } });
    await expect(handlerWith()(event('PreSignUp_SignUp')))
      .rejects.toThrow(new SignUpRejected('The platform has reached its limit of 10 tenants; ask an administrator.'));
    expect(ddbMock.commandCalls(UpdateItemCommand)).toHaveLength(0);

    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '9' } } });
    await expect(handlerWith()(event('PreSignUp_SignUp'))).resolves.toBeDefined();
  });

  test('no tenant count item yet means no tenants', async () => {
    ddbMock.on(GetItemCommand).resolves({});
    await expect(handlerWith({ ...ENV, MAX_TENANTS: '1' })(event('PreSignUp_SignUp'))).resolves.toBeDefined();
  });

  test('the hourly limit comes from SIGNUPS_PER_DOMAIN_PER_HOUR, 5 when unset', async () => {
    await handlerWith({ ...ENV, SIGNUPS_PER_DOMAIN_PER_HOUR: '12' })(event('PreSignUp_SignUp'));
    await handlerWith({ ...ENV, SIGNUPS_PER_DOMAIN_PER_HOUR: undefined })(event('PreSignUp_SignUp'));
    const limits = ddbMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.ExpressionAttributeValues![':limit']);
    expect(limits).toEqual([{ N: '12' }, { N: '5' }]);
  });

  test('auto-confirm or auto-verify flags in the incoming event are never passed back as true', async () => {
    const input = event('PreSignUp_SignUp');
    input.response = { autoConfirmUser: true, autoVerifyEmail: true, autoVerifyPhone: true };
    const out = await handlerWith()(input);
    expect(out.response).toEqual({ autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
  });

  test.each([
    ['no e-mail attribute', {}, 'An e-mail address is required to sign up.'],
    ['a blank e-mail', { email: '   ' }, 'An e-mail address is required to sign up.'],
    ['a non-string e-mail', { email: 42 }, 'An e-mail address is required to sign up.'],
    ['no @', { email: 'ann.example.com' }, 'Enter a valid e-mail address.'],
  ])('%s: a clear refusal, nothing read', async (_, attributes, message) => {
    await expect(handlerWith()(event('PreSignUp_SignUp', attributes))).rejects.toThrow(new SignUpRejected(message));
    expect(ddbMock.calls()).toHaveLength(0);
  });

  test('a request without userAttributes, or not an object at all, is refused, not crashed on', async () => {
    const noAttributes = { ...event('PreSignUp_SignUp'), request: {} } as unknown as PreSignUpEvent;
    await expect(handlerWith()(noAttributes)).rejects.toThrow(new SignUpRejected('An e-mail address is required to sign up.'));
    const noRequest = { ...event('PreSignUp_SignUp'), request: undefined } as unknown as PreSignUpEvent;
    await expect(handlerWith()(noRequest)).rejects.toThrow(new SignUpRejected(MESSAGES.malformed));
    await expect(handlerWith()(null as unknown as PreSignUpEvent)).rejects.toThrow(new SignUpRejected(MESSAGES.malformed));
  });

  test('a trigger source the function is not meant for is refused', async () => {
    await expect(handlerWith()(event('PostConfirmation_ConfirmSignUp'))).rejects.toThrow(new SignUpRejected(MESSAGES.malformed));
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('accounts created by an administrator (PreSignUp_AdminCreateUser)', () => {
  test('are trusted: no domain check, no rate limit, even with self sign-up closed', async () => {
    const input = event('PreSignUp_AdminCreateUser', { email: 'ops@anywhere.example' });
    const out = await handlerWith({ ...ENV, ALLOWED_DOMAINS: '' })(input);
    expect(out).toBe(input);
    expect(out.response).toEqual({ autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false });
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('do not need an e-mail attribute', async () => {
    await expect(handlerWith()(event('PreSignUp_AdminCreateUser', {}))).resolves.toBeDefined();
  });

  test('still respect the tenant cap', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { N: '11' } } });
    await expect(handlerWith()(event('PreSignUp_AdminCreateUser')))
      .rejects.toThrow(new SignUpRejected('The platform has reached its limit of 10 tenants; ask an administrator.'));
  });
});

describe('failures and misconfiguration', () => {
  test('a DynamoDB error becomes a generic refusal; the SDK text is logged, never shown', async () => {
    ddbMock.on(UpdateItemCommand).rejects(Object.assign(new Error('Rate of requests exceeds the allowed throughput at arn:aws:dynamodb:...'), { name: 'ProvisionedThroughputExceededException' }));
    const rejection = handlerWith()(event('PreSignUp_SignUp'));
    await expect(rejection).rejects.toThrow(new SignUpRejected(MESSAGES.unavailable));
    await expect(rejection).rejects.not.toThrow(/throughput|arn:/);
    expect(jest.mocked(console.error).mock.calls[0][0]).toContain('ProvisionedThroughputExceededException');
  });

  test('a tenant count that is not a number fails closed instead of counting as zero', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: { count: { S: 'many' } } });
    await expect(handlerWith()(event('PreSignUp_AdminCreateUser'))).rejects.toThrow(new SignUpRejected(MESSAGES.unavailable));
  });

  test.each([
    ['TENANT_TABLE', { TENANT_TABLE: undefined }],
    ['COUNTER_TABLE', { COUNTER_TABLE: '' }],
    ['MAX_TENANTS', { MAX_TENANTS: undefined }],
    ['MAX_TENANTS', { MAX_TENANTS: 'lots' }],
    ['SIGNUPS_PER_DOMAIN_PER_HOUR', { SIGNUPS_PER_DOMAIN_PER_HOUR: '2.5' }],
  ])('a missing or invalid %s fails closed with the generic refusal', async (name, change) => {
    await expect(handlerWith({ ...ENV, ...change })(event('PreSignUp_SignUp'))).rejects.toThrow(new SignUpRejected(MESSAGES.unavailable));
    expect(jest.mocked(console.error).mock.calls[0][0]).toContain(name);
    expect(ddbMock.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });
});

describe('emailDomain', () => {
  const local64 = 'l'.repeat(64);
  const label63 = 'd'.repeat(63);
  /** An address of exactly `length` characters: a 64-character local part at a domain of labels of at most 63. */
  const addressOfLength = (length: number) => {
    let domain = 'com';
    while (domain.length < length - 65) domain = `${'d'.repeat(Math.min(63, length - 65 - domain.length - 1))}.${domain}`;
    return `${local64}@${domain}`;
  };

  test.each([
    ['  Ann.Lee+tag@Example.COM  ', 'example.com'],
    ['ann@bücher.de', 'xn--bcher-kva.de'],
    ['ann@ＥＸＡＭＰＬＥ．ｃｏｍ', 'example.com'],
    ['ann@sub.domain.example.co.uk', 'sub.domain.example.co.uk'],
    ['ann@xn--bcher-kva.de', 'xn--bcher-kva.de'],
    [`${local64}@example.com`, 'example.com'],
    [`ann@${label63}.com`, `${label63}.com`],
  ])('%s → %s', (email, domain) => {
    expect(emailDomain(email)).toBe(domain);
  });

  test('the whole address may be 254 characters, not 255', () => {
    expect(addressOfLength(254)).toHaveLength(254);
    expect(addressOfLength(255)).toHaveLength(255);
    expect(() => emailDomain(addressOfLength(254))).not.toThrow();
    expect(() => emailDomain(addressOfLength(255))).toThrow(new SignUpRejected('The e-mail address is too long.'));
  });

  test('the local part is limited to 64 octets (multi-byte characters count by their UTF-8 size)', () => {
    expect(() => emailDomain(`${'l'.repeat(65)}@example.com`)).toThrow(new SignUpRejected('The part of the e-mail address before the @ is too long.'));
    expect(() => emailDomain(`${'é'.repeat(33)}@example.com`)).toThrow(new SignUpRejected('The part of the e-mail address before the @ is too long.'));
    expect(() => emailDomain(`${'é'.repeat(32)}@example.com`)).not.toThrow();
  });

  test.each([
    ['two @', 'ann@b@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'ann@'],
    ['a single-label domain', 'ann@localhost'],
    ['an IPv4 address', 'ann@127.0.0.1'],
    ['an IP literal', 'ann@[127.0.0.1]'],
    ['an underscore', 'ann@exa_mple.com'],
    ['a label starting with a hyphen', 'ann@-example.com'],
    ['an empty label', 'ann@example..com'],
    ['a trailing dot', 'ann@example.com.'],
    ['a percent escape (a URL parser would decode it)', 'ann@%65xample.com'],
    ['a path (a URL parser would cut the host there)', 'ann@example.com/evil.example'],
    ['a port', 'ann@example.com:25'],
    ['a label of 64 characters', `ann@${'d'.repeat(64)}.com`],
    ['invalid punycode', 'ann@xn--zz.com'],
  ])('refuses %s', (_, email) => {
    expect(() => emailDomain(email)).toThrow(new SignUpRejected('Enter a valid e-mail address.'));
  });

  test.each([
    ['a zero-width space', 'ann@exa\u200Bmple.com'],
    ['a zero-width joiner', 'an\u200Dn@example.com'],
    ['a right-to-left override', 'ann@\u202Emoc.elpmaxe'],
    ['a soft hyphen (IDNA would silently drop it)', 'ann@exam\u00ADple.com'],
    ['a byte order mark inside', 'ann\uFEFF@example.com'],
    ['a NUL', 'ann\u0000@example.com'],
    ['a space inside', 'ann lee@example.com'],
    ['a line break inside', 'ann@example.com\nBcc: x@y.z'],
    ['a lone surrogate', 'ann\uD800@example.com'],
  ])('refuses %s', (_, email) => {
    expect(() => emailDomain(email)).toThrow(new SignUpRejected('The e-mail address contains invisible or control characters.'));
  });
});

describe('allowed domains', () => {
  test('the setting is trimmed, lower-cased and converted to punycode', () => {
    expect(parseAllowedDomains(' Example.COM ,bücher.de,, ')).toEqual(['example.com', 'xn--bcher-kva.de']);
    expect(parseAllowedDomains(undefined)).toEqual([]);
  });

  test('only an exact match is allowed', () => {
    expect(isAllowedDomain('example.com', ['example.com'])).toBe(true);
    expect(isAllowedDomain('mail.example.com', ['example.com'])).toBe(false);
    expect(isAllowedDomain('example.com', ['mail.example.com'])).toBe(false);
    expect(isAllowedDomain('example.com.evil.net', ['example.com'])).toBe(false);
  });
});

describe('the hourly counter', () => {
  test('hours are UTC, yyyy-mm-ddThh', () => {
    expect(hourBucket(new Date('2025-12-31T23:59:59.999Z'))).toBe('2025-12-31T23');
    expect(hourBucket(new Date('2026-01-01T00:30:00+02:00'))).toBe('2025-12-31T22');
  });

  test.each([
    ['at the start of the hour', '2025-03-04T10:00:00.000Z'],
    ['in the middle', '2025-03-04T10:17:42.123Z'],
    ['at its last millisecond', '2025-03-04T10:59:59.999Z'],
  ])('the TTL is the end of the hour plus one hour, %s', async (_, now) => {
    await admitSignUp(ddb, { table: 'c', domain: 'example.com', limit: 5, now: new Date(now) });
    expect(ddbMock.commandCalls(UpdateItemCommand)[0].args[0].input.ExpressionAttributeValues![':ttl']).toEqual({ N: String(TTL_FOR_NOW) });
  });

  test('admitted with the new count; a failed condition is "not admitted"; other errors propagate', async () => {
    ddbMock.on(UpdateItemCommand).resolves({ Attributes: { count: { N: '4' } } });
    await expect(admitSignUp(ddb, { table: 'c', domain: 'example.com', limit: 5, now: NOW })).resolves.toEqual({ admitted: true, count: 4 });
    ddbMock.on(UpdateItemCommand).rejects(ccf());
    await expect(admitSignUp(ddb, { table: 'c', domain: 'example.com', limit: 5, now: NOW })).resolves.toEqual({ admitted: false });
    ddbMock.on(UpdateItemCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    await expect(admitSignUp(ddb, { table: 'c', domain: 'example.com', limit: 5, now: NOW })).rejects.toThrow('boom');
  });

  test('a limit below 1 admits nobody and writes nothing', async () => {
    await expect(admitSignUp(ddb, { table: 'c', domain: 'example.com', limit: 0, now: NOW })).resolves.toEqual({ admitted: false });
    expect(ddbMock.calls()).toHaveLength(0);
  });
});
