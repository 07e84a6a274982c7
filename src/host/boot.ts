import * as zlib from 'zlib';

/**
 * The host's boot configuration: the setup script cloud-init runs on every boot, the OpenClaw system unit and
 * the CloudWatch agent configuration. Pure functions of their options so that tests can snapshot them.
 */

/** NodeSource's RPM signing key, pinned by fingerprint: dnf refuses Node.js packages it did not sign. */
export const NODESOURCE_KEY_URL = 'https://rpm.nodesource.com/gpgkey/ns-operations-public.key';
export const NODESOURCE_KEY_FINGERPRINT = '242B813831AF09562B6C46F76B88DA4E3AF28A14';

/** Where things live on the host. */
export const HOST_PATHS = {
  home: '/home/openclaw',
  app: '/home/openclaw/openclaw-app',
  stateDir: '/home/openclaw/.openclaw',
  config: '/home/openclaw/.openclaw/openclaw.json',
  logDir: '/var/log/openclaw',
  setupLog: '/var/log/openclaw/setup.log',
  journalLog: '/var/log/openclaw/journal.log',
  cloudWatchAgentConfig: '/opt/aws/amazon-cloudwatch-agent/etc/openclaw-agent.json',
  backupScript: '/usr/local/sbin/openclaw-backup',
} as const;

/** Ollama from its release tarball, verified by SHA-256 before anything is unpacked. */
export interface OllamaBootOptions {
  readonly version: string;
  readonly sha256: string;
  /** `amd64` or `arm64`. */
  readonly arch: string;
}

/** Everything the setup script needs; values may be CDK tokens. */
export interface BootOptions {
  readonly openClawVersion: string;
  readonly nodeMajorVersion: number;
  readonly region: string;
  readonly gatewayPort: number;
  /** openclaw.json, rendered by OpenClawConfig (never contains a secret value). */
  readonly configJson: string;
  /** Source of the exec secret resolver (starts with its `#!` line). */
  readonly resolverScript: string;
  /**
   * Where the resolver is installed; OpenClaw runs it only if the gateway user owns it and nobody else can write it.
   * @default - no resolver is installed
   */
  readonly resolverPath?: string;
  /** The bucket the daily state backup is copied to. */
  readonly backupBucketName: string;
  readonly logGroupName: string;
  /** EFS file system id mounted at the state directory, when agent data lives on EFS. */
  readonly fileSystemId?: string;
  readonly ollama?: OllamaBootOptions;
}

/** The systemd unit of the gateway: an unprivileged user in a sandbox that sees only its own home. */
export function renderGatewayUnit(options: { gatewayPort: number; region: string }): string {
  return [
    '[Unit]',
    'Description=OpenClaw gateway',
    'Documentation=https://docs.openclaw.ai',
    'After=network-online.target',
    'Wants=network-online.target',
    'StartLimitBurst=10',
    'StartLimitIntervalSec=300',
    '',
    '[Service]',
    'Type=simple',
    'User=openclaw',
    'Group=openclaw',
    `WorkingDirectory=${HOST_PATHS.home}`,
    `Environment=HOME=${HOST_PATHS.home}`,
    'Environment=NODE_ENV=production',
    `Environment=OPENCLAW_STATE_DIR=${HOST_PATHS.stateDir}`,
    `Environment=OPENCLAW_CONFIG_PATH=${HOST_PATHS.config}`,
    // The instance role is the only credential: AWS_PROFILE=default lets OpenClaw's Bedrock credential check pass.
    'Environment=AWS_PROFILE=default',
    `Environment=AWS_REGION=${options.region}`,
    // systemd, not OpenClaw, supervises this gateway: OpenClaw must not try to install or repair a unit of its own.
    'Environment=OPENCLAW_SUPERVISOR_MODE=external',
    'Environment=OPENCLAW_SERVICE_REPAIR_POLICY=external',
    `ExecStart=${HOST_PATHS.app}/node_modules/.bin/openclaw gateway --port ${options.gatewayPort}`,
    'Restart=always',
    'RestartSec=5',
    // Exit status 78 is OpenClaw's "configuration error": restarting would only loop.
    'RestartPreventExitStatus=78',
    'SuccessExitStatus=0 143',
    'TimeoutStartSec=30',
    // OpenClaw drains agent runs on stop for up to five minutes.
    'TimeoutStopSec=330',
    'KillMode=mixed',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ProtectHome=tmpfs',
    `BindPaths=${HOST_PATHS.home}`,
    'PrivateTmp=true',
    'PrivateDevices=true',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectKernelLogs=true',
    'ProtectControlGroups=true',
    'ProtectClock=true',
    'ProtectHostname=true',
    'RestrictSUIDSGID=true',
    'RestrictRealtime=true',
    'RestrictNamespaces=true',
    'LockPersonality=true',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Copies the journal of the gateway (and Ollama) into a file the CloudWatch agent ships. */
export function renderJournalForwarderUnit(): string {
  return [
    '[Unit]',
    'Description=Forward the OpenClaw journal to a file shipped by the CloudWatch agent',
    'After=systemd-journald.service',
    '',
    '[Service]',
    `ExecStart=/bin/sh -c 'exec journalctl --follow --no-tail --output=short-iso -u openclaw.service -u ollama.service >> ${HOST_PATHS.journalLog}'`,
    'Restart=always',
    'RestartSec=5',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    `ReadWritePaths=${HOST_PATHS.logDir}`,
    'ProtectHome=true',
    'PrivateTmp=true',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The CloudWatch agent: the gateway journal and the setup log, memory and root disk use. */
export function renderCloudWatchAgentConfig(logGroupName: string): string {
  const config = {
    agent: { metrics_collection_interval: 60, run_as_user: 'root' },
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            { file_path: HOST_PATHS.journalLog, log_group_name: logGroupName, log_stream_name: '{instance_id}/openclaw', timestamp_format: '%Y-%m-%dT%H:%M:%S' },
            { file_path: HOST_PATHS.setupLog, log_group_name: logGroupName, log_stream_name: '{instance_id}/setup' },
            { file_path: '/var/log/cloud-init-output.log', log_group_name: logGroupName, log_stream_name: '{instance_id}/cloud-init' },
          ],
        },
      },
    },
    metrics: {
      namespace: 'CWAgent',
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      aggregation_dimensions: [['InstanceId']],
      metrics_collected: {
        mem: { measurement: ['mem_used_percent'] },
        disk: { measurement: ['disk_used_percent'], resources: ['/'], drop_device: true },
      },
    },
  };
  return JSON.stringify(config);
}

/**
 * Which install scripts of the gateway's dependencies npm may run (the `allowScripts` field of the app's
 * package.json). npm 11.19 runs an unlisted dependency's script with a notice; npm 12 skips it; `false` skips it on
 * both. Every dependency of OpenClaw that has an install script is listed, so both npm versions install the same.
 */
export const OPENCLAW_ALLOW_SCRIPTS: Readonly<Record<string, boolean>> = {
  // Its postinstall completes the package: it removes the lifecycle-pending marker (without it the CLI replays the
  // lifecycle itself on every start and exits with "package lifecycle is incomplete" if that fails), prunes stale
  // dist files and restores the native fs-safe addon. Its preinstall checks the Node.js version first.
  'openclaw': true,
  // Its install script only checks that the prebuilt binary of its platform package (@koromix/koffi-linux-x64 or
  // -arm64) loads, and otherwise compiles from source with CMake, which the host does not have.
  'koffi': false,
  // Its postinstall only warns about a dependent's version scheme.
  'protobufjs': false,
  // Its preinstall is an echo.
  '@google/genai': false,
};

/**
 * The package.json of the gateway's app directory: OpenClaw at exactly the pinned version, and the install-script
 * policy. Names only (no `name@version` keys): npm matches a pinned key against the lockfile's resolved URL, which
 * a lockfile written with omit-lockfile-registry-resolved lacks.
 */
export function renderAppPackageJson(openClawVersion: string): string {
  return JSON.stringify({
    name: 'openclaw-app',
    private: true,
    dependencies: { openclaw: openClawVersion },
    allowScripts: OPENCLAW_ALLOW_SCRIPTS,
  });
}

/**
 * The setup script. cloud-init runs it on every boot (so a changed configuration applies after the stop and
 * start CloudFormation performs on a user data change); every step is idempotent. No secret value is in it:
 * secrets are fetched by OpenClaw through the exec resolver when it needs them.
 */
export function renderSetupScript(options: BootOptions): string {
  const arch = '$(uname -m)';
  const lines: string[] = [
    '#!/bin/bash',
    'set -euo pipefail',
    'umask 022',
    `mkdir -p ${HOST_PATHS.logDir}`,
    `exec > >(tee -a ${HOST_PATHS.setupLog}) 2>&1`,
    'log() { echo "[setup-openclaw] $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }',
    'log "start"',
    // The budget tier gets its public address a moment after boot: wait (bounded) until the internet answers.
    'for i in $(seq 1 60); do curl --silent --head --max-time 5 --output /dev/null https://rpm.nodesource.com && break; log "waiting for the network ($i)"; sleep 5; done',
    '',
    'log "system packages"',
    'dnf install -y --setopt=install_weak_deps=False amazon-cloudwatch-agent jq gnupg2 tar zstd openssl git',
    '',
    `log "Node.js ${options.nodeMajorVersion} from NodeSource, signing key pinned by fingerprint"`,
    'key=$(mktemp)',
    `curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$key" ${NODESOURCE_KEY_URL}`,
    'fpr=$(gpg --show-keys --with-colons "$key" | awk -F: \'/^fpr:/ { print $10; exit }\')',
    `if [ "$fpr" != "${NODESOURCE_KEY_FINGERPRINT}" ]; then log "NodeSource key fingerprint $fpr is not the pinned one"; exit 1; fi`,
    'install -m 0644 "$key" /etc/pki/rpm-gpg/NODESOURCE-GPG-KEY && rm -f "$key"',
    'rpm --import /etc/pki/rpm-gpg/NODESOURCE-GPG-KEY',
    'cat > /etc/yum.repos.d/nodesource-nodejs.repo <<EOF',
    '[nodesource-nodejs]',
    `name=Node.js ${options.nodeMajorVersion}.x from NodeSource`,
    `baseurl=https://rpm.nodesource.com/pub_${options.nodeMajorVersion}.x/nodistro/nodejs/${arch}`,
    'enabled=1',
    'gpgcheck=1',
    'gpgkey=file:///etc/pki/rpm-gpg/NODESOURCE-GPG-KEY',
    'priority=9',
    'module_hotfixes=1',
    'EOF',
    'dnf install -y nodejs',
    '',
    'log "openclaw user"',
    'id openclaw >/dev/null 2>&1 || useradd --system --create-home --home-dir /home/openclaw --shell /sbin/nologin openclaw',
    `install -d -m 0700 -o openclaw -g openclaw ${HOST_PATHS.stateDir}`,
    // The instance role is the only credential; a default profile with the region lets SDK and CLI find it.
    `install -d -m 0700 -o openclaw -g openclaw ${HOST_PATHS.home}/.aws`,
    `printf '[default]\nregion = %s\n' '${options.region}' > ${HOST_PATHS.home}/.aws/config`,
    `chown openclaw:openclaw ${HOST_PATHS.home}/.aws/config && chmod 0600 ${HOST_PATHS.home}/.aws/config`,
  ];
  if (options.fileSystemId) {
    lines.push(
      '',
      'log "agent data on EFS (TLS, IAM authorization)"',
      'dnf install -y amazon-efs-utils',
      `grep -q '${options.fileSystemId}' /etc/fstab || echo '${options.fileSystemId}:/ ${HOST_PATHS.stateDir} efs _netdev,tls,iam,noresvport 0 0' >> /etc/fstab`,
      `mountpoint -q ${HOST_PATHS.stateDir} || mount ${HOST_PATHS.stateDir}`,
      `chown openclaw:openclaw ${HOST_PATHS.stateDir} && chmod 0700 ${HOST_PATHS.stateDir}`,
    );
  }
  lines.push(
    '',
    `log "OpenClaw ${options.openClawVersion}, installed by the openclaw user (no root, no -g)"`,
    // npm 11.19+ refuses --allow-scripts in a directory with a package.json (EALLOWSCRIPTS): the policy lives in the
    // app's own package.json, written on every boot (so a changed version or policy applies, and a package.json left
    // by an older setup script is replaced), by the openclaw user (root never writes into a directory another user owns).
    `runuser -u openclaw -- mkdir -p ${HOST_PATHS.app}`,
    `runuser -u openclaw -- tee ${HOST_PATHS.app}/package.json >/dev/null <<'OPENCLAW_PACKAGE_EOF'`,
    renderAppPackageJson(options.openClawVersion),
    'OPENCLAW_PACKAGE_EOF',
    `runuser -u openclaw -- bash -c 'set -euo pipefail; cd ${HOST_PATHS.app}; npm install --no-fund --no-audit'`,
  );
  if (options.resolverPath) {
    lines.push(
      '',
      'log "exec secret resolver: owned by the gateway user (OpenClaw refuses anything else), in a root-owned directory"',
      `install -d -m 0755 -o root -g root ${dirname(options.resolverPath)}`,
      // Compressed: EC2 user data is limited to 16 KB.
      `base64 -d <<'OPENCLAW_RESOLVER_EOF' | gunzip > ${options.resolverPath}.new`,
      ...chunk(zlib.gzipSync(options.resolverScript, { level: 9 }).toString('base64'), 76),
      'OPENCLAW_RESOLVER_EOF',
      `install -m 0500 -o openclaw -g openclaw ${options.resolverPath}.new ${options.resolverPath} && rm -f ${options.resolverPath}.new`,
    );
  }
  lines.push(
    '',
    'log "openclaw.json, validated before the gateway starts"',
    `cat > ${HOST_PATHS.config}.new <<'OPENCLAW_CONFIG_EOF'`,
    options.configJson.trimEnd(),
    'OPENCLAW_CONFIG_EOF',
    `if ! jq empty ${HOST_PATHS.config}.new; then log "openclaw.json is not valid JSON:"; cat ${HOST_PATHS.config}.new; exit 1; fi`,
    // OpenClaw's own schema check, as the gateway user (it checks that the exec resolver, installed above, is there and
    // readable): a configuration the installed OpenClaw would refuse never replaces the running one.
    `if ! runuser -u openclaw -- env OPENCLAW_STATE_DIR=${HOST_PATHS.stateDir} OPENCLAW_CONFIG_PATH=${HOST_PATHS.config}.new ${HOST_PATHS.app}/node_modules/.bin/openclaw config validate; then log "openclaw.json is refused by OpenClaw ${options.openClawVersion}; the previous one stays"; exit 1; fi`,
    `install -m 0600 -o openclaw -g openclaw ${HOST_PATHS.config}.new ${HOST_PATHS.config} && rm -f ${HOST_PATHS.config}.new`,
  );
  lines.push(...renderBackupTimer(options.backupBucketName));
  if (options.ollama) {
    lines.push(...renderOllamaInstall(options.ollama));
  }
  lines.push(
    '',
    'log "system units"',
    "cat > /etc/systemd/system/openclaw.service <<'OPENCLAW_UNIT_EOF'",
    renderGatewayUnit({ gatewayPort: options.gatewayPort, region: options.region }).trimEnd(),
    'OPENCLAW_UNIT_EOF',
    "cat > /etc/systemd/system/openclaw-journal.service <<'OPENCLAW_UNIT_EOF'",
    renderJournalForwarderUnit().trimEnd(),
    'OPENCLAW_UNIT_EOF',
    '',
    'log "CloudWatch agent"',
    `cat > ${HOST_PATHS.cloudWatchAgentConfig} <<'OPENCLAW_CWAGENT_EOF'`,
    renderCloudWatchAgentConfig(options.logGroupName),
    'OPENCLAW_CWAGENT_EOF',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${HOST_PATHS.cloudWatchAgentConfig}`,
    '',
    'systemctl daemon-reload',
    'systemctl enable --now openclaw-journal.service openclaw-backup.timer',
    'systemctl enable openclaw.service',
    'systemctl restart openclaw.service',
    'log "done"',
    '',
  );
  return lines.join('\n');
}

function renderOllamaInstall(ollama: OllamaBootOptions): string[] {
  const url = `https://github.com/ollama/ollama/releases/download/${ollama.version}/ollama-linux-${ollama.arch}.tar.zst`;
  return [
    '',
    `log "Ollama ${ollama.version} from its release tarball, verified by SHA-256"`,
    'id ollama >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/ollama --shell /sbin/nologin ollama',
    'install -d -m 0750 -o ollama -g ollama /var/lib/ollama',
    `if ! /usr/local/bin/ollama --version 2>/dev/null | grep -q '${ollama.version.replace(/^v/, '')}'; then`,
    '  tmp=$(mktemp -d)',
    `  curl --fail --silent --show-error --location --proto '=https' --tlsv1.2 -o "$tmp/ollama.tar.zst" ${url}`,
    `  echo "${ollama.sha256}  $tmp/ollama.tar.zst" | sha256sum --check --strict`,
    '  tar --use-compress-program=unzstd -xf "$tmp/ollama.tar.zst" -C "$tmp"',
    '  install -m 0755 "$tmp/bin/ollama" /usr/local/bin/ollama',
    '  rm -rf "$tmp"',
    'fi',
    "cat > /etc/systemd/system/ollama.service <<'OLLAMA_UNIT_EOF'",
    '[Unit]',
    'Description=Ollama (local models for OpenClaw)',
    'After=network-online.target',
    '',
    '[Service]',
    'User=ollama',
    'Group=ollama',
    'Environment=HOME=/var/lib/ollama',
    'Environment=OLLAMA_HOST=127.0.0.1:11434',
    'ExecStart=/usr/local/bin/ollama serve',
    'Restart=always',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'ProtectHome=true',
    'ReadWritePaths=/var/lib/ollama',
    'PrivateTmp=true',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    'OLLAMA_UNIT_EOF',
    'systemctl daemon-reload && systemctl enable --now ollama.service',
  ];
}

/** A daily copy of the state directory to the backup bucket (SSE-KMS by bucket default), at a random minute. */
function renderBackupTimer(bucketName: string): string[] {
  return [
    '',
    'log "daily state backup to S3"',
    `cat > ${HOST_PATHS.backupScript} <<'OPENCLAW_BACKUP_EOF'`,
    '#!/bin/bash',
    'set -euo pipefail',
    'stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)',
    'instance=$(cat /var/lib/cloud/data/instance-id)',
    `tar -C ${HOST_PATHS.home} --exclude='.openclaw/**/node_modules' -czf - .openclaw | aws s3 cp --only-show-errors - "s3://${bucketName}/state/$instance/openclaw-$stamp.tar.gz"`,
    'OPENCLAW_BACKUP_EOF',
    `chmod 0700 ${HOST_PATHS.backupScript}`,
    "cat > /etc/systemd/system/openclaw-backup.service <<'OPENCLAW_UNIT_EOF'",
    '[Unit]',
    'Description=Copy the OpenClaw state directory to the backup bucket',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${HOST_PATHS.backupScript}`,
    'NoNewPrivileges=true',
    'PrivateTmp=true',
    'OPENCLAW_UNIT_EOF',
    "cat > /etc/systemd/system/openclaw-backup.timer <<'OPENCLAW_UNIT_EOF'",
    '[Unit]',
    'Description=Daily OpenClaw state backup',
    '[Timer]',
    'OnCalendar=daily',
    'RandomizedDelaySec=1h',
    'Persistent=true',
    '[Install]',
    'WantedBy=timers.target',
    'OPENCLAW_UNIT_EOF',
  ];
}

function chunk(text: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
