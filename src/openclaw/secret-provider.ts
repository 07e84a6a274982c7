/**
 * An OpenClaw exec secret provider (`secrets.providers.<name>` with `source: "exec"`).
 *
 * OpenClaw runs `command` directly (no shell) with `args`, writes
 * `{"protocolVersion":1,"provider":"<name>","ids":[...]}` to its stdin and reads
 * `{"protocolVersion":1,"values":{...},"errors":{...}}` from its stdout.
 *
 * OpenClaw refuses to run the command unless it is an absolute path to a regular file
 * (not a symlink), executable by its owner, owned by the user the gateway runs as, and
 * not writable by group or others. The child process gets an empty environment except
 * for the variables listed in `passEnv` and `env`.
 */
export interface ExecSecretProviderProps {
  /**
   * The provider alias, referenced by `SecretRef.fromExec(name, id)`.
   * Lowercase letter first, then lowercase letters, digits, `_` or `-` (at most 64 characters).
   */
  readonly name: string;

  /** Absolute path of the executable to run. */
  readonly command: string;

  /**
   * Arguments passed to the command (at most 128, each at most 1024 characters).
   *
   * @default - no arguments
   */
  readonly args?: string[];

  /**
   * How long OpenClaw waits for the command to finish, in milliseconds (1-120000).
   *
   * @default - OpenClaw's default (5000)
   */
  readonly timeoutMs?: number;

  /**
   * How long the command may stay silent before OpenClaw kills it, in milliseconds (1-120000).
   *
   * @default - same as `timeoutMs`
   */
  readonly noOutputTimeoutMs?: number;

  /**
   * Largest output OpenClaw accepts from the command, in bytes (1 to 20 MiB).
   *
   * @default - OpenClaw's default (1 MiB)
   */
  readonly maxOutputBytes?: number;

  /**
   * Whether stdout must be a protocol JSON document. With `false` and a single requested id,
   * plain text output is taken as the value.
   *
   * @default true
   */
  readonly jsonOnly?: boolean;

  /**
   * Names of environment variables of the gateway process passed through to the command
   * (at most 128 names matching `^[A-Z][A-Z0-9_]{0,127}$`).
   *
   * @default - none: the command runs with an empty environment
   */
  readonly passEnv?: string[];

  /**
   * Absolute directories the command must live in.
   *
   * @default - no directory restriction
   */
  readonly trustedDirs?: string[];
}
