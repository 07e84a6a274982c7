/**
 * Findings of the independent tools, in one shape, and the reviewed baseline they are held against.
 */

/** One thing one tool reported about one resource of one app's template (or one manifest or policy). */
export interface Finding {
  /** The tool: `cfn-lint`, `checkov`, `cfn-guard`, `kubectl-validate`, `kube-linter`, `pss`, `netpol`, `iam`. */
  readonly tool: string;
  /** The tool's id of the check, e.g. `CKV_AWS_18`, `E1152`, `CT.S3.PR.2`. */
  readonly check: string;
  /** The reference app (or manifest set) the finding is in. */
  readonly app: string;
  /** The template's logical id (or the manifest's kind/namespace/name, or the policy's principal). */
  readonly resource: string;
  /** What the tool said, for the report. */
  readonly message: string;
}

/** An accepted finding: which tool, check and resource, in which apps (all when omitted), and why. */
export interface BaselineEntry {
  readonly tool: string;
  readonly check: string;
  readonly resource: string;
  readonly apps?: string[];
  /** When given, the finding's message must be exactly this. */
  readonly message?: string;
  readonly reason: string;
}

/** The outcome of holding findings against the baseline. */
export interface BaselineResult {
  /** Findings no entry accepts: each fails the run. */
  readonly unexpected: Finding[];
  /** Findings an entry accepts. */
  readonly accepted: Finding[];
  /** Entries (or an entry's app) that match no finding any more: each fails the run (no stale excuses). */
  readonly stale: Array<{ entry: BaselineEntry; app: string }>;
}

const MIN_REASON = 40;

/** Fails unless every entry names a tool, a check and a resource, and gives a reason a reviewer can check. */
export function validateBaseline(entries: unknown, knownApps: string[]): BaselineEntry[] {
  if (!Array.isArray(entries)) throw new Error('the baseline must be a list of entries');
  return entries.map((raw, i) => {
    const e = raw as BaselineEntry;
    const where = `baseline entry ${i + 1} (${e?.tool} ${e?.check} ${e?.resource})`;
    for (const field of ['tool', 'check', 'resource', 'reason'] as const) {
      if (typeof e?.[field] !== 'string' || e[field].trim() === '') throw new Error(`${where}: ${field} must be a non-empty string`);
    }
    if (e.reason.trim().length < MIN_REASON) throw new Error(`${where}: the reason must say why in at least ${MIN_REASON} characters`);
    for (const app of e.apps ?? []) {
      if (!knownApps.includes(app)) throw new Error(`${where}: unknown app '${app}' (known: ${knownApps.join(', ')})`);
    }
    if (e.message !== undefined && typeof e.message !== 'string') throw new Error(`${where}: message must be a string`);
    const extra = Object.keys(e).filter((k) => !['tool', 'check', 'resource', 'apps', 'message', 'reason'].includes(k));
    if (extra.length > 0) throw new Error(`${where}: unknown field(s) ${extra.join(', ')}`);
    return e;
  });
}

/** Holds `findings` of the apps in `apps` against `baseline`. */
export function applyBaseline(findings: Finding[], baseline: BaselineEntry[], apps: string[]): BaselineResult {
  const matches = (e: BaselineEntry, f: Finding) =>
    e.tool === f.tool && e.check === f.check && e.resource === f.resource && (e.apps === undefined || e.apps.includes(f.app))
    && (e.message === undefined || e.message === f.message);
  const unexpected = findings.filter((f) => !baseline.some((e) => matches(e, f)));
  const accepted = findings.filter((f) => baseline.some((e) => matches(e, f)));
  const stale: Array<{ entry: BaselineEntry; app: string }> = [];
  for (const entry of baseline) {
    const relevant = (entry.apps ?? apps).filter((a) => apps.includes(a));
    if (entry.apps === undefined) {
      // An entry for every app must match in at least one of them.
      if (!findings.some((f) => matches(entry, f))) stale.push({ entry, app: '(any)' });
    } else {
      for (const app of relevant) {
        if (!findings.some((f) => f.app === app && matches(entry, f))) stale.push({ entry, app });
      }
    }
  }
  return { unexpected, accepted, stale };
}

/** cfn-lint's `--format json` output. */
export function parseCfnLint(output: string, app: string): Finding[] {
  const items = JSON.parse(output || '[]') as any[];
  return items.map((m) => ({
    tool: 'cfn-lint',
    check: m.Rule.Id,
    app,
    resource: m.Location?.Path?.[0] === 'Resources' ? String(m.Location.Path[1]) : String(m.Location?.Path?.[0] ?? '(template)'),
    message: m.Message,
  }));
}

/** checkov's `-o json` output: the failed checks, and how many passed and failed. */
export function parseCheckov(output: string, app: string): { findings: Finding[]; passed: number; failed: number } {
  const parsed = JSON.parse(output);
  const reports: any[] = Array.isArray(parsed) ? parsed : [parsed];
  const findings: Finding[] = [];
  let passed = 0;
  let failed = 0;
  for (const report of reports) {
    // An empty result (nothing to check) comes as a summary without results.
    passed += report.summary?.passed ?? 0;
    failed += report.summary?.failed ?? 0;
    for (const c of report.results?.failed_checks ?? []) {
      const resource = String(c.resource);
      const dot = resource.indexOf('.');
      findings.push({ tool: 'checkov', check: c.check_id, app, resource: dot >= 0 ? resource.slice(dot + 1) : resource, message: c.check_name });
    }
  }
  return { findings, passed, failed };
}

/** Splits the stream of JSON documents cfn-guard prints (one per rule file) into objects. */
export function splitJsonStream(text: string): any[] {
  const out: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {inString = true;} else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0) throw new Error('cfn-guard output ended inside a JSON document');
  return out;
}

/**
 * cfn-guard's `--output-format json` output: one finding per failing rule and resource (the control id, e.g.
 * `CT.S3.PR.2`, is the check), and how many rule files passed, failed or did not apply.
 */
export function parseGuard(output: string, app: string): { findings: Finding[]; pass: number; fail: number; skip: number } {
  const docs = splitJsonStream(output);
  const findings: Finding[] = [];
  let pass = 0;
  let fail = 0;
  let skip = 0;
  for (const doc of docs) {
    if (doc.status === 'PASS') pass++;
    else if (doc.status === 'SKIP') skip++;
    else fail++;
    for (const rule of doc.not_compliant ?? []) {
      const text = JSON.stringify(rule);
      const control = /\[(CT\.[A-Z0-9]+\.[A-Z]+\.\d+)\]/.exec(text)?.[1] ?? rule.Rule?.name ?? 'unknown';
      const resources = new Set([...text.matchAll(/"\/Resources\/([^/"]+)/g)].map((m) => m[1]));
      if (resources.size === 0) resources.add('(template)');
      for (const resource of resources) {
        findings.push({ tool: 'cfn-guard', check: control, app, resource, message: rule.Rule?.name ?? control });
      }
    }
  }
  return { findings, pass, fail, skip };
}
