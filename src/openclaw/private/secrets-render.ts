import { ExecSecretProviderProps } from '../secret-provider';
import { checkInt, checkListLength, checkPattern, ENV_NAME_PATTERN, fail, isToken, PROVIDER_NAME_PATTERN } from './validate';

/** Upper bound OpenClaw accepts for exec provider timeouts. */
const MAX_TIMEOUT_MS = 120_000;
/** Upper bound OpenClaw accepts for exec provider output. */
const MAX_OUTPUT_BYTES = 20 * 1024 * 1024;

/** Validates one exec provider; `path` is its prop path for error messages. */
export function validateExecProvider(path: string, p: ExecSecretProviderProps): void {
  checkPattern(`${path}.name`, p.name, PROVIDER_NAME_PATTERN, 'a provider alias matching ^[a-z][a-z0-9_-]{0,63}$');
  checkAbsolute(`${path}.command`, p.command);
  checkListLength(`${path}.args`, p.args, 128);
  (isToken(p.args) ? [] : p.args ?? []).forEach((arg, i) => {
    if (!isToken(arg) && arg.length > 1024) {
      fail(`${path}.args[${i}]`, 'at most 1024 characters', `${arg.length} characters`);
    }
  });
  checkInt(`${path}.timeoutMs`, p.timeoutMs, 1, MAX_TIMEOUT_MS);
  checkInt(`${path}.noOutputTimeoutMs`, p.noOutputTimeoutMs, 1, MAX_TIMEOUT_MS);
  checkInt(`${path}.maxOutputBytes`, p.maxOutputBytes, 1, MAX_OUTPUT_BYTES);
  checkListLength(`${path}.passEnv`, p.passEnv, 128);
  (isToken(p.passEnv) ? [] : p.passEnv ?? []).forEach((name, i) =>
    checkPattern(`${path}.passEnv[${i}]`, name, ENV_NAME_PATTERN, 'an environment variable name matching ^[A-Z][A-Z0-9_]{0,127}$'));
  checkListLength(`${path}.trustedDirs`, p.trustedDirs, 64);
  const dirs = isToken(p.trustedDirs) ? [] : p.trustedDirs ?? [];
  dirs.forEach((dir, i) => checkAbsolute(`${path}.trustedDirs[${i}]`, dir));
  const concrete = dirs.filter((d) => !isToken(d));
  if (concrete.length > 0 && concrete.length === dirs.length && !isToken(p.command)) {
    const inside = concrete.some((d) => p.command.startsWith(d.endsWith('/') ? d : `${d}/`));
    if (!inside) {
      fail(`${path}.command`, `inside one of trustedDirs (${concrete.join(', ')})`, p.command);
    }
  }
}

/** Renders the `secrets.providers.<name>` value (without the name). */
export function renderExecProvider(p: ExecSecretProviderProps): any {
  return {
    source: 'exec',
    command: p.command,
    args: p.args,
    timeoutMs: p.timeoutMs,
    noOutputTimeoutMs: p.noOutputTimeoutMs,
    maxOutputBytes: p.maxOutputBytes,
    jsonOnly: p.jsonOnly ?? true,
    passEnv: p.passEnv,
    trustedDirs: p.trustedDirs,
  };
}

function checkAbsolute(path: string, value: string): void {
  if (isToken(value)) {
    return;
  }
  if (!value.startsWith('/') || value.split('/').some((s) => s === '.' || s === '..')) {
    fail(path, "an absolute path starting with '/' without '.' or '..' segments", value);
  }
}
