// Opens Swagger UI, ReDoc and GraphiQL from a live Conduit server in
// headless Chromium and fails on anything a person would see go wrong: a
// page that does not render, an operation missing, a "Try it out" call that
// does not come back, a script error, a console error, a request refused by
// the content security policy or answered with an error status.
//
//   node pages.mjs http://127.0.0.1:PORT SCREENSHOT_DIR
import { chromium } from 'playwright-core';

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node pages.mjs http://127.0.0.1:PORT SCREENSHOT_DIR');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--no-first-run', '--disable-component-update', '--disable-sync'],
});

// A user to sign in with, made through the legacy API.
const username = `browser${Date.now()}`;
const registered = await fetch(`${base}/api/users`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ user: { username, email: `${username}@example.com`, password: 'browser-password' } }),
});
if (registered.status !== 201) {
  console.error(`register: ${registered.status} ${await registered.text()}`);
  process.exit(1);
}
const { user: { token } } = await registered.json();
const spec = await (await fetch(`${base}/api/openapi.json`)).json();
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (op.operationId) operations.push({ method, path, id: op.operationId, tag: op.tags[0], summary: op.summary });
  }
}
if (operations.length !== 19) {
  console.error(`the document lists ${operations.length} operations, want 19`);
  process.exit(1);
}

const failures = [];
let checks = 0;

// visit opens url in a fresh page, runs check on it, takes a screenshot,
// and records every problem the page showed on the way.
async function visit(name, url, check) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    // A page that names no icon makes the browser ask for /favicon.ico, which
    // the server does not have.
    const favicon = new URL(msg.location().url || base).pathname === '/favicon.ico';
    if (msg.type() === 'error' && !favicon) problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (res.status() >= 400 && !(u.pathname === '/favicon.ico' && res.status() === 404) && !res.request().expectedError) {
      problems.push(`${res.status()} for ${res.request().method()} ${res.url()}`);
    }
    if (u.origin !== new URL(base).origin && !u.protocol.startsWith('data') && !u.protocol.startsWith('blob')) {
      problems.push(`a request to another origin: ${res.url()}`);
    }
  });
  // Violations of the content security policy, as the page sees them.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  try {
    const res = await page.goto(url, { waitUntil: 'load' });
    if (res.status() !== 200) throw new Error(`GET ${url}: ${res.status()}`);
    const csp = res.headers()['content-security-policy'] || '';
    if (!csp.includes("default-src 'none'") || csp.includes('unsafe-eval')) {
      throw new Error(`content security policy ${JSON.stringify(csp)}: want default-src 'none' and no 'unsafe-eval'`);
    }
    await check(page);
    await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
  } catch (err) {
    problems.push(`${err.message}`);
    await page.screenshot({ path: `${shots}/${name}-failed.png` }).catch(() => {});
  }
  const violations = await page.evaluate(() => window.__cspViolations).catch(() => []);
  for (const v of violations) problems.push(`CSP violation: ${v}`);
  await context.close();
  for (const p of problems) failures.push(`${name}: ${p}`);
  console.log(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${name}`);
}

// check records one assertion.
function check(ok, message) {
  checks++;
  if (!ok) throw new Error(message);
}

// tryItOut runs one operation from Swagger UI and returns the status and
// body it shows.
async function tryItOut(page, op) {
  const block = page.locator(`#operations-${op.tag.replaceAll(' ', '_')}-${op.id}`);
  await block.locator('.opblock-summary').first().click();
  await block.locator('button.try-out__btn').click();
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  const body = await block.locator('.live-responses-table .response-col_description pre').first().innerText();
  return { status: (await status.innerText()).trim(), body };
}

await visit('swagger-ui', `${base}/api/docs`, async (page) => {
  await page.locator('.opblock').first().waitFor({ timeout: 20000 });
  const title = await page.locator('.info .title').innerText();
  check(title.includes('Conduit legacy REST API'), `title ${JSON.stringify(title)}`);
  const listed = await page.locator('.opblock').count();
  check(listed === 19, `Swagger UI lists ${listed} operations, want 19`);
  for (const op of operations) {
    const n = await page.locator(`#operations-${op.tag.replaceAll(' ', '_')}-${op.id}`).count();
    check(n === 1, `${op.method.toUpperCase()} ${op.path} (${op.id}) is not listed`);
  }
  const deprecated = await page.locator('.opblock-deprecated').count();
  check(deprecated === 19, `${deprecated} operations shown deprecated, want 19`);
  await page.screenshot({ path: `${shots}/swagger-ui-operations.png`, fullPage: true });

  // Anonymous: the tags.
  const tags = await tryItOut(page, operations.find((o) => o.id === 'getTags'));
  check(tags.status === '200' && tags.body.includes('"tags"'), `GET /api/tags from Swagger UI: ${tags.status} ${tags.body}`);

  // Authorize with the token, then the signed-in user.
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  const bearer = dialog.locator('.auth-container').filter({ hasText: 'Bearer' }).filter({ hasText: 'http' });
  await bearer.locator('input').fill(token);
  await bearer.locator('button.authorize').click();
  await dialog.locator('button.close-modal').click();
  const me = await tryItOut(page, operations.find((o) => o.id === 'getCurrentUser'));
  check(me.status === '200' && me.body.includes(`"username": "${username}"`), `GET /api/user from Swagger UI: ${me.status} ${me.body}`);
  await page.locator(`#operations-User_and_Authentication-getCurrentUser`).scrollIntoViewIfNeeded();
});

await visit('redoc', `${base}/api/redoc`, async (page) => {
  await page.locator('h1').filter({ hasText: 'Conduit legacy REST API' }).waitFor({ timeout: 20000 });
  for (const op of operations) {
    const n = await page.locator(`[data-section-id="operation/${op.id}"]`).count();
    check(n === 1, `ReDoc shows no section for ${op.id}`);
  }
});

await visit('graphiql', `${base}/graphql?query=${encodeURIComponent('{ tags viewer { username } }')}`, async (page) => {
  await page.locator('.graphiql-container').waitFor({ timeout: 20000 });
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await page.waitForFunction(() => document.querySelector('.result-window')?.innerText.includes('"tags"'), null, { timeout: 15000 });
  const text = await result.innerText();
  check(text.includes('"viewer": null'), `GraphiQL's result: ${text}`);
});

// A subscription from GraphiQL, over its WebSocket: a comment added through
// the REST API shows up in the result pane.
const created = await fetch(`${base}/api/articles`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Token ${token}` },
  body: JSON.stringify({ article: { title: `Live from the browser ${Date.now()}`, description: 'd', body: 'b' } }),
});
const { article: { slug } } = await created.json();
const subscription = `subscription { commentAdded(articleSlug: "${slug}") { body author { username } } }`;
await visit('graphiql-subscription', `${base}/graphql?query=${encodeURIComponent(subscription)}`, async (page) => {
  await page.locator('.graphiql-container').waitFor({ timeout: 20000 });
  await page.locator('.graphiql-execute-button').click();
  // The server registers the subscription a moment after GraphiQL sends
  // it: comment until one shows up.
  const body = `Seen in GraphiQL ${Date.now()}`;
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) {
    await fetch(`${base}/api/articles/${slug}/comments`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Token ${token}` },
      body: JSON.stringify({ comment: { body } }),
    });
    seen = await page.waitForFunction((b) => document.querySelector('.result-window')?.innerText.includes(b), body, { timeout: 300 })
      .then(() => true, () => false);
  }
  const text = await page.locator('.result-window').innerText();
  check(seen && text.includes(`"username": "${username}"`), `GraphiQL's subscription result: ${text}`);
});

await browser.close();
console.log(`browser checks: ${checks} assertions, ${failures.length} problems`);
if (failures.length > 0) {
  console.error('problems:\n  ' + failures.join('\n  '));
  process.exit(1);
}
