/**
 * The auth UI (ui/auth) in a real browser: Debian's chromium driven by playwright-core, against a local fake of
 * Cognito, the session API and a gateway (fake-cognito.ts), under the edge's Content-Security-Policy.
 *
 * Screenshots of each screen go to docs/images/self-service/ when UPDATE_SCREENSHOTS=1, else to .tmp/ (they differ
 * between machines; CI never rewrites the committed ones).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { base32Encode, CLIENT_ID, FakeCognito, hotp, totp, TOTP_ISSUER, totpStep } from './fake-cognito';
import { ACCESS_TOKEN_HEADER, SESSION_PATH } from '../../../src/platform/self-service/contract';

const ROOT = path.join(__dirname, '..', '..', '..');
const UI_DIR = path.join(ROOT, 'ui', 'auth');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const SCREENSHOT_DIR = UPDATE_SCREENSHOTS
  ? path.join(ROOT, 'docs', 'images', 'self-service')
  : path.join(ROOT, '.tmp', 'self-service-screenshots');
const SCREENS = [
  'sign-in', 'sign-up', 'verify', 'mfa-setup', 'mfa-code', 'new-password', 'reset-password', 'provisioning', 'home', 'signed-out', 'error',
  'mfa-turn-on',
];
/** Meets the pool's policy: 12 or more characters with upper and lower case, a digit and a symbol. */
const PASSWORD = 'Harbour-Lights-42';
const RULE = 'At least 12 characters, with an uppercase letter, a lowercase letter, a number and a symbol.';

jest.setTimeout(90_000);

let browser: Browser;
let fake: FakeCognito;

/** Watches each page for CSP violations, uncaught errors and any write to the origin's storage. */
const INSTRUMENT = `(() => {
  const writes = [];
  Object.defineProperty(window, '__storageWrites', { value: writes });
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__reportViolation(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
  });
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    writes.push((this === window.localStorage ? 'localStorage:' : 'sessionStorage:') + key);
    return setItem.call(this, key, value);
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true,
    get() { return cookie.get.call(this); },
    set(value) { writes.push('cookie'); cookie.set.call(this, value); },
  });
  const openDatabase = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function (...args) { writes.push('indexedDB:' + args[0]); return openDatabase.apply(this, args); };
  if (self.CacheStorage) {
    const openCache = CacheStorage.prototype.open;
    CacheStorage.prototype.open = function (name) { writes.push('caches:' + name); return openCache.call(this, name); };
  }
})();`;

interface Opened {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly violations: string[];
  readonly pageErrors: string[];
}

const opened: Opened[] = [];
const captured = new Set<string>();

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `The auth UI test needs Chromium and found none at ${CHROMIUM}. Install it (apt-get install chromium) or point CHROMIUM_PATH at it.`,
    );
  }
  fake = new FakeCognito(UI_DIR);
  await fake.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await fake?.stop();
  if (UPDATE_SCREENSHOTS) {
    const missing = SCREENS.filter((name) => !captured.has(name));
    if (missing.length > 0) throw new Error(`screens not captured: ${missing.join(', ')}`);
  }
});

afterEach(async () => {
  const done = opened.splice(0);
  for (const { context } of done) await context.close();
  fake.reset();
  for (const { violations, pageErrors } of done) {
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
  }
  expect(fake.unexpected).toEqual([]);
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A browser tab on the auth page (a fresh context: no shared memory or storage), showing `first`. */
async function openUi(options: { width?: number; height?: number; first?: string } = {}): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 800, height: options.height ?? 600 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    colorScheme: 'light',
  });
  const violations: string[] = [];
  const pageErrors: string[] = [];
  await context.exposeFunction('__reportViolation', (violation: string) => violations.push(violation));
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const tab = { context, page, violations, pageErrors };
  opened.push(tab);
  await page.goto(fake.authUrl);
  await expectScreen(page, options.first ?? 'sign-in');
  return tab;
}

const section = (page: Page, name: string) => page.locator(`#screen-${name}`);

async function expectScreen(page: Page, name: string, timeout = 10_000): Promise<void> {
  try {
    await section(page, name).waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await page.locator('[data-screen]:not([hidden])').getAttribute('id').catch(() => 'none');
    const alert = await page.locator('#alert').textContent().catch(() => '');
    throw new Error(`expected screen ${name}, found ${shown} (alert: "${alert}")`);
  }
}

/** Waits for an element's text to be exactly `expected`. */
async function expectText(page: Page, selector: string, expected: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([s, t]) => (globalThis as any).document.querySelector(s)?.textContent === t,
      [selector, expected] as const,
      { timeout: 10_000 },
    );
  } catch {
    throw new Error(`${selector}: expected "${expected}", found "${await page.locator(selector).textContent()}"`);
  }
}

const focusedId = (page: Page) => page.evaluate(() => (globalThis as any).document.activeElement?.id as string);

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
  captured.add(name);
}

const lastStep = new Map<string, number>();

/** A code from the user's authenticator: the current one, or the next when the current was used already. */
async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const now = totpStep(Date.now());
    const step = Math.max(now, (lastStep.get(secret) ?? -1) + 1);
    if (step <= now + 1) {
      lastStep.set(secret, step);
      return hotp(secret, step);
    }
    await sleep(1000);
  }
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  const form = section(page, 'sign-in');
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signUp(page: Page, email: string, password: string, screenshot = false): Promise<void> {
  await section(page, 'sign-in').getByRole('button', { name: 'Create an account' }).click();
  await expectScreen(page, 'sign-up');
  const form = section(page, 'sign-up');
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  if (screenshot) await shot(page, 'sign-up');
  await form.getByRole('button', { name: 'Create account' }).click();
}

async function enterMfaCode(page: Page, secret: string): Promise<void> {
  await expectScreen(page, 'mfa-code');
  const form = section(page, 'mfa-code');
  await form.getByLabel('Authentication code').fill(await freshCode(secret));
  await form.getByRole('button', { name: 'Continue' }).click();
}

/** The key the authenticator screen shows, after checking its otpauth:// URI and link. */
async function shownKey(page: Page, email: string): Promise<string> {
  await expectScreen(page, 'mfa-setup');
  const secret = (await page.locator('#mfa-secret').textContent())!.replace(/\s+/g, '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const uriText = (await page.locator('#mfa-uri').textContent())!;
  const uri = new URL(uriText);
  expect(uri.protocol).toBe('otpauth:');
  expect(uri.host).toBe('totp');
  expect(decodeURIComponent(uri.pathname)).toBe(`/${TOTP_ISSUER}:${email}`);
  expect(Object.fromEntries(uri.searchParams)).toEqual({ secret, issuer: TOTP_ISSUER, algorithm: 'SHA1', digits: '6', period: '30' });
  expect(await page.locator('#mfa-link').getAttribute('href')).toBe(uriText);
  return secret;
}

/** Reads the key the page shows, checks its otpauth:// URI, and answers with a code computed from it. */
async function setUpAuthenticator(page: Page, email: string, screenshot = false): Promise<string> {
  const secret = await shownKey(page, email);
  if (screenshot) await shot(page, 'mfa-setup');
  const form = section(page, 'mfa-setup');
  await form.getByLabel('Enter the 6-digit code the app shows').fill(await freshCode(secret));
  await form.getByRole('button', { name: 'Verify and continue' }).click();
  return secret;
}

/** A confirmed user with an authenticator and an active tenant. */
function activeUser(email: string): string {
  const { secret } = fake.addUser({ email, password: PASSWORD, mfa: true });
  fake.tenantOf(email).status = 'ACTIVE';
  return secret!;
}

async function signInToHome(page: Page, email: string, secret: string): Promise<void> {
  await signIn(page, email, PASSWORD);
  await enterMfaCode(page, secret);
  await expectScreen(page, 'home');
}

/** Requests (URL or any header) the server saw that carry a secret, raw or percent-encoded. */
function requestsCarrying(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret)];
  return fake.requests
    .filter((r) => forms.some((form) => r.url.includes(form) || JSON.stringify(r.headers).includes(form)))
    .map((r) => `${r.method} ${r.url}`);
}

/** Everything the origin holds for the page, and every write to it the instrumentation saw. */
function originStorage(page: Page) {
  return page.evaluate(async () => {
    const g = globalThis as any;
    return {
      writes: [...g.__storageWrites],
      localStorage: g.localStorage.length,
      sessionStorage: g.sessionStorage.length,
      cookie: g.document.cookie,
      indexedDB: (await g.indexedDB.databases()).length,
      caches: (await g.caches.keys()).length,
    };
  });
}

/** The screen on view fits the viewport: no sideways scrolling, nothing outside it, 16 px text in fields. */
async function expectFits(page: Page, name: string): Promise<void> {
  const layout = await page.evaluate(() => {
    const g = globalThis as any;
    const width = g.innerWidth;
    const outside = [...g.document.querySelectorAll('input, button, a, code, h1, p')]
      .filter((e: any) => e.getClientRects().length > 0)
      .map((e: any) => ({ id: e.id || e.textContent.slice(0, 30), box: e.getBoundingClientRect() }))
      .filter(({ box }: any) => box.left < 0 || box.right > width + 0.5)
      .map(({ id }: any) => id);
    const fieldText = [...g.document.querySelectorAll('input:not([type=checkbox])')]
      .filter((e: any) => e.getClientRects().length > 0)
      .map((e: any) => parseFloat(g.getComputedStyle(e).fontSize));
    return { scrolls: g.document.documentElement.scrollWidth > width, outside, smallestField: Math.min(16, ...fieldText) };
  });
  expect({ name, ...layout }).toEqual({ name, scrolls: false, outside: [], smallestField: 16 });
}

/** Calls one Cognito operation directly, as a client other than the page would: `{ status, body }`. */
async function callCognito(operation: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(fake.cognitoEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** A 6-digit code that is none of the authenticator's codes from the step before now to two steps ahead. */
function wrongCode(secret: string): string {
  const now = totpStep(Date.now());
  const valid = [now - 1, now, now + 1, now + 2].map((step) => hotp(secret, step));
  return ['000000', '111111', '222222', '333333', '444444'].find((code) => !valid.includes(code))!;
}

const NOTHING_STORED = { writes: [], localStorage: 0, sessionStorage: 0, cookie: '', indexedDB: 0, caches: 0 };

// ---------------------------------------------------------------------------------------------------------------
// The tests

test("the test's authenticator computes RFC 6238's SHA-1 test vectors", () => {
  const key = base32Encode(Buffer.from('12345678901234567890'));
  expect(key).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  const vectors: Array<[number, string]> = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [seconds, code] of vectors) expect(totp(key, seconds * 1000, 8)).toBe(code);
});

test('ui/auth holds only the page itself (config.json is written at deploy time)', () => {
  expect(fs.readdirSync(UI_DIR).sort()).toEqual(['app.css', 'app.js', 'index.html']);
});

test('a new user signs up, verifies the e-mailed code, sets up an authenticator, waits for provisioning and opens the gateway with its token in the URL fragment only', async () => {
  const { page } = await openUi();
  const email = 'ada@example.com';
  await shot(page, 'sign-in');
  expect(await page.title()).toBe('Sign in · OpenClaw');

  await signUp(page, email, PASSWORD, true);
  await expectScreen(page, 'verify');
  expect(await page.locator('#verify-destination').textContent()).toBe('a***@e***');
  expect(await focusedId(page)).toBe('verify-code');
  await shot(page, 'verify');
  await section(page, 'verify').getByLabel('Verification code').fill(fake.latestCode(email, 'SIGN_UP'));
  await section(page, 'verify').getByRole('button', { name: 'Verify email' }).click();

  await expectScreen(page, 'sign-in');
  await expectText(page, '#status', 'Your email is verified. Sign in to continue.');
  expect(await page.locator('#sign-in-email').inputValue()).toBe(email);
  expect(fake.user(email).status).toBe('CONFIRMED');
  await signIn(page, email, PASSWORD);
  await setUpAuthenticator(page, email, true);

  // The tenant answers 202 once (provisioning), then 200.
  await expectScreen(page, 'provisioning');
  await shot(page, 'provisioning');
  await expectScreen(page, 'home');
  const tenant = fake.tenantOf(email);
  expect(await page.locator('#home-tenant').textContent()).toBe(tenant.tenant);
  expect(await page.locator('#screen-home [data-email]').textContent()).toBe(email);
  await shot(page, 'home');
  const accessTokens = fake.tokensOf(email, 'access');
  expect(fake.sessionCalls.filter((c) => accessTokens.includes(c.token)).map((c) => `${c.method} ${c.status}`)).toEqual(['GET 202', 'GET 200']);
  expect(await page.content()).not.toContain(tenant.gatewayToken);

  await Promise.all([
    page.waitForURL((url) => url.pathname === `/t/${tenant.tenant}/`),
    section(page, 'home').getByRole('button', { name: 'Open my gateway' }).click(),
  ]);
  const hash = await page.evaluate(() => (globalThis as any).location.hash as string);
  expect(hash).toBe(`#token=${encodeURIComponent(tenant.gatewayToken)}`);
  expect(decodeURIComponent(hash.slice('#token='.length))).toBe(tenant.gatewayToken);
  expect(fake.gatewayVisits).toContainEqual({ tenant: tenant.tenant, url: `/t/${tenant.tenant}/` });
  expect(requestsCarrying(tenant.gatewayToken)).toEqual([]);
});

test('a user with an authenticator signs in with its 6-digit code; a wrong code is refused with a clear message', async () => {
  const email = 'grace@example.com';
  const secret = activeUser(email);
  const { page } = await openUi();
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'mfa-code');
  expect(await focusedId(page)).toBe('mfa-code');
  await shot(page, 'mfa-code');

  const now = totpStep(Date.now());
  const valid = [now - 1, now, now + 1, now + 2].map((step) => hotp(secret, step));
  const wrong = ['000000', '111111', '222222', '333333', '444444'].find((code) => !valid.includes(code))!;
  await section(page, 'mfa-code').getByLabel('Authentication code').fill(wrong);
  await section(page, 'mfa-code').getByRole('button', { name: 'Continue' }).click();
  await expectText(page, '#alert', 'That code is not right. Check it and try again.');
  expect(await page.locator('#mfa-code').getAttribute('aria-invalid')).toBe('true');
  expect(await focusedId(page)).toBe('mfa-code');

  await enterMfaCode(page, secret);
  await expectScreen(page, 'home');
  const challenge = fake.callsOf('RespondToAuthChallenge').filter((c) => c.body.ChallengeResponses.USERNAME === fake.user(email).username);
  expect(challenge.map((c) => c.error ?? 'ok')).toEqual(['CodeMismatchException', 'ok']);
});

test('a wrong password, or an unknown email, is refused with the same clear message and no tokens', async () => {
  const email = 'linus@example.com';
  activeUser(email);
  const { page } = await openUi();
  await signIn(page, email, 'Wrong-Password-1');
  await expectText(page, '#alert', 'Incorrect email or password.');
  await expectScreen(page, 'sign-in');
  expect(await page.locator('#sign-in-password').inputValue()).toBe('');
  expect(await focusedId(page)).toBe('sign-in-password');
  expect(fake.tokensOf(email, 'access')).toEqual([]);

  const attempts = fake.callsOf('InitiateAuth').length;
  await signIn(page, 'nobody@example.com', PASSWORD);
  await waitUntil(() => fake.callsOf('InitiateAuth').length > attempts, 'the second sign-in');
  expect(fake.callsOf('InitiateAuth').at(-1)?.error).toBe('NotAuthorizedException');
  await expectText(page, '#alert', 'Incorrect email or password.');
});

test("a sign-up the pre-sign-up trigger rejects shows the trigger's own message, word for word", async () => {
  fake.preSignUp = (email) => {
    if (email.endsWith('@blocked.example')) return 'Sign-ups from blocked.example are closed. Ask your administrator.';
    if (email.endsWith('@full.example')) return 'No new workspaces today';
    return undefined;
  };
  const { page } = await openUi();
  await signUp(page, 'eve@blocked.example', PASSWORD);
  await expectText(page, '#alert', 'Sign-ups from blocked.example are closed. Ask your administrator.');
  await expectScreen(page, 'sign-up');
  expect(fake.callsOf('SignUp').at(-1)?.error).toBe('UserLambdaValidationException');

  const form = section(page, 'sign-up');
  await form.getByLabel('Email', { exact: true }).fill('eve@full.example');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expectText(page, '#alert', 'No new workspaces today');
  expect(() => fake.user('eve@blocked.example')).toThrow();
  expect(() => fake.user('eve@full.example')).toThrow();
});

test('an unverified user who signs in is taken to verification, can ask for a new code, and only the newest unexpired code works', async () => {
  const email = 'unverified@example.com';
  fake.addUser({ email, password: PASSWORD, status: 'UNCONFIRMED' });
  const first = fake.latestCode(email, 'SIGN_UP');
  const { page } = await openUi();
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'verify');
  await expectText(page, '#status', 'Your email is not verified yet. Enter the code we sent you, or ask for a new one.');

  const verify = section(page, 'verify');
  await verify.getByRole('button', { name: 'Send a new code' }).click();
  await expectText(page, '#status', 'We sent a new code to u***@e***.');
  const second = fake.latestCode(email, 'SIGN_UP');
  expect(second).not.toBe(first);

  await verify.getByLabel('Verification code').fill(first);
  await verify.getByRole('button', { name: 'Verify email' }).click();
  await expectText(page, '#alert', 'That code is not right. Check it and try again.');

  fake.expireCodes(email);
  await verify.getByLabel('Verification code').fill(second);
  await verify.getByRole('button', { name: 'Verify email' }).click();
  await expectText(page, '#alert', 'That code has expired or was replaced by a newer one. Ask for a new code.');

  await verify.getByRole('button', { name: 'Send a new code' }).click();
  await expectText(page, '#alert', '');
  await verify.getByLabel('Verification code').fill(fake.latestCode(email, 'SIGN_UP'));
  await verify.getByRole('button', { name: 'Verify email' }).click();
  await expectScreen(page, 'sign-in');
  await expectText(page, '#status', 'Your email is verified. Sign in to continue.');
  expect(fake.user(email).status).toBe('CONFIRMED');
  expect(fake.callsOf('ResendConfirmationCode').length).toBeGreaterThanOrEqual(2);
});

test('a forgotten password is reset with the e-mailed code; the old password then fails and the new one signs in', async () => {
  const email = 'margaret@example.com';
  const oldPassword = 'Old-Password-123';
  fake.addUser({ email, password: oldPassword, mfa: true });
  const { page } = await openUi();
  await section(page, 'sign-in').getByRole('button', { name: 'Forgot your password?' }).click();
  await expectScreen(page, 'forgot-password');
  await section(page, 'forgot-password').getByLabel('Email').fill(email);
  await section(page, 'forgot-password').getByRole('button', { name: 'Send code' }).click();

  await expectScreen(page, 'reset-password');
  expect(await page.locator('#reset-destination').textContent()).toBe('m***@e***');
  expect(await page.locator('#reset-password-rule').textContent()).toBe(RULE);
  await shot(page, 'reset-password');
  const reset = section(page, 'reset-password');
  await reset.getByLabel('Reset code').fill(fake.latestCode(email, 'FORGOT_PASSWORD'));
  await reset.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await reset.getByRole('button', { name: 'Change password' }).click();

  await expectScreen(page, 'sign-in');
  await expectText(page, '#status', 'Your password has been changed. Sign in with your new password.');
  await signIn(page, email, oldPassword);
  await expectText(page, '#alert', 'Incorrect email or password.');
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'mfa-code');
  expect(fake.user(email).password).toBe(PASSWORD);
});

test("an administrator-created user chooses a new password at first sign-in (the pool's rule checked before sending), then sets up an authenticator", async () => {
  const email = 'alan@example.com';
  const user = fake.adminCreateUser(email, 'Temp-Password-99');
  fake.tenantOf(email).status = 'ACTIVE';
  const { page } = await openUi();
  await signIn(page, email, 'Temp-Password-99');
  await expectScreen(page, 'new-password');
  expect(await focusedId(page)).toBe('new-password');
  await shot(page, 'new-password');

  const form = section(page, 'new-password');
  const answersBefore = fake.callsOf('RespondToAuthChallenge').length;
  await form.getByLabel('New password', { exact: true }).fill('weakpassword');
  await form.getByRole('button', { name: 'Set password' }).click();
  await expectText(page, '#alert', 'Your password needs an uppercase letter, a number and a symbol.');
  expect(fake.callsOf('RespondToAuthChallenge').length).toBe(answersBefore);

  await form.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Set password' }).click();
  await setUpAuthenticator(page, email);
  await expectScreen(page, 'home');
  expect(user.status).toBe('CONFIRMED');
  expect(user.password).toBe(PASSWORD);
  // Challenges answer with the pool's username (USER_ID_FOR_SRP), not the email.
  const answers = fake.callsOf('RespondToAuthChallenge').slice(answersBefore);
  expect(answers.map((c) => [c.body.ChallengeName, c.body.ChallengeResponses.USERNAME])).toEqual([
    ['NEW_PASSWORD_REQUIRED', user.username],
    ['MFA_SETUP', user.username],
  ]);
});

test('on a pool where MFA is optional, a user without an authenticator turns one on from home; the next sign-in asks for its code and refuses a wrong one', async () => {
  fake.settings.mfa = 'OPTIONAL';
  const email = 'dorothy@example.com';
  const { user } = fake.addUser({ email, password: PASSWORD });
  fake.tenantOf(email).status = 'ACTIVE';
  const { page } = await openUi();

  // The password alone signs in; GetUser (with the access token) tells the page there is no authenticator yet.
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'home');
  const [access] = fake.tokensOf(email, 'access');
  expect(fake.callsOf('GetUser').filter((c) => c.body?.AccessToken === access).map((c) => c.error)).toEqual([undefined]);
  const home = section(page, 'home');
  const turnOn = home.getByRole('button', { name: 'Turn on an authenticator app' });
  expect(await turnOn.isVisible()).toBe(true);
  expect(await turnOn.getAttribute('aria-describedby')).toBe('home-mfa-hint');
  await page.setViewportSize({ width: 390, height: 844 });
  await expectFits(page, 'home with the offer');
  await page.setViewportSize({ width: 800, height: 600 });

  // A key can be put aside: back home, nothing changed.
  await turnOn.click();
  const putAside = await shownKey(page, email);
  await section(page, 'mfa-setup').getByRole('button', { name: 'Cancel and go back' }).click();
  await expectScreen(page, 'home');
  expect(await focusedId(page)).toBe('title');
  expect(await page.locator('#mfa-secret').textContent()).toBe('');
  expect(await turnOn.isVisible()).toBe(true);

  // The same screen as the sign-in's authenticator set-up, in its own words.
  await turnOn.click();
  const secret = await shownKey(page, email);
  expect(secret).not.toBe(putAside);
  expect(fake.callsOf('AssociateSoftwareToken').filter((c) => c.body?.AccessToken === access).map((c) => [c.body, c.error])).toEqual([
    [{ AccessToken: access }, undefined],
    [{ AccessToken: access }, undefined],
  ]);
  expect(await page.locator('#title').textContent()).toBe('Turn on an authenticator app');
  expect(await page.title()).toBe('Turn on an authenticator app · OpenClaw');
  expect(await focusedId(page)).toBe('mfa-setup-code');
  const form = section(page, 'mfa-setup');
  expect(await form.getByRole('button', { name: 'Verify and continue' }).count()).toBe(0);
  expect(await form.getByRole('button', { name: 'Cancel and go back to sign in' }).count()).toBe(0);
  await shot(page, 'mfa-turn-on');
  await page.setViewportSize({ width: 390, height: 844 });
  await expectFits(page, 'mfa-turn-on');
  await page.setViewportSize({ width: 800, height: 600 });

  // A wrong code is refused, and MFA stays off.
  const codeField = form.getByLabel('Enter the 6-digit code the app shows');
  await codeField.fill(wrongCode(secret));
  await form.getByRole('button', { name: 'Verify and turn on' }).click();
  await expectText(page, '#alert', 'That code is not right. Check it and try again.');
  expect(await page.locator('#mfa-setup-code').getAttribute('aria-invalid')).toBe('true');
  expect(await focusedId(page)).toBe('mfa-setup-code');
  expect(fake.callsOf('VerifySoftwareToken').at(-1)?.error).toBe('EnableSoftwareTokenMFAException');
  expect(fake.callsOf('SetUserMFAPreference').filter((c) => c.body?.AccessToken === access)).toEqual([]);
  expect(user.totpEnabled).toBe(false);

  // The right code verifies the key, and TOTP is turned on as the preferred MFA.
  const code = await freshCode(secret);
  await codeField.fill(code);
  await form.getByRole('button', { name: 'Verify and turn on' }).click();
  await expectScreen(page, 'home');
  await expectText(page, '#status', 'Your authenticator app is on. From your next sign-in, we will also ask for a 6-digit code from it.');
  expect(await focusedId(page)).toBe('title');
  expect(await turnOn.isVisible()).toBe(false);
  expect(await page.locator('#mfa-secret').textContent()).toBe('');
  expect(fake.callsOf('VerifySoftwareToken').at(-1)).toEqual({
    operation: 'VerifySoftwareToken',
    body: { AccessToken: access, UserCode: code, FriendlyDeviceName: 'Authenticator app' },
  });
  expect(fake.callsOf('SetUserMFAPreference').filter((c) => c.body?.AccessToken === access).map((c) => [c.body, c.error])).toEqual([
    [{ AccessToken: access, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } }, undefined],
  ]);
  expect(user).toMatchObject({ totpSecret: secret, totpEnabled: true, totpPreferred: true, associatedSecret: undefined });
  expect((await callCognito('GetUser', { AccessToken: access })).body).toMatchObject({
    Username: user.username,
    UserMFASettingList: ['SOFTWARE_TOKEN_MFA'],
    PreferredMfaSetting: 'SOFTWARE_TOKEN_MFA',
  });

  // Signed out, the access token is refused by every operation that takes one.
  await home.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectScreen(page, 'signed-out');
  const refused = { status: 400, body: { __type: 'NotAuthorizedException', message: 'Access Token has been revoked' } };
  expect(await callCognito('GetUser', { AccessToken: access })).toEqual(refused);
  expect(await callCognito('AssociateSoftwareToken', { AccessToken: access })).toEqual(refused);
  expect(await callCognito('VerifySoftwareToken', { AccessToken: access, UserCode: wrongCode(secret) })).toEqual(refused);
  expect(await callCognito('SetUserMFAPreference', { AccessToken: access, SoftwareTokenMfaSettings: { Enabled: false } })).toEqual(refused);
  expect(user).toMatchObject({ totpSecret: secret, totpEnabled: true });

  // The next sign-in asks for a code: a wrong one gets no tokens, the right one signs in, and nothing is offered.
  await section(page, 'signed-out').getByRole('button', { name: 'Sign in again' }).click();
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'mfa-code');
  const issued = fake.tokensOf(email, 'access').length;
  await section(page, 'mfa-code').getByLabel('Authentication code').fill(wrongCode(secret));
  await section(page, 'mfa-code').getByRole('button', { name: 'Continue' }).click();
  await expectText(page, '#alert', 'That code is not right. Check it and try again.');
  expect(fake.tokensOf(email, 'access').length).toBe(issued);
  await enterMfaCode(page, secret);
  await expectScreen(page, 'home');
  const answers = fake.callsOf('RespondToAuthChallenge').filter((c) => c.body.ChallengeResponses.USERNAME === user.username);
  expect(answers.map((c) => [c.body.ChallengeName, c.error ?? 'ok'])).toEqual([
    ['SOFTWARE_TOKEN_MFA', 'CodeMismatchException'],
    ['SOFTWARE_TOKEN_MFA', 'ok'],
  ]);
  expect(await turnOn.isVisible()).toBe(false);
});

test('the offer to turn on an authenticator is not shown on a pool where MFA is required, to a user who has one, or when GetUser fails', async () => {
  const offer = (page: Page) => section(page, 'home').getByRole('button', { name: 'Turn on an authenticator app' });
  const getUserCalls = (email: string) => fake.callsOf('GetUser').filter((c) => fake.tokensOf(email, 'access').includes(c.body?.AccessToken));

  // Required: the page does not even ask.
  const required = 'ida@example.com';
  const requiredSecret = activeUser(required);
  const { page: first } = await openUi();
  await signInToHome(first, required, requiredSecret);
  expect(await offer(first).count()).toBe(0);
  expect(await first.locator('#home-mfa').isHidden()).toBe(true);
  expect(getUserCalls(required)).toEqual([]);

  // Optional, for a user who has an authenticator: GetUser says so.
  fake.settings.mfa = 'OPTIONAL';
  const optional = 'joan@example.com';
  const optionalSecret = activeUser(optional);
  const { page: second } = await openUi();
  await signInToHome(second, optional, optionalSecret);
  expect(getUserCalls(optional).map((c) => c.error)).toEqual([undefined]);
  expect(await offer(second).count()).toBe(0);

  // Optional, for a user without one, when GetUser fails: not known, so not offered (and home still works).
  const unknown = 'mary.k@example.com';
  fake.addUser({ email: unknown, password: PASSWORD });
  fake.tenantOf(unknown).status = 'ACTIVE';
  fake.failNext('GetUser', 'InternalErrorException', 'Internal error');
  const { page: third } = await openUi();
  await signIn(third, unknown, PASSWORD);
  await expectScreen(third, 'home');
  expect(getUserCalls(unknown).map((c) => c.error)).toEqual(['InternalErrorException']);
  expect(await offer(third).count()).toBe(0);
  expect(await third.locator('#alert').textContent()).toBe('');
});

test('the access token is refreshed silently before it expires, with the rotated refresh token each time, and the session keeps working', async () => {
  fake.settings.accessTokenSeconds = 4;
  const email = 'katherine@example.com';
  const secret = activeUser(email);
  const { page } = await openUi();
  await signInToHome(page, email, secret);
  const [first] = fake.tokensOf(email, 'access');
  const refreshCalls = () => fake.callsOf('GetTokensFromRefreshToken').filter((c) => fake.tokensOf(email, 'refresh').includes(c.body?.RefreshToken));

  await waitUntil(() => refreshCalls().length > 0, 'a silent refresh');
  expect(fake.tokenState(first)).toBe('valid');
  await waitUntil(() => refreshCalls().length > 1, 'a second silent refresh');
  // Each refresh uses the refresh token the one before returned (the app client rotates them).
  const issued = fake.tokensOf(email, 'refresh');
  expect(refreshCalls().slice(0, 2).map((c) => [c.body, c.error])).toEqual([
    [{ ClientId: CLIENT_ID, RefreshToken: issued[0] }, undefined],
    [{ ClientId: CLIENT_ID, RefreshToken: issued[1] }, undefined],
  ]);
  expect(fake.tokenState(first)).toBe('expired');

  // The gateway still opens: the session API got a current token.
  const tenant = fake.tenantOf(email);
  await Promise.all([
    page.waitForURL((url) => url.pathname === `/t/${tenant.tenant}/`),
    section(page, 'home').getByRole('button', { name: 'Open my gateway' }).click(),
  ]);
  const last = fake.sessionCalls.at(-1)!;
  expect(last.status).toBe(200);
  expect(last.token).not.toBe(first);
  expect(fake.tokensOf(email, 'access')).toContain(last.token);
});

test('signing out after refreshes revokes the newest refresh token', async () => {
  fake.settings.accessTokenSeconds = 4;
  const email = 'mae@example.com';
  const secret = activeUser(email);
  const { page } = await openUi();
  await signInToHome(page, email, secret);
  await waitUntil(() => fake.tokensOf(email, 'refresh').length > 1, 'a silent refresh');
  await section(page, 'home').getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectScreen(page, 'signed-out');
  const newest = fake.tokensOf(email, 'refresh').at(-1)!;
  expect(fake.callsOf('RevokeToken').at(-1)).toEqual({ operation: 'RevokeToken', body: { ClientId: CLIENT_ID, Token: newest } });
  expect(fake.callsOf('GlobalSignOut').at(-1)?.error).toBeUndefined();
  for (const token of fake.tokensOf(email, 'refresh')) expect(fake.tokenState(token)).toBe('revoked');
});

test('signing out calls GlobalSignOut and RevokeToken, and the old tokens are refused afterwards', async () => {
  const email = 'barbara@example.com';
  const secret = activeUser(email);
  const { page } = await openUi();
  await signInToHome(page, email, secret);
  const access = fake.sessionCalls.at(-1)!.token;
  const [refreshToken] = fake.tokensOf(email, 'refresh');
  const callsBefore = fake.calls.length;

  await section(page, 'home').getByRole('button', { name: 'Sign out', exact: true }).click();
  await expectScreen(page, 'signed-out');
  await expectText(page, '#status', 'You are signed out.');
  await shot(page, 'signed-out');
  expect(fake.calls.slice(callsBefore).map((c) => [c.operation, c.body, c.error])).toEqual([
    ['GlobalSignOut', { AccessToken: access }, undefined],
    ['RevokeToken', { ClientId: CLIENT_ID, Token: refreshToken }, undefined],
  ]);

  const session = await fetch(`${fake.origin}${SESSION_PATH}`, { headers: { [ACCESS_TOKEN_HEADER]: access } });
  expect(session.status).toBe(401);
  const refresh = await fetch(fake.cognitoEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.GetTokensFromRefreshToken' },
    body: JSON.stringify({ ClientId: CLIENT_ID, RefreshToken: refreshToken }),
  });
  expect(refresh.status).toBe(400);
  expect(((await refresh.json()) as any).__type).toBe('NotAuthorizedException');

  expect(await page.locator('#home-tenant').textContent()).toBe('');
  await section(page, 'signed-out').getByRole('button', { name: 'Sign in again' }).click();
  await expectScreen(page, 'sign-in');
  expect(await page.locator('#sign-in-password').inputValue()).toBe('');
});

test('signing out everywhere first rotates the gateway token (DELETE on the session API), then signs out', async () => {
  const email = 'hedy@example.com';
  const secret = activeUser(email);
  const tenant = fake.tenantOf(email);
  const before = tenant.gatewayToken;
  const { page } = await openUi();
  await signInToHome(page, email, secret);
  const access = fake.sessionCalls.at(-1)!.token;
  const seenBefore = fake.requests.length;

  await section(page, 'home').getByRole('button', { name: 'Sign out everywhere' }).click();
  await expectScreen(page, 'signed-out');
  await expectText(page, '#status', 'Every gateway session has been ended, and you are signed out.');
  expect(tenant.rotations).toBe(1);
  expect(tenant.gatewayToken).not.toBe(before);
  expect(fake.sessionCalls.at(-1)).toEqual({ method: 'DELETE', token: access, status: 202 });
  const order = fake.requests.slice(seenBefore)
    .filter((r) => r.method !== 'OPTIONS')
    .map((r) => (r.headers['x-amz-target'] ? String(r.headers['x-amz-target']).split('.')[1] : `${r.method} ${r.url}`));
  expect(order).toEqual([`DELETE ${SESSION_PATH}`, 'GlobalSignOut', 'RevokeToken']);
  expect(fake.tokenState(access)).toBe('revoked');
});

test('a tenant that cannot be served is told why, and can still sign out', async () => {
  const email = 'radia@example.com';
  const secret = activeUser(email);
  const tenant = fake.tenantOf(email);
  tenant.status = 'CAPPED';
  tenant.message = 'The platform is full right now. An administrator will let you in as soon as there is room.';
  const { page } = await openUi();
  await signIn(page, email, PASSWORD);
  await enterMfaCode(page, secret);
  await expectScreen(page, 'error');
  expect(await page.locator('#title').textContent()).toBe('Your gateway is not available');
  expect(await page.locator('#error-message').textContent()).toBe(tenant.message);
  await shot(page, 'error');
  await section(page, 'error').getByRole('button', { name: 'Sign out' }).click();
  await expectScreen(page, 'signed-out');
  expect(fake.callsOf('GlobalSignOut').at(-1)?.error).toBeUndefined();
});

test('nothing is ever written to localStorage, sessionStorage, cookies, IndexedDB or Cache Storage', async () => {
  const { context, page } = await openUi();
  const email = 'frances@example.com';
  await signUp(page, email, PASSWORD);
  await expectScreen(page, 'verify');
  await section(page, 'verify').getByLabel('Verification code').fill(fake.latestCode(email, 'SIGN_UP'));
  await section(page, 'verify').getByRole('button', { name: 'Verify email' }).click();
  await expectScreen(page, 'sign-in');
  await signIn(page, email, PASSWORD);
  await setUpAuthenticator(page, email);
  await expectScreen(page, 'home');
  expect(await originStorage(page)).toEqual(NOTHING_STORED);

  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith('/t/')),
    section(page, 'home').getByRole('button', { name: 'Open my gateway' }).click(),
  ]);
  // The gateway's page shares the origin: it finds nothing either.
  expect(await originStorage(page)).toEqual(NOTHING_STORED);
  expect(await context.cookies()).toEqual([]);

  // The watch sees writes (so the checks above can fail).
  await page.evaluate(() => (globalThis as any).localStorage.setItem('probe', '1'));
  expect((await originStorage(page)).writes).toEqual(['localStorage:probe']);
});

test('with self sign-up off, the page offers no way to sign up', async () => {
  const { page: open } = await openUi();
  expect(await section(open, 'sign-in').getByRole('button', { name: 'Create an account' }).count()).toBe(1);

  fake.settings.selfSignUp = false;
  const { page } = await openUi();
  expect(await section(page, 'sign-in').getByRole('button', { name: 'Create an account' }).count()).toBe(0);
  expect(await page.getByText('New here?').isVisible()).toBe(false);
  expect(await section(page, 'sign-in').getByRole('button', { name: 'Forgot your password?' }).isVisible()).toBe(true);
});

test('Cognito errors are shown as clear messages', async () => {
  const email = 'mary@example.com';
  activeUser(email);
  const { page } = await openUi();
  const injected: Array<[string, string, string]> = [
    ['LimitExceededException', 'Attempt limit exceeded, please try after some time.', 'Too many attempts. Wait a few minutes, then try again.'],
    ['TooManyRequestsException', 'Rate exceeded', 'The service is busy. Wait a moment, then try again.'],
    ['NotAuthorizedException', 'Password attempts exceeded', 'Too many failed attempts. Wait a few minutes, then try again.'],
    ['UserNotFoundException', 'User does not exist.', 'Incorrect email or password.'],
    ['InternalErrorException', 'Internal error', 'Something went wrong (InternalErrorException). Try again in a moment.'],
  ];
  for (const [type, message, shown] of injected) {
    fake.failNext('InitiateAuth', type, message);
    await signIn(page, email, PASSWORD);
    await expectText(page, '#alert', shown);
  }
  fake.dropCalls('InitiateAuth');
  await signIn(page, email, PASSWORD);
  await expectText(page, '#alert', 'Cannot reach the service. Check your connection and try again.');
  fake.reset();

  await signUp(page, email, PASSWORD);
  await expectText(page, '#alert', 'An account with this email already exists. Sign in, or reset your password if you have forgotten it.');
  expect(fake.callsOf('SignUp').at(-1)?.error).toBe('UsernameExistsException');

  fake.failNext('SignUp', 'InvalidPasswordException', 'Password did not conform with policy: Password not long enough');
  const form = section(page, 'sign-up');
  await form.getByLabel('Email', { exact: true }).fill('someone-new@example.com');
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expectText(page, '#alert', `That password is not allowed. ${RULE}`);
});

test("a password that breaks the pool's rule is caught before it is sent, and the rule (from config.json) is shown", async () => {
  fake.settings.passwordMinLength = 16;
  const { page } = await openUi();
  await section(page, 'sign-in').getByRole('button', { name: 'Create an account' }).click();
  await expectScreen(page, 'sign-up');
  const rule = 'At least 16 characters, with an uppercase letter, a lowercase letter, a number and a symbol.';
  expect(await page.locator('#sign-up-password-rule').textContent()).toBe(rule);
  expect(await page.locator('#sign-up-password').getAttribute('aria-describedby')).toBe('sign-up-password-rule');

  const form = section(page, 'sign-up');
  const email = 'short-password@example.com';
  await form.getByLabel('Email', { exact: true }).fill(email);
  await form.getByLabel('Password', { exact: true }).fill('short');
  await form.getByRole('button', { name: 'Create account' }).click();
  await expectText(page, '#alert', 'Your password needs at least 16 characters, an uppercase letter, a number and a symbol.');
  expect(await page.locator('#sign-up-password').getAttribute('aria-invalid')).toBe('true');
  expect(fake.callsOf('SignUp').filter((c) => c.body?.Username === email)).toEqual([]);

  await form.getByLabel('Password', { exact: true }).fill('Fifteen-chars-1');
  await form.getByRole('button', { name: 'Create account' }).click();
  await expectText(page, '#alert', 'Your password needs at least 16 characters.');

  await form.getByLabel('Show password').check();
  expect(await page.locator('#sign-up-password').getAttribute('type')).toBe('text');
});

test('every screen fits a 390 px wide phone without sideways scrolling, with 16 px text in fields', async () => {
  const { page } = await openUi({ width: 390, height: 844 });
  const fits = (name: string) => expectFits(page, name);
  await fits('sign-in');
  const email = 'a.very.long.address.for.a.small.screen@example.com';
  await signUp(page, email, PASSWORD);
  await expectScreen(page, 'verify');
  await fits('verify');
  await section(page, 'verify').getByLabel('Verification code').fill(fake.latestCode(email, 'SIGN_UP'));
  await section(page, 'verify').getByRole('button', { name: 'Verify email' }).click();
  await expectScreen(page, 'sign-in');
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'mfa-setup');
  await fits('mfa-setup');
  await setUpAuthenticator(page, email);
  await expectScreen(page, 'provisioning');
  await fits('provisioning');
  await expectScreen(page, 'home');
  await fits('home');
});

test("the page runs under the edge's Content-Security-Policy: no inline code, and inline code is refused", async () => {
  const html = fs.readFileSync(path.join(UI_DIR, 'index.html'), 'utf8');
  expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="app.js">']);
  expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
  const script = fs.readFileSync(path.join(UI_DIR, 'app.js'), 'utf8');
  const code = script.replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  expect(code).not.toMatch(/localStorage|sessionStorage|cookie|indexedDB|caches|innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function|\.style\b|setAttribute\('style/);

  const { page, violations } = await openUi();
  const response = await page.goto(fake.authUrl);
  expect(response?.headers()['content-security-policy']).toBe(fake.contentSecurityPolicy);
  await expectScreen(page, 'sign-in');
  await page.addScriptTag({ content: 'window.__inlineRan = true;' }).catch(() => undefined);
  await waitUntil(() => violations.length > 0, 'the inline script to be refused');
  expect(await page.evaluate(() => (globalThis as any).__inlineRan)).toBeUndefined();
  expect(violations[0]).toMatch(/^script-src-elem inline|Content Security Policy/);
  violations.length = 0;
});

test('fields have labels, messages sit in live regions, and focus moves to each new screen', async () => {
  const { page } = await openUi();
  const unlabelled = await page.evaluate(() =>
    [...(globalThis as any).document.querySelectorAll('input')].filter((i: any) => i.labels.length === 0).map((i: any) => i.id));
  expect(unlabelled).toEqual([]);
  expect(await page.locator('#status').getAttribute('role')).toBe('status');
  expect(await page.locator('#alert').getAttribute('role')).toBe('alert');
  expect(await focusedId(page)).toBe('sign-in-email');

  const email = 'annie@example.com';
  const secret = activeUser(email);
  await section(page, 'sign-in').getByRole('button', { name: 'Forgot your password?' }).click();
  expect(await focusedId(page)).toBe('forgot-email');
  expect(await page.title()).toBe('Reset your password · OpenClaw');
  await section(page, 'forgot-password').getByRole('button', { name: 'Back to sign in' }).click();
  await signIn(page, email, PASSWORD);
  await expectScreen(page, 'mfa-code');
  expect(await focusedId(page)).toBe('mfa-code');
  await enterMfaCode(page, secret);
  await expectScreen(page, 'home');
  // A screen without fields puts the focus on its title.
  expect(await focusedId(page)).toBe('title');
  expect(await page.locator('#title').textContent()).toBe('Your gateway is ready');
});

test('a page that cannot load its configuration says so instead of showing a broken form', async () => {
  fake.settings.configBroken = true;
  const { page } = await openUi({ first: 'error' });
  expect(await page.locator('#title').textContent()).toBe('Sign-in is not available');
  expect(await page.locator('#error-message').textContent()).toBe('This page could not load its settings. Try again in a moment.');
  expect(await section(page, 'error').getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  expect(await page.locator('form:visible').count()).toBe(0);
});
