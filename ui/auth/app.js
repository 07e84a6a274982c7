// The OpenClaw sign-in page: one ES module, no dependencies, no build step, no inline code (the edge serves it under
// a strict Content-Security-Policy).
//
// It talks to the Cognito user pools JSON API directly and to the platform's session API on this origin. Tokens are
// held in this module's memory only: every tenant's gateway is served from this same origin, so anything written to
// localStorage, sessionStorage, cookies or any other storage of the origin would be readable by their pages.

/** The header that carries the Cognito access token to the session API (contract.ts: ACCESS_TOKEN_HEADER). */
const ACCESS_TOKEN_HEADER = 'x-openclaw-access-token';
/** The issuer name shown by authenticator apps. */
const ISSUER = 'OpenClaw';
/** The name Cognito keeps for the authenticator. */
const MFA_DEVICE_NAME = 'Authenticator app';
/** The characters Cognito counts as symbols in a password (an inner space counts too). */
const SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-';

const $ = (id) => document.getElementById(id);

/** config.json, checked. */
let config = null;
/** The screen on view. */
let screen = 'loading';
/** The email the user last typed (to fill in the next form) and shown once signed in. */
let email = '';
/**
 * A sign-in in progress: Cognito's username for it, its challenge session and a new authenticator key (also the key
 * a signed-in user is turning on, and whether Cognito has verified it already).
 */
const pending = { username: '', session: '', secret: '', verified: false };
/** What the authenticator screen is for: 'sign-in' (the MFA_SETUP challenge) or 'turn-on' (from home, signed in). */
let mfaMode = 'sign-in';
/** The signed-in user's tokens (access, refresh, expiresAt, refreshAt), or null. */
let tokens = null;
/** Whether the signed-in user has TOTP MFA on (GetUser, on pools where it is optional); null when not known. */
let mfaOn = null;
let refreshTimer = 0;
let refreshing = null;
let pollTimer = 0;
/** Bumped on sign-out, so answers to requests made before it are ignored. */
let generation = 0;
/** What "Try again" on the error screen does. */
let retry = () => location.reload();

/** A failed call: Cognito's error type (or NetworkError, SignedOut) and its message. */
class ServiceError extends Error {
  constructor(type, message = '') {
    super(message || type);
    this.type = type;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Services

/** Calls one operation of the Cognito user pools JSON API. */
async function cognito(operation, body) {
  let response;
  try {
    response = await fetch(config.cognitoEndpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ServiceError('NetworkError');
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    // The type is either bare or "<namespace>#<type>".
    const raw = String(data.__type || response.headers.get('x-amzn-errortype') || 'UnknownError');
    throw new ServiceError(raw.split('#').pop().split(':')[0], String(data.message || data.Message || ''));
  }
  return data;
}

/** Calls the session API with a fresh access token: `{ status, body }`. */
async function sessionApi(method) {
  const access = await freshAccessToken();
  let response;
  try {
    response = await fetch(config.sessionPath, {
      method,
      headers: { [ACCESS_TOKEN_HEADER]: access },
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new ServiceError('NetworkError');
  }
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

// ---------------------------------------------------------------------------------------------------------------
// Words

function passwordRule() {
  return `At least ${config.passwordMinLength} characters, with an uppercase letter, a lowercase letter, a number and a symbol.`;
}

/** What a password lacks under the pool's policy (empty when it is fine). */
function passwordProblems(password) {
  const problems = [];
  if ([...password].length < config.passwordMinLength) problems.push(`at least ${config.passwordMinLength} characters`);
  if (!/[A-Z]/.test(password)) problems.push('an uppercase letter');
  if (!/[a-z]/.test(password)) problems.push('a lowercase letter');
  if (!/[0-9]/.test(password)) problems.push('a number');
  if (![...password.trim()].some((c) => c === ' ' || SYMBOLS.includes(c))) problems.push('a symbol');
  if (password !== password.trim()) problems.push('no space at the start or the end');
  return problems;
}

function list(items) {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A Cognito error in plain words; `context` is 'sign-in' where NotAuthorized means a wrong email or password. */
function explain(error, context) {
  if (!(error instanceof ServiceError)) return 'Something went wrong. Try again in a moment.';
  const { type, message } = error;
  switch (type) {
    case 'NetworkError':
      return 'Cannot reach the service. Check your connection and try again.';
    case 'UsernameExistsException':
      return 'An account with this email already exists. Sign in, or reset your password if you have forgotten it.';
    case 'CodeMismatchException':
    case 'EnableSoftwareTokenMFAException':
      return 'That code is not right. Check it and try again.';
    case 'ExpiredCodeException':
      return 'That code has expired or was replaced by a newer one. Ask for a new code.';
    case 'UserNotFoundException':
      return 'Incorrect email or password.';
    case 'NotAuthorizedException':
      if (/session/i.test(message)) return 'This sign-in took too long. Please sign in again.';
      if (/attempts exceeded/i.test(message)) return 'Too many failed attempts. Wait a few minutes, then try again.';
      if (/sign ?up is not permitted/i.test(message)) return 'Sign-up is closed. Ask your administrator for an account.';
      if (/confirmed/i.test(message)) return 'This email is already verified. Sign in.';
      return context === 'sign-in' ? 'Incorrect email or password.' : 'That was refused. Please sign in again.';
    case 'LimitExceededException':
    case 'TooManyFailedAttemptsException':
      return 'Too many attempts. Wait a few minutes, then try again.';
    case 'TooManyRequestsException':
      return 'The service is busy. Wait a moment, then try again.';
    case 'InvalidPasswordException':
      return `That password is not allowed. ${passwordRule()}`;
    case 'PasswordResetRequiredException':
      return 'You need to choose a new password: use “Forgot your password?”.';
    case 'CodeDeliveryFailureException':
      return 'We could not send you the email. Try again later.';
    case 'UserLambdaValidationException': {
      // "<Trigger> failed with error <the trigger's message>." (Cognito adds the final full stop).
      const match = /^\w+ failed with error ([\s\S]+)$/.exec(message);
      if (match) return match[1].endsWith('.') ? match[1].slice(0, -1) : match[1];
      return 'That was refused. Try again later.';
    }
    case 'InvalidParameterException':
      return 'Check what you entered and try again.';
    default:
      return `Something went wrong (${type}). Try again in a moment.`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Screens and messages

const noticeTurns = new Map();

/** Writes a live-region message; the same text again is cleared first so that it is announced again. */
function notice(element, text) {
  const turn = (noticeTurns.get(element) || 0) + 1;
  noticeTurns.set(element, turn);
  if (text && element.textContent === text) {
    element.textContent = '';
    setTimeout(() => {
      if (noticeTurns.get(element) === turn) element.textContent = text;
    }, 50);
  } else {
    element.textContent = text;
  }
}

const say = (text) => notice($('status'), text);
const warn = (text) => notice($('alert'), text);

/** Shows one screen, with its title, messages and focus (its first empty field, else the title). */
function show(name, { status = '', alert = '', title = '' } = {}) {
  let section = null;
  for (const candidate of document.querySelectorAll('[data-screen]')) {
    candidate.hidden = candidate.id !== `screen-${name}`;
    if (!candidate.hidden) section = candidate;
  }
  screen = name;
  const heading = title || section.dataset.title;
  $('title').textContent = heading;
  document.title = `${heading} · OpenClaw`;
  say(status);
  warn(alert);
  for (const input of section.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  const field = [...section.querySelectorAll('input:not([type=checkbox])')].find((input) => !input.value);
  (field || $('title')).focus();
}

/** Goes to a screen from a link or a finished step: clears every form (passwords, codes) and fills in the email. */
function goTo(name, notices = {}) {
  if (['sign-in', 'sign-up', 'forgot-password'].includes(name)) {
    pending.session = '';
    forgetKey();
  }
  clearForms();
  for (const id of ['sign-in-email', 'sign-up-email', 'forgot-email']) $(id).value = email;
  show(name, notices);
}

function clearForms() {
  for (const form of document.forms) form.reset();
  for (const box of document.querySelectorAll('[data-reveal]')) $(box.dataset.reveal).type = 'password';
}

function showError(message, { title = 'Something went wrong', again = () => location.reload() } = {}) {
  $('error-message').textContent = message;
  retry = again;
  for (const element of document.querySelectorAll('[data-signed-in]')) element.hidden = !tokens;
  show('error', { title });
}

/** Marks a field wrong, with the message in the alert region, and puts the cursor in it. */
function fail(message, field) {
  warn(message);
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    if (field.type === 'password') field.value = '';
    field.focus();
    if (field.value) field.select();
  }
}

/** Runs a step with its buttons disabled (no double submits); restores the focus if the step left it nowhere. */
async function run(scope, step) {
  if (scope.getAttribute('aria-busy') === 'true') return;
  const before = screen;
  const focused = document.activeElement;
  const buttons = [...scope.querySelectorAll('button')];
  scope.setAttribute('aria-busy', 'true');
  for (const button of buttons) button.disabled = true;
  try {
    await step();
  } catch (error) {
    if (!(error instanceof ServiceError && error.type === 'SignedOut')) warn(explain(error, ''));
  } finally {
    scope.removeAttribute('aria-busy');
    for (const button of buttons) button.disabled = false;
    if (screen === before && focused && document.activeElement === document.body) focused.focus();
  }
}

/** A 6-digit code from a field (spaces allowed), or '' after telling the user. */
function codeFrom(field) {
  const code = field.value.replace(/\s+/g, '');
  if (/^\d{6}$/.test(code)) return code;
  fail('Enter the 6-digit code.', field);
  return '';
}

/** A password that meets the policy, or '' after telling the user what it lacks. */
function passwordFrom(field) {
  const problems = passwordProblems(field.value);
  if (problems.length === 0) return field.value;
  field.setAttribute('aria-invalid', 'true');
  warn(`Your password needs ${list(problems)}.`);
  field.focus();
  return '';
}

// ---------------------------------------------------------------------------------------------------------------
// Signing up and in

async function signUp() {
  const field = $('sign-up-password');
  email = $('sign-up-email').value.trim();
  const password = passwordFrom(field);
  if (!password) return;
  try {
    const answer = await cognito('SignUp', {
      ClientId: config.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    });
    if (answer.UserConfirmed) {
      goTo('sign-in', { status: 'Your account is ready. Sign in to continue.' });
    } else {
      showVerify(answer.CodeDeliveryDetails);
    }
  } catch (error) {
    fail(explain(error, 'sign-up'), error.type === 'InvalidPasswordException' ? field : $('sign-up-email'));
  }
}

function showVerify(delivery, notices = {}) {
  clearForms();
  $('verify-destination').textContent = (delivery && delivery.Destination) || email;
  show('verify', notices);
}

async function verify() {
  const field = $('verify-code');
  const code = codeFrom(field);
  if (!code) return;
  try {
    await cognito('ConfirmSignUp', { ClientId: config.clientId, Username: email, ConfirmationCode: code });
    goTo('sign-in', { status: 'Your email is verified. Sign in to continue.' });
  } catch (error) {
    if (error.type === 'NotAuthorizedException' && /confirmed/i.test(error.message)) {
      goTo('sign-in', { status: 'Your email is already verified. Sign in to continue.' });
    } else {
      fail(explain(error, 'verify'), field);
    }
  }
}

async function resendVerification() {
  try {
    const answer = await cognito('ResendConfirmationCode', { ClientId: config.clientId, Username: email });
    const destination = (answer.CodeDeliveryDetails && answer.CodeDeliveryDetails.Destination) || email;
    $('verify-destination').textContent = destination;
    say(`We sent a new code to ${destination}.`);
    warn('');
    $('verify-code').value = '';
    $('verify-code').focus();
  } catch (error) {
    warn(explain(error, 'verify'));
  }
}

async function signIn() {
  const field = $('sign-in-password');
  email = $('sign-in-email').value.trim();
  pending.username = email;
  try {
    const answer = await cognito('InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.clientId,
      AuthParameters: { USERNAME: email, PASSWORD: field.value },
    });
    field.value = '';
    await proceed(answer);
  } catch (error) {
    if (error.type === 'UserNotConfirmedException') {
      showVerify(null, { status: 'Your email is not verified yet. Enter the code we sent you, or ask for a new one.' });
    } else if (error.type === 'PasswordResetRequiredException') {
      goTo('forgot-password', { alert: explain(error, 'sign-in') });
    } else {
      fail(explain(error, 'sign-in'), field);
    }
  }
}

/** Takes the next step of a sign-in: tokens, or the challenge Cognito asks for. */
async function proceed(answer) {
  if (answer.AuthenticationResult) {
    await signedIn(answer.AuthenticationResult);
    return;
  }
  const parameters = answer.ChallengeParameters || {};
  pending.session = answer.Session || '';
  // Challenges answer to the pool's own username (the user's sub), not the email alias.
  if (parameters.USER_ID_FOR_SRP) pending.username = parameters.USER_ID_FOR_SRP;
  clearForms();
  switch (answer.ChallengeName) {
    case 'SOFTWARE_TOKEN_MFA':
      show('mfa-code');
      return;
    case 'NEW_PASSWORD_REQUIRED':
      show('new-password');
      return;
    case 'MFA_SETUP':
      if (!parameters.MFAS_CAN_SETUP || parameters.MFAS_CAN_SETUP.includes('SOFTWARE_TOKEN_MFA')) {
        await startMfaSetup();
        return;
      }
      break;
    default:
      break;
  }
  showError(`Your account needs a sign-in step this page does not support (${answer.ChallengeName}). Contact your administrator.`, {
    again: () => goTo('sign-in'),
  });
}

/** A challenge answer that failed: a timed-out sign-in starts again, anything else is shown by the field. */
function challengeFailed(error, field) {
  if (error.type === 'NotAuthorizedException' && /session/i.test(error.message)) {
    goTo('sign-in', { alert: explain(error, 'challenge') });
  } else {
    fail(explain(error, 'challenge'), field);
  }
}

/** Shows a new authenticator key (as text and as an otpauth:// link) on the authenticator screen, for a mode. */
function showKey(secret, mode) {
  mfaMode = mode;
  pending.secret = secret;
  pending.verified = false;
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(email)}`;
  const uri = `otpauth://totp/${label}?secret=${encodeURIComponent(pending.secret)}&issuer=${encodeURIComponent(ISSUER)}`
    + '&algorithm=SHA1&digits=6&period=30';
  $('mfa-secret').textContent = pending.secret.replace(/(.{4})(?=.)/g, '$1 ');
  $('mfa-uri').textContent = uri;
  $('mfa-link').href = uri;
  for (const element of document.querySelectorAll('[data-mfa-mode]')) element.hidden = element.dataset.mfaMode !== mode;
  show('mfa-setup', { title: mode === 'turn-on' ? 'Turn on an authenticator app' : '' });
}

/** Forgets a new authenticator key, and takes it off the page. */
function forgetKey() {
  pending.secret = '';
  pending.verified = false;
  for (const id of ['mfa-secret', 'mfa-uri']) $(id).textContent = '';
  $('mfa-link').removeAttribute('href');
}

async function startMfaSetup() {
  const association = await cognito('AssociateSoftwareToken', { Session: pending.session });
  pending.session = association.Session || pending.session;
  showKey(association.SecretCode, 'sign-in');
}

async function copySecret() {
  try {
    await navigator.clipboard.writeText(pending.secret);
    say('Key copied.');
  } catch {
    say('Select the key and copy it.');
  }
}

async function finishMfaSetup() {
  if (mfaMode === 'turn-on') {
    await finishTurnOn();
    return;
  }
  const field = $('mfa-setup-code');
  const code = codeFrom(field);
  if (!code) return;
  try {
    const verified = await cognito('VerifySoftwareToken', {
      Session: pending.session,
      UserCode: code,
      FriendlyDeviceName: MFA_DEVICE_NAME,
    });
    if (verified.Status !== 'SUCCESS') throw new ServiceError('CodeMismatchException');
    pending.session = verified.Session || pending.session;
    const answer = await cognito('RespondToAuthChallenge', {
      ChallengeName: 'MFA_SETUP',
      ClientId: config.clientId,
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username },
    });
    await proceed(answer);
  } catch (error) {
    challengeFailed(error, field);
  }
}

async function answerMfa() {
  const field = $('mfa-code');
  const code = codeFrom(field);
  if (!code) return;
  try {
    const answer = await cognito('RespondToAuthChallenge', {
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      ClientId: config.clientId,
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username, SOFTWARE_TOKEN_MFA_CODE: code },
    });
    await proceed(answer);
  } catch (error) {
    challengeFailed(error, field);
  }
}

async function setNewPassword() {
  const field = $('new-password');
  const password = passwordFrom(field);
  if (!password) return;
  try {
    const answer = await cognito('RespondToAuthChallenge', {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: config.clientId,
      Session: pending.session,
      ChallengeResponses: { USERNAME: pending.username, NEW_PASSWORD: password },
    });
    await proceed(answer);
  } catch (error) {
    challengeFailed(error, field);
  }
}

async function forgotPassword() {
  email = $('forgot-email').value.trim();
  try {
    const answer = await cognito('ForgotPassword', { ClientId: config.clientId, Username: email });
    clearForms();
    $('reset-destination').textContent = (answer.CodeDeliveryDetails && answer.CodeDeliveryDetails.Destination) || email;
    show('reset-password');
  } catch (error) {
    fail(explain(error, 'reset'), $('forgot-email'));
  }
}

async function resendReset() {
  try {
    const answer = await cognito('ForgotPassword', { ClientId: config.clientId, Username: email });
    const destination = (answer.CodeDeliveryDetails && answer.CodeDeliveryDetails.Destination) || email;
    $('reset-destination').textContent = destination;
    say(`We sent a new code to ${destination}.`);
    warn('');
    $('reset-code').focus();
  } catch (error) {
    warn(explain(error, 'reset'));
  }
}

async function resetPassword() {
  const codeField = $('reset-code');
  const code = codeFrom(codeField);
  if (!code) return;
  const password = passwordFrom($('reset-password'));
  if (!password) return;
  try {
    await cognito('ConfirmForgotPassword', {
      ClientId: config.clientId,
      Username: email,
      ConfirmationCode: code,
      Password: password,
    });
    goTo('sign-in', { status: 'Your password has been changed. Sign in with your new password.' });
  } catch (error) {
    fail(explain(error, 'reset'), error.type === 'InvalidPasswordException' ? $('reset-password') : codeField);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

/** Keeps new tokens (in memory) and plans their silent refresh before the access token expires. */
function keep(result) {
  const lifetime = Number(result.ExpiresIn) > 0 ? Number(result.ExpiresIn) : 3600;
  const margin = Math.min(60, lifetime / 4);
  const now = Date.now();
  tokens = {
    access: result.AccessToken,
    refresh: result.RefreshToken || (tokens && tokens.refresh),
    expiresAt: now + lifetime * 1000,
    refreshAt: now + (lifetime - margin) * 1000,
  };
  planRefresh(tokens.refreshAt - now);
}

function planRefresh(delay) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshTokens().catch(() => undefined);
  }, Math.max(0, delay));
}

/**
 * Gets new tokens with the refresh token (one request at a time); ends the session when Cognito refuses.
 * GetTokensFromRefreshToken works whether or not the app client rotates refresh tokens (InitiateAuth's
 * REFRESH_TOKEN_AUTH does not work with rotation); with rotation it answers a new refresh token, kept by keep().
 */
function refreshTokens() {
  if (!refreshing) {
    const turn = generation;
    const refreshToken = tokens && tokens.refresh;
    refreshing = (async () => {
      if (!refreshToken) throw new ServiceError('SignedOut');
      try {
        const answer = await cognito('GetTokensFromRefreshToken', {
          ClientId: config.clientId,
          RefreshToken: refreshToken,
        });
        if (turn === generation) keep(answer.AuthenticationResult);
      } catch (error) {
        if (turn !== generation) throw error;
        const left = tokens.expiresAt - Date.now();
        if (['NetworkError', 'TooManyRequestsException', 'InternalErrorException'].includes(error.type) && left > 5000) {
          planRefresh(Math.min(15000, left / 2));
        } else {
          sessionEnded();
        }
        throw error;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** The access token, refreshed first when it is due. */
async function freshAccessToken() {
  if (!tokens) throw new ServiceError('SignedOut');
  if (Date.now() >= tokens.refreshAt) {
    try {
      await refreshTokens();
    } catch (error) {
      // A refused refresh has already ended the session (and said so).
      if (!tokens) throw new ServiceError('SignedOut');
      if (Date.now() >= tokens.expiresAt) throw error;
    }
  }
  return tokens.access;
}

/** Forgets everything about the signed-in user and any sign-in in progress. */
function forget() {
  generation += 1;
  clearTimeout(refreshTimer);
  clearTimeout(pollTimer);
  tokens = null;
  refreshing = null;
  mfaOn = null;
  offerMfa();
  pending.username = '';
  pending.session = '';
  forgetKey();
  $('home-tenant').textContent = '';
  clearForms();
}

function sessionEnded() {
  forget();
  goTo('sign-in', { alert: 'Your session has ended. Please sign in again.' });
}

// ---------------------------------------------------------------------------------------------------------------
// Signed in

async function signedIn(result) {
  pending.session = '';
  forgetKey();
  clearForms();
  keep(result);
  for (const element of document.querySelectorAll('[data-email]')) element.textContent = email;
  await readMfa();
  await loadSession();
}

/**
 * Where the pool's MFA is optional, learns whether the user has TOTP on (GetUser with the access token), so that
 * home can offer to turn it on. Any failure leaves it unknown, and nothing is offered.
 */
async function readMfa() {
  mfaOn = null;
  offerMfa();
  if (config.mfa !== 'OPTIONAL') return;
  const turn = generation;
  try {
    const user = await cognito('GetUser', { AccessToken: await freshAccessToken() });
    if (turn !== generation) return;
    const methods = Array.isArray(user.UserMFASettingList) ? user.UserMFASettingList : [];
    mfaOn = methods.includes('SOFTWARE_TOKEN_MFA') || user.PreferredMfaSetting === 'SOFTWARE_TOKEN_MFA';
  } catch {
    return;
  }
  offerMfa();
}

/** Shows home's offer to turn on an authenticator only where MFA is optional and the user has none yet. */
function offerMfa() {
  $('home-mfa').hidden = !(config && config.mfa === 'OPTIONAL' && mfaOn === false);
}

/** A call with the access token that failed: a refused token ends the session, anything else is shown. */
function signedInFailed(error, field) {
  if (error instanceof ServiceError && error.type === 'SignedOut') return;
  if (error instanceof ServiceError && error.type === 'NotAuthorizedException') {
    sessionEnded();
  } else if (field) {
    fail(explain(error, ''), field);
  } else {
    warn(explain(error, ''));
  }
}

/** Home's "Turn on an authenticator app": a new key for the signed-in user (AssociateSoftwareToken), shown. */
async function startTurnOn() {
  const turn = generation;
  try {
    const association = await cognito('AssociateSoftwareToken', { AccessToken: await freshAccessToken() });
    if (turn !== generation) return;
    clearForms();
    showKey(association.SecretCode, 'turn-on');
  } catch (error) {
    if (turn === generation) signedInFailed(error, null);
  }
}

/**
 * Checks a code of the new key (VerifySoftwareToken), then turns TOTP on as the preferred MFA
 * (SetUserMFAPreference): from the next sign-in, Cognito asks for a code. A verified key is not verified again when
 * only the second step failed.
 */
async function finishTurnOn() {
  const field = $('mfa-setup-code');
  const turn = generation;
  try {
    if (!pending.verified) {
      const code = codeFrom(field);
      if (!code) return;
      const verified = await cognito('VerifySoftwareToken', {
        AccessToken: await freshAccessToken(),
        UserCode: code,
        FriendlyDeviceName: MFA_DEVICE_NAME,
      });
      if (turn !== generation) return;
      if (verified.Status !== 'SUCCESS') throw new ServiceError('CodeMismatchException');
      pending.verified = true;
    }
    await cognito('SetUserMFAPreference', {
      AccessToken: await freshAccessToken(),
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    });
  } catch (error) {
    if (turn === generation) signedInFailed(error, pending.verified ? null : field);
    return;
  }
  if (turn !== generation) return;
  mfaOn = true;
  offerMfa();
  forgetKey();
  clearForms();
  show('home', { status: 'Your authenticator app is on. From your next sign-in, we will also ask for a 6-digit code from it.' });
}

function cancelTurnOn() {
  forgetKey();
  clearForms();
  show('home');
}

/** A path on this origin (no scheme, no host, no query or fragment). */
function isLocalPath(path) {
  return typeof path === 'string' && /^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*$/.test(path) && !path.startsWith('//');
}

/** Reads the tenant's state: home when the gateway is ready, a poll while it is prepared, else the reason. */
async function loadSession() {
  clearTimeout(pollTimer);
  const turn = generation;
  let answer;
  try {
    answer = await sessionApi('GET');
  } catch (error) {
    if (turn === generation && error.type !== 'SignedOut' && tokens) {
      showError(explain(error, ''), { again: loadSession });
    }
    return;
  }
  if (turn !== generation) return;
  if (answer.status === 200 && answer.body.status === 'ACTIVE') {
    $('home-tenant').textContent = answer.body.tenant;
    if (screen !== 'home') show('home');
    return;
  }
  handleSessionProblem(answer);
}

/** Anything but a ready gateway: polls while it is prepared, ends the session on 401, else shows why. */
function handleSessionProblem({ status, body }) {
  if (status === 202 && body.status === 'PROVISIONING') {
    const wait = Math.min(300, Math.max(1, Number(body.retryAfterSeconds) || 10));
    if (screen !== 'provisioning') show('provisioning');
    pollTimer = setTimeout(() => {
      loadSession().catch(() => undefined);
    }, wait * 1000);
  } else if (status === 401) {
    sessionEnded();
  } else if (status === 403) {
    showError(body.message || 'Your gateway is not available.', { title: 'Your gateway is not available', again: loadSession });
  } else {
    showError(`Your gateway's status could not be read (HTTP ${status}). Try again in a moment.`, { again: loadSession });
  }
}

/** Opens the gateway with a freshly read token in the URL fragment, which never reaches a server or a log. */
async function openGateway() {
  const turn = generation;
  const answer = await sessionApi('GET');
  if (turn !== generation) return;
  const { status, body } = answer;
  if (status === 200 && body.status === 'ACTIVE') {
    if (!isLocalPath(body.path) || typeof body.gatewayToken !== 'string' || !body.gatewayToken) {
      showError('The gateway address from the service is not valid.', { again: loadSession });
      return;
    }
    location.assign(`${body.path}#token=${encodeURIComponent(body.gatewayToken)}`);
    return;
  }
  handleSessionProblem(answer);
}

/**
 * Signs out: ends the Cognito session (GlobalSignOut with the access token, then RevokeToken with the refresh token)
 * and forgets everything. "Everywhere" first asks the session API to rotate the gateway token, which ends every open
 * gateway session; when that fails the user stays signed in to try again.
 */
async function signOut(everywhere) {
  if (!tokens) {
    goTo('signed-out');
    return;
  }
  if (everywhere) {
    const answer = await sessionApi('DELETE');
    if (answer.status !== 202 && answer.status !== 200) {
      if (answer.status === 401) {
        sessionEnded();
      } else {
        warn(`Your gateway sessions could not be ended (HTTP ${answer.status}). You are still signed in; try again.`);
      }
      return;
    }
  }
  // A refresh under way may rotate the refresh token: sign out with the newest.
  if (refreshing) await refreshing.catch(() => undefined);
  if (!tokens) return;
  const { access, refresh } = tokens;
  forget();
  let ended = false;
  try {
    await cognito('GlobalSignOut', { AccessToken: access });
    ended = true;
  } catch {
    // The refresh token's revocation below still ends the session.
  }
  try {
    await cognito('RevokeToken', { ClientId: config.clientId, Token: refresh });
    ended = true;
  } catch {
    // GlobalSignOut above already revoked it.
  }
  goTo('signed-out', {
    status: everywhere ? 'Every gateway session has been ended, and you are signed out.' : 'You are signed out.',
    alert: ended ? '' : 'The sign-in service could not be reached, so your session there ends only when it expires.',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Start

function checkConfig(raw) {
  const ok = raw && typeof raw === 'object'
    && typeof raw.clientId === 'string' && raw.clientId
    && typeof raw.cognitoEndpoint === 'string' && /^https?:\/\//.test(raw.cognitoEndpoint)
    && typeof raw.sessionPath === 'string' && isLocalPath(raw.sessionPath);
  if (!ok) throw new Error('config.json is not valid');
  return {
    clientId: raw.clientId,
    cognitoEndpoint: raw.cognitoEndpoint,
    sessionPath: raw.sessionPath,
    selfSignUp: raw.selfSignUp === true,
    passwordMinLength: Number.isInteger(raw.passwordMinLength) && raw.passwordMinLength > 0 ? raw.passwordMinLength : 8,
    // Only a pool that says its MFA is optional gets the offer to turn it on.
    mfa: raw.mfa === 'OPTIONAL' ? 'OPTIONAL' : 'REQUIRED',
  };
}

function wire() {
  const forms = {
    'sign-in-form': signIn,
    'sign-up-form': signUp,
    'verify-form': verify,
    'mfa-setup-form': finishMfaSetup,
    'mfa-code-form': answerMfa,
    'new-password-form': setNewPassword,
    'forgot-password-form': forgotPassword,
    'reset-password-form': resetPassword,
  };
  for (const [id, step] of Object.entries(forms)) {
    const form = $(id);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      warn('');
      run(form, step);
    });
  }
  const buttons = {
    'verify-resend': resendVerification,
    'reset-resend': resendReset,
    'mfa-copy': copySecret,
    'mfa-turn-on': startTurnOn,
    'mfa-turn-on-cancel': cancelTurnOn,
    'open-gateway': openGateway,
    'sign-out-everywhere': () => signOut(true),
    'error-retry': () => retry(),
  };
  for (const [id, step] of Object.entries(buttons)) {
    const button = $(id);
    button.addEventListener('click', () => run(button.closest('section'), step));
  }
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const link = target && target.closest('[data-go]');
    if (link) goTo(link.dataset.go);
    const out = target && target.closest('[data-sign-out]');
    if (out) run(out.closest('section'), () => signOut(false));
  });
  for (const box of document.querySelectorAll('[data-reveal]')) {
    box.addEventListener('change', () => {
      $(box.dataset.reveal).type = box.checked ? 'text' : 'password';
    });
  }
  // Timers may sleep with the device; refresh as soon as the page is back if the token is due.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && tokens && Date.now() >= tokens.refreshAt) {
      refreshTokens().catch(() => undefined);
    }
  });
}

async function start() {
  wire();
  try {
    const response = await fetch(new URL('config.json', import.meta.url), { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    config = checkConfig(await response.json());
  } catch {
    showError('This page could not load its settings. Try again in a moment.', { title: 'Sign-in is not available' });
    return;
  }
  for (const element of document.querySelectorAll('[data-password-rule]')) element.textContent = passwordRule();
  for (const element of document.querySelectorAll('[data-sign-up]')) element.hidden = !config.selfSignUp;
  show('sign-in');
}

start();
