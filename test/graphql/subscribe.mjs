// Subscribes to a live server with the two npm clients a frontend would use,
// graphql-ws (the graphql-transport-ws protocol, over the ws package) and
// graphql-sse (distinct connections mode, over Node's fetch), and checks
// that each receives exactly the events that writes through GraphQL and
// through the REST API cause, in order and as its own viewer sees them,
// and that each ends cleanly when it stops.
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import WebSocket from 'ws';

const endpoint = process.argv[2];
if (!endpoint) {
  console.error('usage: node subscribe.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}
const wsURL = endpoint.replace(/^http/, 'ws');
const restURL = (path) => new URL('/api' + path, endpoint).href;
const metricsURL = new URL('/metrics', endpoint).href;

// The whole check stays well under 30 s; a step that waits gets 10 s.
const stepTimeout = 10_000;
const watchdog = setTimeout(() => fail('the check did not finish within 25 s'), 25_000);

let cleanup = () => {};
function fail(message) {
  console.error(`subscriptions: ${message}`);
  try {
    cleanup();
  } finally {
    process.exit(1);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// waitFor polls cond every 20 ms until it holds, and fails with what() once
// stepTimeout has passed.
async function waitFor(cond, what) {
  const deadline = Date.now() + stepTimeout;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) fail(`timed out after ${stepTimeout / 1000} s waiting for ${what()}`);
    await sleep(20);
  }
}

async function gql(query, variables, token) {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Token ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (!res.ok || body.errors) fail(`${query.split('(')[0]}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

// payload returns the one field of a mutation's result, failing on user errors.
function payload(data) {
  const [name, p] = Object.entries(data)[0];
  if (p.userErrors.length > 0) fail(`${name}: ${JSON.stringify(p.userErrors)}`);
  return p;
}

async function register(username) {
  const p = payload(await gql(
    'mutation($in: RegisterInput!) { register(input: $in) { token user { username } userErrors { field message code } } }',
    { in: { username, email: `${username}@example.com`, password: 'subscribe-check' } },
  ));
  return { username: p.user.username, token: p.token };
}

async function createArticle(user, title) {
  const p = payload(await gql(
    'mutation($in: CreateArticleInput!) { createArticle(input: $in) { article { slug } userErrors { field message code } } }',
    { in: { title, description: 'for the subscription check', body: 'Read live.' } },
    user.token,
  ));
  return p.article.slug;
}

// gauges reads two gauges of the replica's /metrics (public in development):
// the subscriptions its hub holds and the streaming connections it has open.
// A subscription is in the hub from the moment a write can reach it, which
// neither protocol tells the client: graphql-transport-ws acknowledges no
// subscribe, and the SSE response starts before the subscription does.
async function gauges() {
  const res = await fetch(metricsURL);
  if (!res.ok) fail(`GET ${metricsURL}: HTTP ${res.status}`);
  const text = await res.text();
  const read = (name) => {
    const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    if (!m) fail(`GET ${metricsURL} has no ${name}`);
    return Number(m[1]);
  };
  return { subscriptions: read('conduit_subscriptions_open'), connections: read('conduit_subscription_connections_open') };
}

// collect subscribes through client and records every result; done settles
// when the client completes the subscription, and fails the check if the
// client reports an error instead.
function collect(client, name, query, variables) {
  const s = { name, results: [], completed: false };
  s.done = new Promise((resolve) => {
    s.dispose = client.subscribe({ query, variables }, {
      next: (result) => s.results.push(result),
      error: (err) => fail(`${name}: error: ${describe(err)}`),
      complete: () => {
        s.completed = true;
        resolve();
      },
    });
  });
  return s;
}

function describe(err) {
  if (err && typeof err === 'object' && 'code' in err && 'reason' in err) return `closed with ${err.code} ${err.reason}`;
  if (err instanceof Error) return err.message;
  return JSON.stringify(err);
}

// The two authors: bob follows alice, so `following` says true to bob of
// alice's comments and false to alice, who does not follow bob.
const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const alice = await register(`alice-${suffix}`);
const bob = await register(`bob-${suffix}`);
payload(await gql(
  'mutation($in: FollowProfileInput!) { followProfile(input: $in) { profile { following } userErrors { field message code } } }',
  { in: { username: alice.username } },
  bob.token,
));
const slug = await createArticle(alice, `Live ${suffix}`);

const before = await gauges();

const closes = [];
const ws = createWSClient({
  url: wsURL,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Token ${bob.token}` },
  retryAttempts: 0,
  on: { closed: (event) => closes.push(event) },
});
const sse = createSSEClient({
  url: endpoint,
  fetchFn: fetch,
  headers: { Authorization: `Token ${alice.token}` },
  retryAttempts: 0,
});
cleanup = () => {
  ws.dispose();
  sse.dispose();
};

const commentAdded = 'subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username following } } }';
const subs = {
  wsComments: collect(ws, 'graphql-ws commentAdded', commentAdded, { slug }),
  wsArticles: collect(ws, 'graphql-ws articlePublished', 'subscription { articlePublished { slug title author { username following } } }'),
  sseComments: collect(sse, 'graphql-sse commentAdded', commentAdded, { slug }),
};

await waitFor(
  async () => (await gauges()).subscriptions >= before.subscriptions + 3,
  () => `the server to hold the 3 subscriptions (conduit_subscriptions_open was ${before.subscriptions} before them)`,
);

// One comment through GraphQL (bob's), one through the REST API (alice's),
// then a new article by alice for bob's feed.
const viaGraphQL = `through GraphQL ${suffix}`;
const viaREST = `through REST ${suffix}`;
payload(await gql(
  'mutation($in: AddCommentInput!) { addComment(input: $in) { comment { body } userErrors { field message code } } }',
  { in: { articleSlug: slug, body: viaGraphQL } },
  bob.token,
));
const res = await fetch(restURL(`/articles/${encodeURIComponent(slug)}/comments`), {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Token ${alice.token}` },
  body: JSON.stringify({ comment: { body: viaREST } }),
});
if (!res.ok) fail(`POST /api/articles/${slug}/comments: HTTP ${res.status} ${await res.text()}`);
const published = await createArticle(alice, `Fresh ${suffix}`);

const comment = (body, username, following) => ({ data: { commentAdded: { body, author: { username, following } } } });
const want = {
  wsComments: [comment(viaGraphQL, bob.username, false), comment(viaREST, alice.username, true)],
  wsArticles: [{ data: { articlePublished: { slug: published, title: `Fresh ${suffix}`, author: { username: alice.username, following: true } } } }],
  sseComments: [comment(viaGraphQL, bob.username, false), comment(viaREST, alice.username, false)],
};

await waitFor(
  () => Object.entries(want).every(([k, w]) => subs[k].results.length >= w.length),
  () => 'the events: ' + Object.entries(want).map(([k, w]) => `${subs[k].name} ${subs[k].results.length}/${w.length}`).join(', '),
);
// Room for an event that should not come (a duplicate, an echo) to arrive.
await sleep(300);
for (const [k, w] of Object.entries(want)) {
  const got = JSON.stringify(subs[k].results);
  if (got !== JSON.stringify(w)) fail(`${subs[k].name}:\n  got  ${got}\n  want ${JSON.stringify(w)}`);
}

// Stop each subscription: the clients complete them, and the server lets go
// of the subscriptions and the connections.
for (const s of Object.values(subs)) s.dispose();
await waitFor(
  () => Object.values(subs).every((s) => s.completed),
  () => 'the clients to complete: ' + Object.values(subs).filter((s) => !s.completed).map((s) => s.name).join(', ') + ' did not',
);
await waitFor(() => closes.length > 0, () => 'graphql-ws to close its socket once no subscription used it');
const [close] = closes;
if (close.code !== 1000 || !close.wasClean) fail(`graphql-ws: socket closed with ${close.code} ${close.reason} (clean: ${close.wasClean}), want 1000`);
ws.dispose();
sse.dispose();
cleanup = () => {};
let after;
await waitFor(
  async () => {
    after = await gauges();
    return after.subscriptions === before.subscriptions && after.connections === before.connections;
  },
  () => `the server to let go: subscriptions ${after?.subscriptions} (want ${before.subscriptions}), connections ${after?.connections} (want ${before.connections})`,
);

clearTimeout(watchdog);
const count = (...ks) => `${ks.reduce((n, k) => n + subs[k].results.length, 0)}/${ks.reduce((n, k) => n + want[k].length, 0)} events`;
console.log(`subscriptions: graphql-ws ${count('wsComments', 'wsArticles')}, graphql-sse ${count('sseComments')}`);
