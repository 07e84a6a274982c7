/**
 * EKS bearer tokens without the AWS SDK: the token the cluster's authenticator accepts is a Signature Version 4
 * presigned STS `GetCallerIdentity` URL, bound to the cluster by a signed `x-k8s-aws-id` header, base64url-encoded
 * behind a `k8s-aws-v1.` prefix. The cluster calls the URL to learn who signed it, so the token reveals no secret
 * key, but it is a credential: the EKS authenticator accepts it for 15 minutes after its signing time (it checks
 * `X-Amz-Date` itself), so callers refresh it well before that and never log it. Node.js built-ins only (the
 * handlers bundle it).
 * @internal
 */
import { createHash, createHmac } from 'crypto';

/** The prefix of an EKS bearer token. */
export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** The signed header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** The presigned URL's `X-Amz-Expires`, in seconds (the value EKS clients send). */
export const EKS_TOKEN_EXPIRES_SECONDS = 60;

/** Credentials that sign the token (the Lambda function's role session). */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Inputs of {@link eksBearerToken} and {@link presignedCallerIdentityUrl}. */
export interface EksTokenOptions {
  /** The EKS cluster's name (the value of the signed `x-k8s-aws-id` header). */
  readonly clusterName: string;
  /** The region of the cluster and of the STS endpoint, e.g. `eu-west-1`. */
  readonly region: string;
  readonly credentials: SigningCredentials;
  /** The signing time. @default - the current time */
  readonly now?: Date;
  /**
   * The STS endpoint, e.g. `https://sts.eu-west-1.amazonaws.com` (path and query are ignored).
   * @default - the regional endpoint of `region`
   */
  readonly stsEndpoint?: string;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const SERVICE = 'sts';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');

/** RFC 3986 percent-encoding, as Signature Version 4 requires of query keys and values. */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function stsBase(options: EksTokenOptions): URL {
  if (options.stsEndpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.stsEndpoint);
    } catch {
      throw new Error(`stsEndpoint must be an absolute https URL such as 'https://sts.eu-west-1.amazonaws.com', got '${options.stsEndpoint}'`);
    }
    if (url.protocol !== 'https:') {
      throw new Error(`stsEndpoint must be an https URL, got '${options.stsEndpoint}'`);
    }
    return new URL(`${url.protocol}//${url.host}/`);
  }
  const suffix = options.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://sts.${options.region}.${suffix}/`);
}

/** `20240102T030405Z` (the long date of Signature Version 4). */
function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * The presigned `GetCallerIdentity` URL that an EKS token encodes: `X-Amz-Expires=60`, the `host` and
 * `x-k8s-aws-id` headers signed, the session token (when there is one) in `X-Amz-Security-Token`.
 */
export function presignedCallerIdentityUrl(options: EksTokenOptions): string {
  const { clusterName, region, credentials } = options;
  if (typeof clusterName !== 'string' || !/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(clusterName)) {
    throw new Error(`clusterName must be an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit), got '${clusterName}'`);
  }
  if (typeof region !== 'string' || !REGION.test(region)) {
    throw new Error(`region must name an AWS region such as 'eu-west-1', got '${region}'`);
  }
  if (!credentials?.accessKeyId || !credentials.secretAccessKey) {
    throw new Error('credentials must have an accessKeyId and a secretAccessKey');
  }
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime())) throw new Error('now must be a valid date');

  const base = stsBase(options);
  const longDate = amzDate(now);
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${region}/${SERVICE}/aws4_request`;
  const headers: Record<string, string> = { host: base.host, [CLUSTER_ID_HEADER]: clusterName };
  const headerNames = Object.keys(headers).sort();
  const signedHeaders = headerNames.join(';');

  const query: Record<string, string> = {
    'Action': 'GetCallerIdentity',
    'Version': '2011-06-15',
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': longDate,
    'X-Amz-Expires': String(EKS_TOKEN_EXPIRES_SECONDS),
    'X-Amz-SignedHeaders': signedHeaders,
  };
  if (credentials.sessionToken) query['X-Amz-Security-Token'] = credentials.sessionToken;
  const canonicalQuery = Object.keys(query).sort().map((k) => `${rfc3986(k)}=${rfc3986(query[k])}`).join('&');

  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    headerNames.map((n) => `${n}:${headers[n].trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    EMPTY_BODY_SHA256,
  ].join('\n');
  const stringToSign = [ALGORITHM, longDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
  for (const part of [region, SERVICE, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

  return `${base.origin}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/**
 * The bearer token of the cluster API for the given credentials: `k8s-aws-v1.` and the base64url (unpadded) of the
 * presigned `GetCallerIdentity` URL. The cluster accepts it for 15 minutes after `now`; refresh it before that.
 */
export function eksBearerToken(options: EksTokenOptions): string {
  return EKS_TOKEN_PREFIX + Buffer.from(presignedCallerIdentityUrl(options), 'utf8').toString('base64url');
}
