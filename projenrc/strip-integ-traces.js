// Removes construct creation traces from the integ snapshots' metadata files: they record file paths of the machine
// that wrote the snapshot, and integ-runner compares templates only, so they carry nothing a check needs.
const fs = require('fs');
const path = require('path');

const integ = path.join(__dirname, '..', 'integ');
let cleaned = 0;
for (const dir of fs.readdirSync(integ).filter((d) => d.endsWith('.snapshot'))) {
  for (const file of fs.readdirSync(path.join(integ, dir)).filter((f) => f.endsWith('.metadata.json'))) {
    const full = path.join(integ, dir, file);
    const metadata = JSON.parse(fs.readFileSync(full, 'utf8'));
    for (const [key, entries] of Object.entries(metadata)) {
      const kept = entries.filter((e) => e.type !== 'aws:cdk:creationStack').map((e) => {
        const { trace, ...rest } = e;
        return rest;
      });
      if (kept.length > 0) metadata[key] = kept;
      else delete metadata[key];
    }
    fs.writeFileSync(full, JSON.stringify(metadata, null, 2) + '\n');
    cleaned++;
  }
}
console.log(`stripped creation traces from ${cleaned} metadata files`);
