// Runs the GraphQL-over-HTTP conformance audit of graphql-http against a
// live server and fails unless every MUST and every SHOULD passes.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

const tally = { MUST: { ok: 0, all: 0 }, SHOULD: { ok: 0, all: 0 }, MAY: { ok: 0, all: 0 } };
const failures = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const level = audit.name.split(' ')[0];
  const t = tally[level] ?? (tally[level] = { ok: 0, all: 0 });
  t.all++;
  if (result.status === 'ok') {
    t.ok++;
  } else if (level === 'MUST' || level === 'SHOULD') {
    failures.push(`${audit.id} ${audit.name}: ${result.reason}`);
  }
}
for (const [level, t] of Object.entries(tally)) {
  console.log(`graphql-http audit: ${level} ${t.ok}/${t.all}`);
}
if (failures.length > 0) {
  console.error('failed audits:\n  ' + failures.join('\n  '));
  process.exit(1);
}
