#!/usr/bin/env node
// The registry this project is built from carries only the Linux builds of some platform-specific optional
// packages, so npm leaves the other platforms out of package-lock.json and `npm ci` then refuses the lock as out
// of sync. This adds the missing entries (no download happens for another platform). Run after `npm install`:
//   node projenrc/complete-lockfile.js package-lock.json
const fs = require('fs');
const file = process.argv[2];
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
let added = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [name, range] of Object.entries(pkg.optionalDependencies ?? {})) {
    const base = key === '' ? '' : key + '/';
    if (lock.packages[`node_modules/${name}`] || lock.packages[`${base}node_modules/${name}`]) continue;
    const m = /resolver-binding-([a-z0-9]+)-([a-z0-9]+)(?:-([a-z0-9]+))?$/.exec(name);
    if (!m) { console.error('unknown optional', name); continue; }
    const [, os, cpu, abi] = m;
    const entry = { version: range.replace(/^[\^~]/, ''), dev: true, optional: true, cpu: [os === 'wasm32' ? 'wasm32' : cpu] };
    if (os !== 'wasm32') entry.os = [os];
    if (abi === 'gnu' || abi === 'musl') entry.libc = [abi === 'gnu' ? 'glibc' : 'musl'];
    lock.packages[`node_modules/${name}`] = entry;
    added++;
  }
}
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log('added', added);
