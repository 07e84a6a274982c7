import { checkPattern, fail, isToken, ENV_NAME_PATTERN, PROVIDER_NAME_PATTERN } from './private/validate';

/**
 * The provider alias OpenClaw uses for environment-variable SecretRefs when none is configured.
 */
const DEFAULT_ENV_PROVIDER = 'default';

const EXEC_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$/;

/**
 * A reference to a secret that OpenClaw resolves at gateway start (a "SecretRef").
 *
 * The rendered `openclaw.json` only ever holds the reference `{source, provider, id}`,
 * never the secret value. OpenClaw resolves references into memory when the gateway
 * activates its configuration.
 */
export class SecretRef {
  /**
   * A secret read from an environment variable of the gateway process.
   *
   * @param variableName the environment variable name (uppercase letters, digits and `_`, starting with a letter)
   * @param provider the env provider alias; `default` needs no entry under `secrets.providers`
   */
  public static fromEnv(variableName: string, provider?: string): SecretRef {
    const ref = new SecretRef('env', provider ?? DEFAULT_ENV_PROVIDER, variableName);
    checkPattern('secretRef.id', variableName, ENV_NAME_PATTERN, 'an environment variable name matching ^[A-Z][A-Z0-9_]{0,127}$');
    return ref;
  }

  /**
   * A secret read from a JSON or single-value file provider.
   *
   * @param provider the name of a `file` provider declared under `secrets.providers`
   * @param pointer an absolute JSON pointer such as `/gateway/token`, or `value` for a single-value file
   */
  public static fromFile(provider: string, pointer: string): SecretRef {
    const ref = new SecretRef('file', provider, pointer);
    if (!isToken(pointer) && pointer !== 'value' && !pointer.startsWith('/')) {
      fail('secretRef.id', "an absolute JSON pointer starting with '/' or the literal 'value'", pointer);
    }
    return ref;
  }

  /**
   * A secret returned by an exec provider, such as the AWS Secrets Manager resolver of this library.
   *
   * @param provider the name of an `exec` provider declared under `secrets.providers`
   * @param id the id passed to the provider; for the Secrets Manager resolver, a secret name or ARN,
   *   optionally followed by `#<json key>` to pick one key of a JSON secret
   */
  public static fromExec(provider: string, id: string): SecretRef {
    const ref = new SecretRef('exec', provider, id);
    checkPattern('secretRef.id', id, EXEC_ID_PATTERN, 'an exec secret id matching ^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$');
    if (!isToken(id) && id.split('/').some((segment) => segment === '.' || segment === '..')) {
      fail('secretRef.id', "an exec secret id without '.' or '..' path segments", id);
    }
    return ref;
  }

  /** Where the secret comes from: `env`, `file` or `exec`. */
  public readonly source: string;

  /** The provider alias under `secrets.providers` (or `default` for the built-in env provider). */
  public readonly provider: string;

  /** The identifier of the secret within its provider. */
  public readonly id: string;

  private constructor(source: string, provider: string, id: string) {
    checkPattern('secretRef.provider', provider, PROVIDER_NAME_PATTERN, 'a provider alias matching ^[a-z][a-z0-9_-]{0,63}$');
    if (!isToken(id) && id.trim() === '') {
      fail('secretRef.id', 'a non-empty string', id);
    }
    this.source = source;
    this.provider = provider;
    this.id = id;
  }

  /** The JSON object written to `openclaw.json`. */
  public toJson(): any {
    return { source: this.source, provider: this.provider, id: this.id };
  }
}
