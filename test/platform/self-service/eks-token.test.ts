import { SignatureV4 } from '@smithy/signature-v4';
import { EKS_TOKEN_PREFIX, eksBearerToken, presignedCallerIdentityUrl } from '../../../src/platform/self-service/eks-token';
import { NodeSha256 } from '../../util';

// Our signer must produce, byte for byte, the presigned URL the AWS SDK's signer produces for the same request,
// credentials and time: that is what the EKS authenticator hands to STS.

const KEY = { accessKeyId: 'AKIAEXAMPLEKEYID0001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
// A session token with the characters that need percent-encoding in a query string.
const SESSION = { ...KEY, accessKeyId: 'ASIAEXAMPLEKEYID0002', sessionToken: 'IQoJb3JpZ2luX2VjE/+a=b!c*d(e)f\'g~h_i.j' };
const NOW = new Date('2026-03-04T05:06:07.891Z');

/** What @smithy/signature-v4 presigns for the EKS token request. */
async function sdkPresign(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region: string, cluster: string, host = `sts.${region}.amazonaws.com`) {
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: NodeSha256 as any });
  return signer.presign({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { 'host': host, 'x-k8s-aws-id': cluster },
  } as any, { signingDate: NOW, expiresIn: 60 }) as Promise<{ query: Record<string, string> }>;
}

function params(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams.entries());
}

describe('EKS bearer token', () => {
  test.each([
    ['long-term keys', KEY],
    ['a role session (with a session token)', SESSION],
  ])('presigns GetCallerIdentity exactly as the AWS SDK signer does, with %s', async (_name, credentials) => {
    const ours = presignedCallerIdentityUrl({ clusterName: 'openclaw-prod', region: 'eu-west-1', credentials, now: NOW });
    const sdk = await sdkPresign(credentials, 'eu-west-1', 'openclaw-prod');

    const url = new URL(ours);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(params(ours)).toEqual(sdk.query);
    expect(sdk.query['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(sdk.query['X-Amz-SignedHeaders']).toBe('host;x-k8s-aws-id');
    expect(sdk.query['X-Amz-Expires']).toBe('60');
    expect(sdk.query['X-Amz-Date']).toBe('20260304T050607Z');
    if ('sessionToken' in credentials) expect(params(ours)['X-Amz-Security-Token']).toBe(credentials.sessionToken);
    else expect(ours).not.toContain('X-Amz-Security-Token');
    // Every query value is RFC 3986-encoded (no raw '/', '+', '=', '!', '*', "'", '(' or ')' in values).
    for (const pair of url.search.slice(1).split('&')) expect(pair.split('=')[1]).toMatch(/^[A-Za-z0-9\-_.~%]*$/);
  });

  test('binds the token to the cluster: another cluster name gives another signature', async () => {
    const a = params(presignedCallerIdentityUrl({ clusterName: 'one', region: 'us-east-1', credentials: KEY, now: NOW }));
    const b = params(presignedCallerIdentityUrl({ clusterName: 'two', region: 'us-east-1', credentials: KEY, now: NOW }));
    expect(a['X-Amz-Signature']).not.toBe(b['X-Amz-Signature']);
    expect(a['X-Amz-Signature']).toBe((await sdkPresign(KEY, 'us-east-1', 'one')).query['X-Amz-Signature']);
    expect(b['X-Amz-Signature']).toBe((await sdkPresign(KEY, 'us-east-1', 'two')).query['X-Amz-Signature']);
  });

  test('signs for the China partition endpoint in cn- regions', async () => {
    const ours = presignedCallerIdentityUrl({ clusterName: 'c', region: 'cn-north-1', credentials: SESSION, now: NOW });
    expect(new URL(ours).host).toBe('sts.cn-north-1.amazonaws.com.cn');
    expect(params(ours)).toEqual((await sdkPresign(SESSION, 'cn-north-1', 'c', 'sts.cn-north-1.amazonaws.com.cn')).query);
  });

  test('signs for an overridden STS endpoint host', async () => {
    const ours = presignedCallerIdentityUrl({ clusterName: 'c', region: 'us-west-2', credentials: KEY, now: NOW, stsEndpoint: 'https://sts-fips.us-west-2.amazonaws.com/ignored?x=1' });
    expect(ours.startsWith('https://sts-fips.us-west-2.amazonaws.com/?')).toBe(true);
    expect(params(ours)).toEqual((await sdkPresign(KEY, 'us-west-2', 'c', 'sts-fips.us-west-2.amazonaws.com')).query);
  });

  test('the token is k8s-aws-v1. and the unpadded base64url of the presigned URL', () => {
    const options = { clusterName: 'openclaw-prod', region: 'eu-west-1', credentials: SESSION, now: NOW };
    const token = eksBearerToken(options);
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const body = token.slice(EKS_TOKEN_PREFIX.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(body, 'base64url').toString('utf8')).toBe(presignedCallerIdentityUrl(options));
  });

  test('uses the current time when no time is given', () => {
    const before = Date.now();
    const date = params(presignedCallerIdentityUrl({ clusterName: 'c', region: 'eu-west-1', credentials: KEY }))['X-Amz-Date'];
    const signed = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
    expect(signed).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(signed).toBeLessThanOrEqual(Date.now());
  });

  test('rejects bad input with a message naming the input and what is allowed', () => {
    const ok = { clusterName: 'c', region: 'eu-west-1', credentials: KEY, now: NOW };
    expect(() => eksBearerToken({ ...ok, clusterName: '' })).toThrow(/clusterName must be an EKS cluster name.*got ''/);
    expect(() => eksBearerToken({ ...ok, clusterName: 'a b' })).toThrow(/clusterName must be/);
    expect(() => eksBearerToken({ ...ok, region: 'Europe' })).toThrow(/region must name an AWS region such as 'eu-west-1', got 'Europe'/);
    expect(() => eksBearerToken({ ...ok, credentials: { accessKeyId: '', secretAccessKey: 'x' } })).toThrow(/credentials must have an accessKeyId and a secretAccessKey/);
    expect(() => eksBearerToken({ ...ok, now: new Date('nope') })).toThrow(/now must be a valid date/);
    expect(() => eksBearerToken({ ...ok, stsEndpoint: 'not a url' })).toThrow(/stsEndpoint must be an absolute https URL/);
    expect(() => eksBearerToken({ ...ok, stsEndpoint: 'http://sts.eu-west-1.amazonaws.com' })).toThrow(/stsEndpoint must be an https URL, got 'http:/);
  });

  test('never puts the secret access key in the token', () => {
    const token = eksBearerToken({ clusterName: 'c', region: 'eu-west-1', credentials: SESSION, now: NOW });
    const url = Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8');
    expect(url).not.toContain(SESSION.secretAccessKey);
    expect(url).not.toContain(encodeURIComponent(SESSION.secretAccessKey));
  });
});
