/**
 * The contract of the in-memory cluster (test/platform/self-service/memory-kube.ts), which the fast unit tests of the
 * self-service handlers run against: every case below is played through the `Kube` interface against the in-memory
 * cluster and against a REAL API server (support/kubernetes.ts, through the library's own client), and both must
 * give the same outcomes: what each call returned or threw (status and reason), and what the objects look like
 * afterwards (the fields the handlers read). A case the in-memory cluster gets wrong fails here, not in production.
 *
 * The real side acts as cluster administrator: authorization and the admission policy are the provisioning file's
 * concern; this file is about the API's semantics, which the in-memory cluster claims to model.
 */
import { KubernetesControlPlane } from './support/kubernetes';
import { waitFor } from './support/servers';
import { samplePlatform, sampleTenant } from '../../oracles/lib/tenant-sample';
import { DEPROVISION_FIELD_MANAGER, FIELD_MANAGER, Kube, KubeError, KubeRef, ROTATION_FIELD_MANAGER, TOKEN_VERSION_ANNOTATION } from '../../src/platform/self-service/contract';
import { KubeClient } from '../../src/platform/self-service/kube-client';
import { renderTenant } from '../../src/platform/tenant-manifests';
import { MemoryKube } from '../platform/self-service/memory-kube';

let plane: KubernetesControlPlane;
let real: Kube;

beforeAll(async () => {
  plane = await KubernetesControlPlane.start({ timeoutMs: 60_000 });
  real = new KubeClient({ endpoint: plane.endpoint, ca: plane.ca, token: () => plane.adminToken, timeoutMs: 20_000 });
}, 90_000);

afterAll(async () => {
  await KubernetesControlPlane.stopAll();
}, 60_000);

// ------------------------------------------------------------------------------------------------------------------
// Cases: steps on one tenant-like namespace, each recording an outcome.
// ------------------------------------------------------------------------------------------------------------------

/** What the handlers read back of an object: identity, labels, annotations, data and the spec fields they touch. */
function view(o: any): any {
  if (o === undefined) return 'absent';
  const pick = (value: any) => (value === undefined ? null : value);
  const template = o.spec?.template;
  return {
    name: o.metadata?.name,
    namespace: pick(o.metadata?.namespace),
    ourLabels: Object.fromEntries(Object.entries(o.metadata?.labels ?? {}).filter(([k]) => k.startsWith('app.') || k.startsWith('openclaw.') || k.startsWith('pod-security.'))),
    annotations: Object.fromEntries(Object.entries(o.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('openclaw.'))),
    data: pick(o.data),
    replicas: pick(o.spec?.replicas),
    templateAnnotations: pick(template?.metadata?.annotations?.[TOKEN_VERSION_ANNOTATION]),
    image: pick(template?.spec?.containers?.[0]?.image),
  };
}

type Step =
  | { readonly apply: any; readonly fieldManager?: string }
  | { readonly get: KubeRef }
  | { readonly delete: KubeRef }
  /** Polls (bounded) until the object is gone, then records its absence; a real namespace deletion takes seconds. */
  | { readonly gone: KubeRef };

interface Case {
  readonly name: string;
  readonly steps: (ns: string) => Step[];
}

const PLATFORM = samplePlatform();
const tenantObjects = (ns: string) => renderTenant(sampleTenant(ns.replace(/^openclaw-/, '')), PLATFORM).objects;
const namespaceObject = (ns: string) => tenantObjects(ns)[0];
const cm = (ns: string, data: Record<string, string>, name = 'settings') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'openclaw' } }, data });
const cmRef = (ns: string, name = 'settings'): KubeRef => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns });
const nsRef = (ns: string): KubeRef => ({ apiVersion: 'v1', kind: 'Namespace', name: ns });
const gatewayRef = (ns: string): KubeRef => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'openclaw', namespace: ns });
const gatewayPatch = (ns: string, spec: any) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'openclaw', namespace: ns }, spec });
const gateway = (ns: string) => tenantObjects(ns).find((o) => o.kind === 'Deployment');

const CASES: Case[] = [
  {
    name: 'apply creates; get returns the object; a re-apply of the same object changes nothing',
    steps: (ns) => [{ apply: namespaceObject(ns) }, { apply: cm(ns, { a: '1' }) }, { get: cmRef(ns) }, { apply: cm(ns, { a: '1' }) }, { get: cmRef(ns) }, { get: nsRef(ns) }],
  },
  {
    name: 'apply updates: a changed value replaces the old one',
    steps: (ns) => [{ apply: namespaceObject(ns) }, { apply: cm(ns, { a: '1' }) }, { apply: cm(ns, { a: '2' }) }, { get: cmRef(ns) }],
  },
  {
    name: 'a field its manager no longer applies is removed',
    steps: (ns) => [{ apply: namespaceObject(ns) }, { apply: cm(ns, { a: '1', b: '2' }) }, { apply: cm(ns, { a: '1' }) }, { get: cmRef(ns) }],
  },
  {
    name: 'another manager\'s field survives a re-apply by the first (the rotation\'s restart annotation)',
    steps: (ns) => [
      ...tenantObjects(ns).map((o) => ({ apply: o })),
      { apply: gatewayPatch(ns, { template: { metadata: { annotations: { [TOKEN_VERSION_ANNOTATION]: 'v2' } } } }), fieldManager: ROTATION_FIELD_MANAGER },
      { get: gatewayRef(ns) },
      { apply: gateway(ns) },
      { get: gatewayRef(ns) },
    ],
  },
  {
    name: 'a forced apply takes a field another manager set: the latest applier\'s value wins, whoever applied first',
    steps: (ns) => [
      ...tenantObjects(ns).map((o) => ({ apply: o })),
      { apply: gatewayPatch(ns, { replicas: 0 }), fieldManager: DEPROVISION_FIELD_MANAGER },
      { get: gatewayRef(ns) },
      { apply: gateway(ns) }, // the provisioner's replicas: 1, forced
      { get: gatewayRef(ns) },
      { apply: gatewayPatch(ns, { replicas: 0 }), fieldManager: DEPROVISION_FIELD_MANAGER },
      { get: gatewayRef(ns) },
    ],
  },
  {
    name: 'two managers applying the same value share it: one dropping it leaves it in place',
    steps: (ns) => [
      { apply: namespaceObject(ns) },
      { apply: cm(ns, { a: '1', b: '2' }) },
      { apply: cm(ns, { a: '1' }), fieldManager: ROTATION_FIELD_MANAGER },
      { apply: cm(ns, { b: '2' }) },
      { get: cmRef(ns) },
    ],
  },
  {
    name: 'a namespaced object in a namespace that does not exist is refused (404 NotFound)',
    steps: (ns) => [{ apply: cm(ns, { a: '1' }) }, { get: cmRef(ns) }],
  },
  {
    name: 'a partial Deployment (no selector, no template) is refused when it would create one (422 Invalid), accepted when it exists',
    steps: (ns) => [
      { apply: namespaceObject(ns) },
      { apply: gatewayPatch(ns, { replicas: 0 }), fieldManager: DEPROVISION_FIELD_MANAGER },
      { get: gatewayRef(ns) },
      { apply: gateway(ns) },
      { apply: gatewayPatch(ns, { replicas: 0 }), fieldManager: DEPROVISION_FIELD_MANAGER },
      { get: gatewayRef(ns) },
    ],
  },
  {
    name: 'get and delete of what does not exist: undefined and false',
    steps: (ns) => [{ get: nsRef(ns) }, { delete: nsRef(ns) }, { apply: namespaceObject(ns) }, { get: cmRef(ns, 'nothing') }, { delete: cmRef(ns, 'nothing') }],
  },
  {
    name: 'delete removes an object: true, then it is gone, and a second delete is false',
    steps: (ns) => [{ apply: namespaceObject(ns) }, { apply: cm(ns, { a: '1' }) }, { delete: cmRef(ns) }, { get: cmRef(ns) }, { delete: cmRef(ns) }],
  },
  {
    name: 'deleting a namespace deletes everything in it',
    steps: (ns) => [
      ...tenantObjects(ns).map((o) => ({ apply: o })),
      { delete: nsRef(ns) },
      { gone: nsRef(ns) },
      ...tenantObjects(ns).slice(1).map((o) => ({ get: { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: ns } })),
    ],
  },
];

/** JSON with object keys sorted: the API server's key order is not part of the contract. */
function canonical(value: unknown): string {
  const sort = (v: any): any => (Array.isArray(v) ? v.map(sort) : v !== null && typeof v === 'object'
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value));
}

/** Plays a case's steps; each step's outcome is a line (what a call returned, or the status and reason it threw). */
async function play(kube: Kube, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  const outcome = async (label: string, call: () => Promise<unknown>) => {
    try {
      const value = await call();
      out.push(`${label} -> ${canonical(value === undefined ? 'ok' : value)}`);
    } catch (e) {
      if (!(e instanceof KubeError)) throw e;
      out.push(`${label} -> ${e.status} ${e.reason}`);
    }
  };
  for (const step of steps) {
    if ('apply' in step) {
      const o = step.apply;
      await outcome(`apply ${o.kind} ${o.metadata.name} by ${step.fieldManager ?? FIELD_MANAGER}`, () => kube.apply(o, step.fieldManager ? { fieldManager: step.fieldManager } : {}));
    } else if ('get' in step) {
      await outcome(`get ${step.get.kind} ${step.get.name}`, async () => view(await kube.get(step.get)));
    } else if ('delete' in step) {
      await outcome(`delete ${step.delete.kind} ${step.delete.name}`, () => kube.delete(step.delete));
    } else {
      const ref = step.gone;
      await outcome(`${ref.kind} ${ref.name} eventually`, async () => {
        await waitFor(`${ref.kind} ${ref.name} to be gone`, 60_000, async () => (await kube.get(ref)) === undefined);
        return 'gone';
      });
    }
  }
  return out;
}

describe('the in-memory cluster behaves like a real API server', () => {
  let n = 0;
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // A fresh namespace per case on the real server; a fresh in-memory cluster per case.
    const ns = `openclaw-contract-${++n}`;
    const memory = await play(new MemoryKube(), c.steps(ns));
    const actual = await play(real, c.steps(ns));
    expect(memory).toEqual(actual);
  }, 120_000);
});
