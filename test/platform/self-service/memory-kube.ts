/**
 * An in-memory cluster API for handler tests: server-side apply with per-field-manager ownership (an object is the
 * merge of what each manager applied, so one manager's re-apply never removes another's fields), get and delete.
 * Like the API server it refuses a namespaced object whose namespace does not exist and the creation of a
 * Deployment without a selector and a pod template (a partial patch of a Deployment that is not there); a forced
 * apply takes over the fields it sets to another value from their other managers (the latest applier's value wins,
 * as on the API server; equal values stay shared), and deleting a namespace deletes what it holds.
 * test/real/kubernetes-contract.test.ts holds it to a real API server's behaviour.
 */
import { FIELD_MANAGER, Kube, KubeError, KubeRef } from '../../../src/platform/self-service/contract';

/** Wraps every call: the effect runs inside (tests inject failures before or after it). */
export type KubeInterceptor = (operation: string, effect: () => unknown) => unknown;

const key = (ref: KubeRef) => `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`;
const copy = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));

const isMap = (v: any) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Removes from `owned` (another manager's applied fields) every field `applied` sets to a different value: a forced
 * apply takes those fields over. Lists are atomic (a list is one field). Maps emptied by the removal go too.
 */
function release(owned: any, applied: any): void {
  for (const [k, v] of Object.entries(applied)) {
    if (!(k in owned)) continue;
    if (isMap(v) && isMap(owned[k])) {
      release(owned[k], v);
      if (Object.keys(owned[k]).length === 0 && Object.keys(v as object).length > 0) delete owned[k];
    } else if (JSON.stringify(owned[k]) !== JSON.stringify(v)) {
      delete owned[k];
    }
  }
}

function merge(base: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return copy(patch);
  const out = base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

export class MemoryKube implements Kube {
  /** Every successful apply, in order. */
  public readonly applied: { readonly object: any; readonly fieldManager: string }[] = [];
  public interceptor?: KubeInterceptor;
  private readonly managed = new Map<string, Map<string, any>>();

  public async apply(object: any, options: { readonly fieldManager?: string } = {}): Promise<void> {
    const ref: KubeRef = { apiVersion: object?.apiVersion, kind: object?.kind, name: object?.metadata?.name, namespace: object?.metadata?.namespace };
    const fieldManager = options.fieldManager ?? FIELD_MANAGER;
    await this.intercept(`apply ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, () => {
      if (!ref.apiVersion || !ref.kind || !ref.name) throw new KubeError(400, 'BadRequest', 'apply: apiVersion, kind and metadata.name are required');
      if (ref.kind === 'Namespace' ? ref.namespace !== undefined : !ref.namespace) {
        throw new KubeError(400, 'BadRequest', `apply ${ref.kind} ${ref.name}: wrong scope`);
      }
      if (ref.namespace && !this.managed.has(key({ apiVersion: 'v1', kind: 'Namespace', name: ref.namespace }))) {
        throw new KubeError(404, 'NotFound', `apply ${ref.kind} ${ref.name}: namespace ${ref.namespace} not found`);
      }
      const managers = this.managed.get(key(ref)) ?? new Map<string, any>();
      if (managers.size === 0 && ref.kind === 'Deployment' && (!object.spec?.selector || !object.spec?.template?.spec)) {
        throw new KubeError(422, 'Invalid', `apply Deployment ${ref.name}: spec.selector and spec.template are required`);
      }
      for (const [other, owned] of managers) {
        if (other !== fieldManager) release(owned, object);
      }
      managers.set(fieldManager, copy(object));
      this.managed.set(key(ref), managers);
      this.applied.push({ object: copy(object), fieldManager });
    });
  }

  public async get(ref: KubeRef): Promise<any | undefined> {
    return this.intercept(`get ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, () => this.object(ref));
  }

  public async delete(ref: KubeRef): Promise<boolean> {
    return this.intercept(`delete ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`, () => {
      const existed = this.managed.delete(key(ref));
      if (existed && ref.apiVersion === 'v1' && ref.kind === 'Namespace') {
        // The namespace controller deletes its contents (on a real cluster within seconds; here at once).
        for (const k of [...this.managed.keys()]) if (k.split('|')[2] === ref.name) this.managed.delete(k);
      }
      return existed;
    }) as Promise<boolean>;
  }

  /** The object as the API would return it (the merge of every manager's fields), or undefined. */
  public object(ref: KubeRef): any | undefined {
    const managers = this.managed.get(key(ref));
    if (!managers) return undefined;
    let out: any = {};
    // The default manager first, so that the others' fields (a restart annotation) show on top.
    const order = [...managers.keys()].sort((a, b) => (a === FIELD_MANAGER ? -1 : b === FIELD_MANAGER ? 1 : a.localeCompare(b)));
    for (const m of order) out = merge(out, managers.get(m));
    return out;
  }

  /** Every object, by `apiVersion|kind|namespace|name`, sorted. */
  public snapshot(): Record<string, any> {
    const out: Record<string, any> = {};
    for (const k of [...this.managed.keys()].sort()) {
      const [apiVersion, kind, namespace, name] = k.split('|');
      out[k] = this.object({ apiVersion, kind, name, namespace: namespace || undefined });
    }
    return out;
  }

  /** The field managers of one object. */
  public managers(ref: KubeRef): string[] {
    return [...(this.managed.get(key(ref))?.keys() ?? [])].sort();
  }

  private async intercept(operation: string, effect: () => unknown): Promise<any> {
    return this.interceptor ? this.interceptor(operation, effect) : effect();
  }
}
