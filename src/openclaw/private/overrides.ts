import { fail } from './validate';

/** The Control UI key OpenClaw retired; it is inert upstream and must never be written. */
const RETIRED_KEY = 'dangerouslydisabledeviceauth';

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** Splits a dot path (with `\.` escaping a literal dot) and checks each segment. */
export function parseOverridePath(path: string): string[] {
  if (typeof path !== 'string' || path === '') {
    fail('addOverride path', 'a non-empty dot-separated path', path);
  }
  const segments = path.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));
  for (const s of segments) {
    if (s === '' || FORBIDDEN_SEGMENTS.has(s)) {
      fail('addOverride path', 'dot-separated non-empty keys other than __proto__, prototype and constructor', path);
    }
  }
  return segments;
}

/** Refuses the retired key in a path or anywhere inside a value. */
export function assertNoRetiredKeys(path: string[], value: unknown): void {
  const visit = (v: unknown, where: string[]): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, [...where, String(i)]));
    } else if (isPlainObject(v)) {
      for (const [k, child] of Object.entries(v)) {
        check(k, [...where, k]);
        visit(child, [...where, k]);
      }
    }
  };
  const check = (key: string, where: string[]): void => {
    if (key.toLowerCase() === RETIRED_KEY) {
      fail(where.join('.'), 'absent: dangerouslyDisableDeviceAuth is retired by OpenClaw and never emitted (Control UI browsers pair as devices)', 'dangerouslyDisableDeviceAuth');
    }
  };
  path.forEach((k, i) => check(k, path.slice(0, i + 1)));
  visit(value, path);
}

/** Sets (or removes) the value at a path, creating intermediate objects. */
export function setAtPath(doc: any, path: string[], value: unknown, remove: boolean): void {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) {
      if (remove) {
        return;
      }
      node[key] = {};
    }
    node = node[key];
  }
  const last = path[path.length - 1];
  if (remove) {
    delete node[last];
  } else {
    node[last] = clonePlain(value);
  }
}

/**
 * Copies plain objects and arrays, dropping undefined values and sorting object keys so the
 * rendered file is stable. Anything else (strings, numbers, tokens) is kept as is.
 */
export function normalize(value: any): any {
  if (Array.isArray(value)) {
    return value.filter((v) => v !== undefined).map(normalize);
  }
  if (isPlainObject(value)) {
    const out: any = {};
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) {
        out[key] = normalize(value[key]);
      }
    }
    return out;
  }
  return value;
}

function clonePlain(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(clonePlain);
  }
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clonePlain(v)]));
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') {
    return false;
  }
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
