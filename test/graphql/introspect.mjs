// Loads the schema from a live server the way client tooling does
// (introspection query -> buildClientSchema -> assertValidSchema), and
// checks that the committed schema.graphql is exactly what the server
// serves at /graphql/schema.graphql and means the same as what
// introspection reports.
import { readFile } from 'node:fs/promises';
import {
  GraphQLSchema, assertValidSchema, buildClientSchema, buildSchema, getIntrospectionQuery,
  lexicographicSortSchema, printSchema,
} from 'graphql';

const [endpoint, committedPath] = process.argv.slice(2);
if (!endpoint || !committedPath) {
  console.error('usage: node introspect.mjs http://127.0.0.1:PORT/graphql schema.graphql');
  process.exit(2);
}

const res = await fetch(endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
  body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }) }),
});
const body = await res.json();
if (!res.ok || body.errors) {
  console.error(`introspection failed: HTTP ${res.status}`, JSON.stringify(body.errors ?? body));
  process.exit(1);
}
const served = buildClientSchema(body.data);
assertValidSchema(served);
const types = Object.keys(served.getTypeMap()).filter((n) => !n.startsWith('__'));
console.log(`introspection: valid schema with ${types.length} types (graphql-js buildClientSchema)`);

const committedText = await readFile(committedPath, 'utf8');
const sdlRes = await fetch(endpoint + '/schema.graphql');
const sdl = await sdlRes.text();
if (sdlRes.status !== 200 || sdl !== committedText) {
  console.error(`${committedPath} differs from GET ${endpoint}/schema.graphql (status ${sdlRes.status}): run 'make generate' and commit`);
  process.exit(1);
}
const committed = buildSchema(committedText);
// gqlgen adds @defer to every schema without printing it in the SDL; compare
// the types and the directives the SDL declares.
const declared = new Set(committed.getDirectives().map((d) => d.name));
const comparable = new GraphQLSchema({
  ...served.toConfig(),
  directives: served.getDirectives().filter((d) => declared.has(d.name) || d.name !== 'defer'),
});
const a = printSchema(lexicographicSortSchema(committed));
const b = printSchema(lexicographicSortSchema(comparable));
if (a !== b) {
  console.error(`${committedPath} and the introspected schema disagree`);
  process.exit(1);
}
console.log(`schema: ${committedPath} matches what the server serves`);
