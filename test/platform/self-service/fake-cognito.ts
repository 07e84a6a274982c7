/**
 * A local stand-in for everything the auth UI talks to, on one node:http server:
 *
 * - the Cognito user pools JSON API: only the operations the UI uses, with in-memory users and real-ish rules (the
 *   password policy, e-mailed codes kept in an outbox, RFC 6238 TOTP, token expiry and revocation, Cognito's error
 *   types and messages, and a pre-sign-up hook whose rejection comes back as Cognito words it);
 * - the UI itself under AUTH_PATH, with a config.json pointing at this fake and the edge's Content-Security-Policy;
 * - the session API at SESSION_PATH (GET and DELETE per the contract, checking access tokens with this fake);
 * - a gateway page under /t/<tenant>/ that records its visits.
 *
 * The page is loaded from http://localhost:<port> and Cognito is reached at http://127.0.0.1:<port>/: another origin,
 * as the real endpoint is, so the browser's CORS checks and the CSP's connect-src are exercised. Every request the
 * server sees is recorded.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  ACCESS_TOKEN_HEADER,
  AUTH_PATH,
  SESSION_PATH,
  SessionResponse,
  TenantStatus,
  UI_CONFIG_FILE,
  UiConfig,
} from '../../../src/platform/self-service/contract';

/** The Cognito operations the fake answers; any other is refused and recorded in `unexpected`. */
export const COGNITO_OPERATIONS = [
  'SignUp',
  'ConfirmSignUp',
  'ResendConfirmationCode',
  'InitiateAuth',
  'RespondToAuthChallenge',
  'AssociateSoftwareToken',
  'VerifySoftwareToken',
  'SetUserMFAPreference',
  'GetUser',
  'ForgotPassword',
  'ConfirmForgotPassword',
  'GetTokensFromRefreshToken',
  'GlobalSignOut',
  'RevokeToken',
] as const;

/**
 * The app client's only auth flow; InitiateAuth with any other is refused as Cognito refuses a flow not enabled
 * (refreshes go through GetTokensFromRefreshToken, which works with refresh token rotation; REFRESH_TOKEN_AUTH does not).
 */
export const AUTH_FLOWS = ['USER_PASSWORD_AUTH'] as const;

export const CLIENT_ID = '5fakeclient0auth0ui0tests';
export const REGION = 'eu-west-1';
export const USER_POOL_ID = `${REGION}_FakePool1`;
/** The issuer name the UI puts in its otpauth:// URI. */
export const TOTP_ISSUER = 'OpenClaw';

const UI_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const CHALLENGE_SESSION_MS = 3 * 60_000;
const SIGN_UP_CODE_MS = 24 * 3600_000;
const RESET_CODE_MS = 3600_000;
const REFRESH_TOKEN_MS = 30 * 24 * 3600_000;
/** How long a rotated refresh token still works (the construct's refreshTokenRotationGracePeriod). */
const ROTATION_GRACE_MS = 10_000;
const MAX_FAILED_SIGN_INS = 5;
/** Cognito's password symbols (an inner space counts too). */
const SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-';

// ---------------------------------------------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226 HOTP: HMAC-SHA-1, 30-second steps) and the base32 its keys are written in

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = value * 256 + byte;
    bits += 8;
    while (bits >= 5) {
      const unit = 2 ** (bits - 5);
      out += BASE32[Math.floor(value / unit)];
      value %= unit;
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[value * 2 ** (5 - bits)];
  return out;
}

/** Decodes base32 (case, spaces and padding ignored). */
export function base32Decode(text: string): Buffer {
  const bytes: number[] = [];
  let value = 0;
  let bits = 0;
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) throw new Error(`not base32: ${char}`);
    value = value * 32 + digit;
    bits += 5;
    if (bits >= 8) {
      const unit = 2 ** (bits - 8);
      bytes.push(Math.floor(value / unit));
      value %= unit;
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The HOTP value of a base32 key for one counter value. */
export function hotp(secret: string, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', base32Decode(secret)).update(message).digest();
  const offset = mac[mac.length - 1] % 16;
  const number = mac.readUInt32BE(offset) % 0x80000000;
  return String(number % 10 ** digits).padStart(digits, '0');
}

/** The 30-second step a time (ms) falls in. */
export const totpStep = (atMs: number) => Math.floor(atMs / 30_000);

/** The TOTP code of a base32 key at a time (ms). */
export function totp(secret: string, atMs = Date.now(), digits = 6): string {
  return hotp(secret, totpStep(atMs), digits);
}

// ---------------------------------------------------------------------------------------------------------------
// State

/** A Cognito error: its type (`__type`) and message, answered with HTTP 400. */
export class CognitoError extends Error {
  constructor(public readonly type: string, message: string) {
    super(message);
  }
}

export type UserStatus = 'UNCONFIRMED' | 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD';

interface Code {
  readonly value: string;
  expiresAt: number;
}

export interface FakeUser {
  /** The pool's username: a sub (the pool signs users in by their email). */
  readonly username: string;
  readonly email: string;
  password: string;
  status: UserStatus;
  /** The authenticator's base32 key, once verified (VerifySoftwareToken, in the MFA_SETUP challenge or with an access token). */
  totpSecret?: string;
  /**
   * TOTP MFA is on (SetUserMFAPreference; MFA_SETUP turns it on): an OPTIONAL pool asks for a code at sign-in only
   * then (a REQUIRED pool asks whenever the user has a verified key).
   */
  totpEnabled: boolean;
  /** TOTP is the user's preferred MFA (GetUser's PreferredMfaSetting). */
  totpPreferred: boolean;
  /** A key AssociateSoftwareToken gave for an access token, until VerifySoftwareToken checks a code of it. */
  associatedSecret?: string;
  /** The last TOTP step accepted (a code is never accepted twice). */
  lastTotpStep: number;
  failedSignIns: number;
  signUpCode?: Code;
  resetCode?: Code;
}

/** An e-mail the pool sent. */
export interface Mail {
  readonly to: string;
  readonly purpose: 'SIGN_UP' | 'FORGOT_PASSWORD';
  readonly code: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

export interface CognitoCall {
  readonly operation: string;
  readonly body: any;
  /** The error type answered, if any. */
  error?: string;
}

export interface SessionCall {
  readonly method: string;
  readonly token: string;
  readonly status: number;
}

/** A user's tenant as the session API sees it. */
export interface FakeTenant {
  status: TenantStatus;
  readonly tenant: string;
  gatewayToken: string;
  /** How many more GETs answer 202 before a PROVISIONING tenant turns ACTIVE. */
  provisioningPolls: number;
  rotations: number;
  message?: string;
}

interface TokenRecord {
  readonly kind: 'access' | 'id' | 'refresh';
  readonly username: string;
  expiresAt: number;
  /** The first refresh token of the sign-in the token belongs to (through rotations); RevokeToken ends them all. */
  readonly origin: string;
  revoked: boolean;
}

interface ChallengeSession {
  readonly username: string;
  readonly challenge: 'NEW_PASSWORD_REQUIRED' | 'SOFTWARE_TOKEN_MFA' | 'MFA_SETUP';
  readonly expiresAt: number;
  secret?: string;
  verified?: boolean;
  failures: number;
}

/** What a test may change; `reset()` restores these. */
export interface FakeSettings {
  mfa: 'OPTIONAL' | 'REQUIRED';
  selfSignUp: boolean;
  passwordMinLength: number;
  accessTokenSeconds: number;
  /** GetTokensFromRefreshToken answers a new refresh token, and the old one ends after a grace period. */
  refreshTokenRotation: boolean;
  /** 202 answers a new tenant gives before it is ACTIVE. */
  provisioningPolls: number;
  retryAfterSeconds: number;
  /** config.json answers 500. */
  configBroken: boolean;
}

const DEFAULT_SETTINGS: FakeSettings = {
  mfa: 'REQUIRED',
  selfSignUp: true,
  passwordMinLength: 12,
  accessTokenSeconds: 3600,
  refreshTokenRotation: true,
  provisioningPolls: 1,
  retryAfterSeconds: 1,
  configBroken: false,
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** "a***@e***": how Cognito shows where it sent a code. */
function masked(email: string): string {
  const [local, domain] = email.split('@');
  return `${local.slice(0, 1)}***@${(domain ?? '').slice(0, 1)}***`;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1_000_000) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'Content-Type': type, ...headers });
  res.end(body);
}

// ---------------------------------------------------------------------------------------------------------------
// The server

export class FakeCognito {
  /** Every request the server saw, in order. */
  readonly requests: SeenRequest[] = [];
  /** Every Cognito call, in order. */
  readonly calls: CognitoCall[] = [];
  /** Operations the UI called that the fake does not implement (should stay empty). */
  readonly unexpected: string[] = [];
  /** E-mails with codes, in order. */
  readonly outbox: Mail[] = [];
  readonly sessionCalls: SessionCall[] = [];
  /** Requests of gateway pages: their tenant and URL (as the server saw it). */
  readonly gatewayVisits: Array<{ readonly tenant: string; readonly url: string }> = [];
  settings: FakeSettings = { ...DEFAULT_SETTINGS };
  /** The pre-sign-up trigger: a message rejects the sign-up (Cognito answers UserLambdaValidationException). */
  preSignUp?: (email: string) => string | undefined;

  private readonly users = new Map<string, FakeUser>();
  private readonly tenants = new Map<string, FakeTenant>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly issued = new Map<string, Array<{ kind: TokenRecord['kind']; token: string }>>();
  private readonly challenges = new Map<string, ChallengeSession>();
  private readonly failures = new Map<string, CognitoError>();
  private readonly drops = new Set<string>();
  private readonly server: http.Server;
  private readonly operations: Record<string, (body: any) => any> = {
    SignUp: (body) => this.signUp(body),
    ConfirmSignUp: (body) => this.confirmSignUp(body),
    ResendConfirmationCode: (body) => this.resendConfirmationCode(body),
    InitiateAuth: (body) => this.initiateAuth(body),
    RespondToAuthChallenge: (body) => this.respondToAuthChallenge(body),
    AssociateSoftwareToken: (body) => this.associateSoftwareToken(body),
    VerifySoftwareToken: (body) => this.verifySoftwareToken(body),
    SetUserMFAPreference: (body) => this.setUserMfaPreference(body),
    GetUser: (body) => this.getUser(body),
    ForgotPassword: (body) => this.forgotPassword(body),
    ConfirmForgotPassword: (body) => this.confirmForgotPassword(body),
    GetTokensFromRefreshToken: (body) => this.getTokensFromRefreshToken(body),
    GlobalSignOut: (body) => this.globalSignOut(body),
    RevokeToken: (body) => this.revokeToken(body),
  };
  private port = 0;

  constructor(private readonly uiDir: string) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        if (!res.headersSent) send(res, 500, 'text/plain', String(error));
        else res.end();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // Both names the test uses resolve to loopback: listen on every loopback address (IPv6 and IPv4).
      this.server.listen(0, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The origin of the UI, the session API and the gateways. */
  get origin(): string {
    return `http://localhost:${this.port}`;
  }

  get authUrl(): string {
    return `${this.origin}${AUTH_PATH}`;
  }

  /** Cognito's endpoint: this server under another origin. */
  get cognitoEndpoint(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The policy the edge serves the UI with (as self-service.ts builds it), naming this fake as Cognito's endpoint. */
  get contentSecurityPolicy(): string {
    return [
      "default-src 'self'",
      `connect-src 'self' ${this.cognitoEndpoint.replace(/\/$/, '')}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  get uiConfig(): UiConfig {
    return {
      region: REGION,
      userPoolId: USER_POOL_ID,
      clientId: CLIENT_ID,
      cognitoEndpoint: this.cognitoEndpoint,
      sessionPath: SESSION_PATH,
      mfa: this.settings.mfa,
      selfSignUp: this.settings.selfSignUp,
      passwordMinLength: this.settings.passwordMinLength,
    };
  }

  /** Restores the settings and forgets hooks and injected failures (users and records stay). */
  reset(): void {
    this.settings = { ...DEFAULT_SETTINGS };
    this.preSignUp = undefined;
    this.failures.clear();
    this.drops.clear();
  }

  // ----- for tests

  /** A user as an earlier sign-up left them; `mfa` gives them an authenticator key (returned), turned on and preferred. */
  addUser(options: { email: string; password: string; status?: UserStatus; mfa?: boolean }): { user: FakeUser; secret?: string } {
    const user = this.createUser(options.email, options.password, options.status ?? 'CONFIRMED');
    if (options.mfa) {
      user.totpSecret = base32Encode(randomBytes(20));
      user.totpEnabled = true;
      user.totpPreferred = true;
    }
    if (user.status === 'UNCONFIRMED') this.sendCode(user, 'SIGN_UP');
    else this.tenantFor(user);
    return { user, secret: user.totpSecret };
  }

  /** What AdminCreateUser does: a user who must choose a new password at first sign-in. */
  adminCreateUser(email: string, temporaryPassword: string): FakeUser {
    const user = this.createUser(email, temporaryPassword, 'FORCE_CHANGE_PASSWORD');
    this.tenantFor(user);
    return user;
  }

  user(email: string): FakeUser {
    const user = this.findUser(email);
    if (!user) throw new Error(`no user ${email}`);
    return user;
  }

  tenantOf(email: string): FakeTenant {
    const tenant = this.tenants.get(this.user(email).username);
    if (!tenant) throw new Error(`no tenant for ${email}`);
    return tenant;
  }

  /** The newest code e-mailed to an address for a purpose. */
  latestCode(email: string, purpose: Mail['purpose']): string {
    const mail = [...this.outbox].reverse().find((m) => m.to === email.toLowerCase() && m.purpose === purpose);
    if (!mail) throw new Error(`no ${purpose} mail to ${email}`);
    return mail.code;
  }

  /** Makes the user's outstanding codes expired. */
  expireCodes(email: string): void {
    const user = this.user(email);
    for (const code of [user.signUpCode, user.resetCode]) if (code) code.expiresAt = Date.now() - 1;
  }

  /** The next call of an operation fails with this error (whatever it asks). */
  failNext(operation: string, type: string, message: string): void {
    this.failures.set(operation, new CognitoError(type, message));
  }

  /**
   * Calls of an operation get no answer, until `reset()`: the connection is dropped (a network failure; every call,
   * as the browser retries a request whose reused connection was reset).
   */
  dropCalls(operation: string): void {
    this.drops.add(operation);
  }

  /** Tokens issued to a user, in order. */
  tokensOf(email: string, kind: TokenRecord['kind']): string[] {
    return (this.issued.get(this.user(email).username) ?? []).filter((t) => t.kind === kind).map((t) => t.token);
  }

  tokenState(token: string): 'valid' | 'expired' | 'revoked' | 'unknown' {
    const record = this.tokens.get(token);
    if (!record) return 'unknown';
    if (record.revoked) return 'revoked';
    return Date.now() >= record.expiresAt ? 'expired' : 'valid';
  }

  callsOf(operation: string): CognitoCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  // ----- HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    this.requests.push({ method, url: req.url ?? '', headers: { ...req.headers } });
    const { pathname } = new URL(req.url ?? '/', 'http://fake.invalid');
    if (method === 'OPTIONS') {
      // Cognito's CORS preflight: any origin may POST its JSON with the target header.
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'content-type, x-amz-target, x-amz-user-agent',
        'Access-Control-Max-Age': '300',
      });
      res.end();
      return;
    }
    if (method === 'POST' && pathname === '/' && req.headers['x-amz-target']) return this.cognito(req, res);
    if (pathname === SESSION_PATH) return this.session(req, res);
    if (pathname === AUTH_PATH.replace(/\/$/, '')) {
      res.writeHead(301, { Location: AUTH_PATH });
      res.end();
      return;
    }
    if (pathname.startsWith(AUTH_PATH) && method === 'GET') return this.ui(pathname.slice(AUTH_PATH.length), res);
    const gateway = /^\/t\/([a-z0-9-]+)\/$/.exec(pathname);
    if (gateway && method === 'GET') {
      this.gatewayVisits.push({ tenant: gateway[1], url: req.url ?? '' });
      send(res, 200, 'text/html; charset=utf-8', `<!doctype html><html lang="en"><title>Gateway ${gateway[1]}</title><h1>Gateway of ${gateway[1]}</h1></html>`);
      return;
    }
    send(res, 404, 'text/plain', 'not found');
  }

  private async ui(file: string, res: http.ServerResponse): Promise<void> {
    const headers = {
      'Content-Security-Policy': this.contentSecurityPolicy,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (file === UI_CONFIG_FILE) {
      if (this.settings.configBroken) send(res, 500, 'text/plain', 'broken', headers);
      else send(res, 200, 'application/json', JSON.stringify(this.uiConfig), { ...headers, 'Cache-Control': 'no-store' });
      return;
    }
    const name = file === '' ? 'index.html' : file;
    const type = UI_FILES[name];
    if (!type) {
      send(res, 404, 'text/plain', 'not found', headers);
      return;
    }
    send(res, 200, type, await fs.readFile(path.join(this.uiDir, name)), headers);
  }

  private async cognito(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target']);
    const operation = target.replace(/^AWSCognitoIdentityProviderService\./, '');
    const text = await readBody(req);
    const call: CognitoCall = { operation, body: undefined };
    this.calls.push(call);
    const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'x-amzn-requestid, x-amzn-errortype' };
    const type = 'application/x-amz-json-1.1';
    try {
      const handler = this.operations[operation];
      if (!target.startsWith('AWSCognitoIdentityProviderService.') || !handler) {
        this.unexpected.push(target);
        throw new CognitoError('UnknownOperationException', '');
      }
      if (req.headers['content-type'] !== type) throw new CognitoError('SerializationException', 'Expected application/x-amz-json-1.1');
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        throw new CognitoError('SerializationException', 'Invalid JSON');
      }
      (call as { body: any }).body = body;
      if (this.drops.has(operation)) {
        call.error = 'dropped';
        req.socket.destroy();
        return;
      }
      const injected = this.failures.get(operation);
      if (injected) {
        this.failures.delete(operation);
        throw injected;
      }
      send(res, 200, type, JSON.stringify(handler(body)), { ...cors, 'x-amzn-RequestId': randomUUID() });
    } catch (error) {
      if (!(error instanceof CognitoError)) throw error;
      call.error = error.type;
      send(res, 400, type, JSON.stringify({ __type: error.type, message: error.message }), {
        ...cors,
        'x-amzn-RequestId': randomUUID(),
        'x-amzn-ErrorType': `${error.type}:`,
      });
    }
  }

  /** The session API (contract.ts): the access token in ACCESS_TOKEN_HEADER, JSON answers, no caching. */
  private async session(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const token = String(req.headers[ACCESS_TOKEN_HEADER] ?? '');
    const answer = (status: number, body: SessionResponse | { status: 'ROTATING' }) => {
      this.sessionCalls.push({ method, token, status });
      send(res, status, 'application/json', JSON.stringify(body), { 'Cache-Control': 'no-store' });
    };
    let user: FakeUser;
    try {
      user = this.checkAccess(token);
    } catch (error) {
      answer(401, { status: 'UNAUTHORIZED', message: (error as Error).message });
      return;
    }
    const tenant = this.tenants.get(user.username);
    if (!tenant) {
      answer(403, { status: 'REMOVED', message: 'You have no workspace.' });
      return;
    }
    if (method === 'GET') {
      if (tenant.status === 'PROVISIONING') {
        if (tenant.provisioningPolls > 0) {
          tenant.provisioningPolls -= 1;
          answer(202, { status: 'PROVISIONING', retryAfterSeconds: this.settings.retryAfterSeconds });
          return;
        }
        tenant.status = 'ACTIVE';
      }
      if (tenant.status === 'ACTIVE') {
        answer(200, { status: 'ACTIVE', tenant: tenant.tenant, path: `/t/${tenant.tenant}/`, gatewayToken: tenant.gatewayToken });
      } else {
        answer(403, { status: tenant.status as 'CAPPED', message: tenant.message ?? `Your workspace is ${tenant.status.toLowerCase()}.` });
      }
      return;
    }
    if (method === 'DELETE') {
      if (tenant.status !== 'ACTIVE') {
        answer(403, { status: tenant.status as 'CAPPED', message: 'Your workspace is not active.' });
        return;
      }
      tenant.gatewayToken = this.gatewayToken();
      tenant.rotations += 1;
      answer(202, { status: 'ROTATING' });
      return;
    }
    send(res, 405, 'text/plain', 'method not allowed');
  }

  // ----- users, codes and tokens

  private createUser(email: string, password: string, status: UserStatus): FakeUser {
    const user: FakeUser = {
      username: randomUUID(),
      email: email.toLowerCase(),
      password,
      status,
      totpEnabled: false,
      totpPreferred: false,
      lastTotpStep: -1,
      failedSignIns: 0,
    };
    this.users.set(user.username, user);
    return user;
  }

  /** By the pool's username or by email (case-insensitive), as a pool with email sign-in does. */
  private findUser(name: unknown): FakeUser | undefined {
    if (typeof name !== 'string') return undefined;
    const byName = this.users.get(name);
    if (byName) return byName;
    const email = name.toLowerCase();
    return [...this.users.values()].find((u) => u.email === email);
  }

  private tenantFor(user: FakeUser): void {
    if (this.tenants.has(user.username)) return;
    const name = `${user.email.split('@')[0].replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 20) || 'tenant'}-${randomBytes(2).toString('hex')}`;
    this.tenants.set(user.username, {
      status: 'PROVISIONING',
      tenant: name,
      gatewayToken: this.gatewayToken(),
      provisioningPolls: this.settings.provisioningPolls,
      rotations: 0,
    });
  }

  /** A gateway token with characters that must be percent-encoded in a URL fragment ("+", "/", "="). */
  private gatewayToken(): string {
    return `oc+${randomBytes(16).toString('hex')}/=`;
  }

  private sendCode(user: FakeUser, purpose: Mail['purpose']): void {
    const previous = (purpose === 'SIGN_UP' ? user.signUpCode : user.resetCode)?.value;
    let value: string;
    // A new code always differs from the one it replaces (so a test can tell them apart).
    do value = String(randomBytes(4).readUInt32BE(0) % 1_000_000).padStart(6, '0'); while (value === previous);
    const code = { value, expiresAt: Date.now() + (purpose === 'SIGN_UP' ? SIGN_UP_CODE_MS : RESET_CODE_MS) };
    if (purpose === 'SIGN_UP') user.signUpCode = code;
    else user.resetCode = code;
    this.outbox.push({ to: user.email, purpose, code: value });
  }

  private checkCode(code: Code | undefined, given: unknown): void {
    if (!code || code.value !== String(given)) {
      throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
    }
    if (Date.now() > code.expiresAt) throw new CognitoError('ExpiredCodeException', 'Invalid code provided, please request a code again.');
  }

  private checkPassword(password: unknown): void {
    const text = typeof password === 'string' ? password : '';
    const problem = [...text].length < this.settings.passwordMinLength ? 'Password not long enough'
      : !/[A-Z]/.test(text) ? 'Password must have uppercase characters'
        : !/[a-z]/.test(text) ? 'Password must have lowercase characters'
          : !/[0-9]/.test(text) ? 'Password must have numeric characters'
            : ![...text.trim()].some((c) => c === ' ' || SYMBOLS.includes(c)) ? 'Password must have symbol characters'
              : text !== text.trim() ? 'Password must not start or end with a space' : undefined;
    if (problem) throw new CognitoError('InvalidPasswordException', `Password did not conform with policy: ${problem}`);
  }

  private checkClient(clientId: unknown): void {
    if (clientId !== CLIENT_ID) throw new CognitoError('ResourceNotFoundException', `User pool client ${String(clientId)} does not exist.`);
  }

  /** Accepts a TOTP code for the step before, at or after now, never one at or before the last accepted step. */
  private acceptTotp(user: FakeUser, secret: string, code: unknown): boolean {
    const now = totpStep(Date.now());
    for (const step of [now - 1, now, now + 1]) {
      if (step > user.lastTotpStep && hotp(secret, step) === String(code)) {
        user.lastTotpStep = step;
        return true;
      }
    }
    return false;
  }

  private mint(kind: TokenRecord['kind'], user: FakeUser, expiresAt: number, origin: string): string {
    let token: string;
    if (kind === 'refresh') {
      token = `${base64url(JSON.stringify({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' }))}.${base64url(randomBytes(48))}`;
    } else {
      const claims = {
        sub: user.username,
        token_use: kind,
        iss: `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`,
        ...(kind === 'access' ? { client_id: CLIENT_ID, username: user.username, scope: 'aws.cognito.signin.user.admin' } : { aud: CLIENT_ID, email: user.email }),
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(expiresAt / 1000),
        jti: randomUUID(),
      };
      token = `${base64url(JSON.stringify({ kid: 'fake', alg: 'RS256' }))}.${base64url(JSON.stringify(claims))}.${base64url(randomBytes(32))}`;
    }
    this.tokens.set(token, { kind, username: user.username, expiresAt, origin: origin || token, revoked: false });
    const list = this.issued.get(user.username) ?? [];
    list.push({ kind, token });
    this.issued.set(user.username, list);
    return token;
  }

  /** New tokens of a sign-in (`origin`: its first refresh token; none for a new sign-in), with a refresh token or not. */
  private issue(user: FakeUser, origin?: string, refreshToken?: string) {
    const now = Date.now();
    const refresh = refreshToken ?? (origin ? undefined : this.mint('refresh', user, now + REFRESH_TOKEN_MS, ''));
    const chain = origin ?? refresh!;
    const expiresAt = now + this.settings.accessTokenSeconds * 1000;
    return {
      AccessToken: this.mint('access', user, expiresAt, chain),
      ExpiresIn: this.settings.accessTokenSeconds,
      TokenType: 'Bearer',
      IdToken: this.mint('id', user, expiresAt, chain),
      ...(refresh ? { RefreshToken: refresh } : {}),
    };
  }

  private checkAccess(token: unknown): FakeUser {
    const record = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (!record || record.kind !== 'access') throw new CognitoError('NotAuthorizedException', 'Invalid Access Token');
    if (record.revoked) throw new CognitoError('NotAuthorizedException', 'Access Token has been revoked');
    if (Date.now() >= record.expiresAt) throw new CognitoError('NotAuthorizedException', 'Access Token has expired');
    return this.users.get(record.username)!;
  }

  private challenge(user: FakeUser, challenge: ChallengeSession['challenge'], parameters: Record<string, string>) {
    const session = this.newSession({ username: user.username, challenge, expiresAt: Date.now() + CHALLENGE_SESSION_MS, failures: 0 });
    return { ChallengeName: challenge, Session: session, ChallengeParameters: { ...parameters, USER_ID_FOR_SRP: user.username } };
  }

  private newSession(state: ChallengeSession): string {
    const id = `AYABe${randomBytes(96).toString('base64url')}`;
    this.challenges.set(id, state);
    return id;
  }

  private liveSession(id: unknown): ChallengeSession {
    const session = typeof id === 'string' ? this.challenges.get(id) : undefined;
    if (!session || Date.now() > session.expiresAt) {
      throw new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    }
    return session;
  }

  /** Replaces a challenge session by a new one (as AssociateSoftwareToken and VerifySoftwareToken answer). */
  private rotateSession(id: string, session: ChallengeSession): string {
    this.challenges.delete(id);
    return this.newSession(session);
  }

  /** What follows a correct password (or a new one): a challenge, or tokens. */
  private nextStep(user: FakeUser) {
    if (user.status === 'FORCE_CHANGE_PASSWORD') {
      return this.challenge(user, 'NEW_PASSWORD_REQUIRED', {
        userAttributes: JSON.stringify({ email: user.email, email_verified: 'true' }),
        requiredAttributes: '[]',
      });
    }
    if (user.totpSecret && (user.totpEnabled || this.settings.mfa === 'REQUIRED')) return this.challenge(user, 'SOFTWARE_TOKEN_MFA', {});
    if (this.settings.mfa === 'REQUIRED') return this.challenge(user, 'MFA_SETUP', { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' });
    return { ChallengeParameters: {}, AuthenticationResult: this.issue(user) };
  }

  // ----- operations

  private signUp(body: any) {
    this.checkClient(body.ClientId);
    if (!this.settings.selfSignUp) throw new CognitoError('NotAuthorizedException', 'SignUp is not permitted for this user pool');
    const email = String(body.Username ?? '');
    if (!EMAIL.test(email)) throw new CognitoError('InvalidParameterException', 'Username should be an email.');
    this.checkPassword(body.Password);
    if (this.findUser(email)) throw new CognitoError('UsernameExistsException', 'An account with the given email already exists.');
    const rejection = this.preSignUp?.(email.toLowerCase());
    if (rejection !== undefined) throw new CognitoError('UserLambdaValidationException', `PreSignUp failed with error ${rejection}.`);
    const user = this.createUser(email, body.Password, 'UNCONFIRMED');
    this.sendCode(user, 'SIGN_UP');
    return {
      UserConfirmed: false,
      UserSub: user.username,
      CodeDeliveryDetails: { Destination: masked(user.email), DeliveryMedium: 'EMAIL', AttributeName: 'email' },
    };
  }

  private confirmSignUp(body: any) {
    this.checkClient(body.ClientId);
    const user = this.findUser(body.Username);
    if (!user) throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
    if (user.status !== 'UNCONFIRMED') throw new CognitoError('NotAuthorizedException', `User cannot be confirmed. Current status is ${user.status}`);
    this.checkCode(user.signUpCode, body.ConfirmationCode);
    user.status = 'CONFIRMED';
    user.signUpCode = undefined;
    // The post-confirmation trigger queues the tenant's provisioning.
    this.tenantFor(user);
    return {};
  }

  private resendConfirmationCode(body: any) {
    this.checkClient(body.ClientId);
    const user = this.findUser(body.Username);
    const delivery = { Destination: masked(String(body.Username ?? '')), DeliveryMedium: 'EMAIL', AttributeName: 'email' };
    // Unknown users get the same answer and no mail (the pool prevents user existence errors).
    if (!user) return { CodeDeliveryDetails: delivery };
    if (user.status !== 'UNCONFIRMED') throw new CognitoError('InvalidParameterException', 'User is already confirmed.');
    this.sendCode(user, 'SIGN_UP');
    return { CodeDeliveryDetails: delivery };
  }

  private initiateAuth(body: any) {
    this.checkClient(body.ClientId);
    const parameters = body.AuthParameters ?? {};
    if (body.AuthFlow === 'USER_PASSWORD_AUTH') {
      const user = this.findUser(parameters.USERNAME);
      if (!user) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
      if (user.failedSignIns >= MAX_FAILED_SIGN_INS) throw new CognitoError('NotAuthorizedException', 'Password attempts exceeded');
      if (parameters.PASSWORD !== user.password) {
        user.failedSignIns += 1;
        throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
      }
      user.failedSignIns = 0;
      if (user.status === 'UNCONFIRMED') throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
      return this.nextStep(user);
    }
    throw new CognitoError('InvalidParameterException', `${String(body.AuthFlow)} flow not enabled for this client`);
  }

  private respondToAuthChallenge(body: any) {
    this.checkClient(body.ClientId);
    const session = this.liveSession(body.Session);
    if (session.challenge !== body.ChallengeName) throw new CognitoError('InvalidParameterException', 'The challenge does not match the session.');
    const responses = body.ChallengeResponses ?? {};
    const user = this.findUser(responses.USERNAME);
    if (!responses.USERNAME) throw new CognitoError('InvalidParameterException', 'Missing required parameter USERNAME');
    if (!user || user.username !== session.username) throw new CognitoError('NotAuthorizedException', 'Incorrect username or password.');
    switch (session.challenge) {
      case 'NEW_PASSWORD_REQUIRED':
        this.checkPassword(responses.NEW_PASSWORD);
        user.password = responses.NEW_PASSWORD;
        user.status = 'CONFIRMED';
        this.challenges.delete(body.Session);
        return this.nextStep(user);
      case 'SOFTWARE_TOKEN_MFA':
        if (!user.totpSecret) throw new CognitoError('SoftwareTokenMFANotFoundException', 'Software Token MFA has not been enabled by the user.');
        if (!this.acceptTotp(user, user.totpSecret, responses.SOFTWARE_TOKEN_MFA_CODE)) {
          session.failures += 1;
          if (session.failures >= 3) this.challenges.delete(body.Session);
          throw new CognitoError('CodeMismatchException', 'Invalid code received for user');
        }
        this.challenges.delete(body.Session);
        return { ChallengeParameters: {}, AuthenticationResult: this.issue(user) };
      case 'MFA_SETUP':
        if (!session.verified) throw new CognitoError('InvalidParameterException', 'The software token has not been verified.');
        this.challenges.delete(body.Session);
        return { ChallengeParameters: {}, AuthenticationResult: this.issue(user) };
    }
    throw new CognitoError('InvalidParameterException', `Unsupported challenge ${String(body.ChallengeName)}`);
  }

  /**
   * A new key, for a signed-in user (AccessToken: kept until verified, used at sign-in only once turned on) or during
   * the MFA_SETUP challenge (Session).
   */
  private associateSoftwareToken(body: any) {
    this.oneOfAccessTokenOrSession(body);
    const secret = base32Encode(randomBytes(20));
    if (body.AccessToken !== undefined) {
      const user = this.checkAccess(body.AccessToken);
      user.associatedSecret = secret;
      return { SecretCode: secret };
    }
    const session = this.liveSession(body.Session);
    if (session.challenge !== 'MFA_SETUP') throw new CognitoError('NotAuthorizedException', 'Invalid session for the user.');
    return { SecretCode: secret, Session: this.rotateSession(body.Session, { ...session, secret, verified: false }) };
  }

  /**
   * Checks a code of the associated key. With an AccessToken the key becomes the user's verified key, not yet turned
   * on (SetUserMFAPreference does that); in the MFA_SETUP challenge it is turned on and preferred at once.
   */
  private verifySoftwareToken(body: any) {
    this.oneOfAccessTokenOrSession(body);
    if (body.AccessToken !== undefined) {
      const user = this.checkAccess(body.AccessToken);
      if (!user.associatedSecret) throw new CognitoError('InvalidParameterException', 'No software token is associated with the user.');
      if (!this.acceptTotp(user, user.associatedSecret, body.UserCode)) {
        throw new CognitoError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA');
      }
      user.totpSecret = user.associatedSecret;
      user.associatedSecret = undefined;
      return { Status: 'SUCCESS' };
    }
    const session = this.liveSession(body.Session);
    if (!session.secret) throw new CognitoError('InvalidParameterException', 'No software token is associated with the session.');
    const user = this.users.get(session.username)!;
    if (!this.acceptTotp(user, session.secret, body.UserCode)) {
      throw new CognitoError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA');
    }
    user.totpSecret = session.secret;
    user.totpEnabled = true;
    user.totpPreferred = true;
    return { Status: 'SUCCESS', Session: this.rotateSession(body.Session, { ...session, verified: true }) };
  }

  private oneOfAccessTokenOrSession(body: any): void {
    if ((body.AccessToken === undefined) === (body.Session === undefined)) {
      throw new CognitoError('InvalidParameterException', 'Exactly one of AccessToken and Session must be given.');
    }
  }

  /** Turns the signed-in user's TOTP MFA on or off (the pool offers no other factor); on needs a verified key. */
  private setUserMfaPreference(body: any) {
    const user = this.checkAccess(body.AccessToken);
    if (body.SMSMfaSettings !== undefined || body.EmailMfaSettings !== undefined) {
      throw new CognitoError('InvalidParameterException', 'This user pool offers software token MFA only.');
    }
    const settings = body.SoftwareTokenMfaSettings;
    if (settings === undefined) return {};
    if (typeof settings !== 'object' || settings === null || typeof settings.Enabled !== 'boolean') {
      throw new CognitoError('InvalidParameterException', 'SoftwareTokenMfaSettings.Enabled must be a boolean.');
    }
    const preferred = settings.PreferredMfa === true;
    if (preferred && !settings.Enabled) throw new CognitoError('InvalidParameterException', 'A disabled MFA cannot be preferred.');
    if (settings.Enabled && !user.totpSecret) throw new CognitoError('InvalidParameterException', 'User has not verified software token mfa');
    user.totpEnabled = settings.Enabled;
    user.totpPreferred = preferred;
    return {};
  }

  /** The signed-in user: attributes, and TOTP in UserMFASettingList (and PreferredMfaSetting) once it is on. */
  private getUser(body: any) {
    const user = this.checkAccess(body.AccessToken);
    const on = Boolean(user.totpSecret) && user.totpEnabled;
    return {
      Username: user.username,
      UserAttributes: [
        { Name: 'sub', Value: user.username },
        { Name: 'email', Value: user.email },
        { Name: 'email_verified', Value: user.status === 'UNCONFIRMED' ? 'false' : 'true' },
      ],
      ...(on ? { UserMFASettingList: ['SOFTWARE_TOKEN_MFA'] } : {}),
      ...(on && user.totpPreferred ? { PreferredMfaSetting: 'SOFTWARE_TOKEN_MFA' } : {}),
    };
  }

  private forgotPassword(body: any) {
    this.checkClient(body.ClientId);
    const user = this.findUser(body.Username);
    const delivery = { Destination: masked(String(body.Username ?? '')), DeliveryMedium: 'EMAIL', AttributeName: 'email' };
    if (!user) return { CodeDeliveryDetails: delivery };
    if (user.status === 'UNCONFIRMED') {
      throw new CognitoError('InvalidParameterException', 'Cannot reset password for the user as there is no registered/verified email or phone_number');
    }
    if (user.status === 'FORCE_CHANGE_PASSWORD') throw new CognitoError('NotAuthorizedException', 'User password cannot be reset in the current state.');
    this.sendCode(user, 'FORGOT_PASSWORD');
    return { CodeDeliveryDetails: delivery };
  }

  private confirmForgotPassword(body: any) {
    this.checkClient(body.ClientId);
    this.checkPassword(body.Password);
    const user = this.findUser(body.Username);
    if (!user) throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
    this.checkCode(user.resetCode, body.ConfirmationCode);
    user.password = body.Password;
    user.resetCode = undefined;
    user.failedSignIns = 0;
    return {};
  }

  private getTokensFromRefreshToken(body: any) {
    this.checkClient(body.ClientId);
    const token = String(body.RefreshToken ?? '');
    const record = this.tokens.get(token);
    if (!record || record.kind !== 'refresh') throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    if (record.revoked) throw new CognitoError('NotAuthorizedException', 'Refresh Token has been revoked');
    if (Date.now() >= record.expiresAt) throw new CognitoError('NotAuthorizedException', 'Refresh Token has expired');
    const user = this.users.get(record.username)!;
    if (!this.settings.refreshTokenRotation) return { AuthenticationResult: this.issue(user, record.origin) };
    // Rotation: a new refresh token for the rest of the old one's life; the old one ends after the grace period.
    const next = this.mint('refresh', user, record.expiresAt, record.origin);
    record.expiresAt = Math.min(record.expiresAt, Date.now() + ROTATION_GRACE_MS);
    return { AuthenticationResult: this.issue(user, record.origin, next) };
  }

  private globalSignOut(body: any) {
    const user = this.checkAccess(body.AccessToken);
    for (const record of this.tokens.values()) if (record.username === user.username) record.revoked = true;
    return {};
  }

  private revokeToken(body: any) {
    this.checkClient(body.ClientId);
    const token = String(body.Token ?? '');
    const record = this.tokens.get(token);
    if (!record) return {};
    if (record.kind !== 'refresh') throw new CognitoError('UnsupportedTokenTypeException', 'Unsupported token type');
    for (const other of this.tokens.values()) if (other.origin === record.origin) other.revoked = true;
    return {};
  }
}
