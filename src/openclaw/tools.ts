/**
 * The base tool allowlist an agent starts from (`tools.profile`).
 */
export enum ToolProfile {
  /** Only the session status tool. */
  MINIMAL = 'minimal',
  /** File system, runtime (shell), web, sessions, memory and media tools. */
  CODING = 'coding',
  /** Messaging and session tools. */
  MESSAGING = 'messaging',
  /** No restriction. */
  FULL = 'full',
}

/**
 * How the `exec` tool may run commands on the gateway host (`tools.exec.mode`).
 */
export enum ExecMode {
  /** Host exec is refused. */
  DENY = 'deny',
  /** Only allowlisted commands run; nothing else is asked. */
  ALLOWLIST = 'allowlist',
  /** Allowlisted commands run; every other command waits for a human approval. */
  ASK = 'ask',
  /** Allowlisted commands run; others go through OpenClaw's automatic reviewer, then a human. */
  AUTO = 'auto',
  /** Every command runs without approval. */
  FULL = 'full',
}

/**
 * The agents' tool policy (`tools.*`). Deny always wins over allow.
 *
 * Entries are tool names (`exec`, `browser`, `web_fetch`…), `*` wildcards, or groups such as
 * `group:fs`, `group:runtime`, `group:web`, `group:ui`, `group:automation`, `group:nodes`.
 */
export interface ToolsPolicyOptions {
  /**
   * The base allowlist.
   *
   * @default ToolProfile.MESSAGING
   */
  readonly profile?: ToolProfile;

  /**
   * Tools allowed, replacing the profile's allowlist. Cannot be combined with `alsoAllow`.
   *
   * @default - the profile decides
   */
  readonly allow?: string[];

  /**
   * Tools added to the profile's allowlist. Cannot be combined with `allow`.
   *
   * @default - none
   */
  readonly alsoAllow?: string[];

  /**
   * Tools refused, whatever the profile and allow lists say. Setting this replaces the default list.
   *
   * @default ['group:automation', 'group:runtime', 'group:fs', 'sessions_spawn', 'sessions_send']
   */
  readonly deny?: string[];

  /**
   * Restrict file tools (`read`, `write`, `edit`, `apply_patch`) to the agent workspace.
   *
   * @default true
   */
  readonly fsWorkspaceOnly?: boolean;

  /**
   * How the exec tool may run host commands.
   *
   * @default ExecMode.DENY
   */
  readonly execMode?: ExecMode;

  /**
   * Allow elevated exec (escaping the sandbox onto the host).
   *
   * @default false
   */
  readonly elevatedEnabled?: boolean;
}
