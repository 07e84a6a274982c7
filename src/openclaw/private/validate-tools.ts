import { ToolsPolicyOptions } from '../tools';
import { fail, isToken } from './validate';

const TOOL_ENTRY = /^[A-Za-z0-9_*.:-]+$/;
const GROUP_ENTRY = /^group:[a-z][a-z0-9_-]*$/;

/** Validates the tool policy. */
export function validateTools(t: ToolsPolicyOptions): void {
  if (t.allow !== undefined && t.alsoAllow !== undefined) {
    fail('tools.alsoAllow', 'unset when tools.allow is set (OpenClaw rejects both in one scope; merge them into tools.allow)', t.alsoAllow);
  }
  for (const key of ['allow', 'alsoAllow', 'deny'] as const) {
    const list = t[key];
    if (list === undefined || isToken(list)) {
      continue;
    }
    list.forEach((entry, i) => {
      if (isToken(entry)) {
        return;
      }
      const ok = entry.startsWith('group:') ? GROUP_ENTRY.test(entry) : TOOL_ENTRY.test(entry);
      if (!ok) {
        fail(`tools.${key}[${i}]`, "a tool name, a '*' pattern or a group such as group:fs", entry);
      }
    });
  }
}
