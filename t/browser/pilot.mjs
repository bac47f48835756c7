// t/browser/pilot.mjs: the Pilot Status browser flow, through
// conf-examples/pilot-status.conf as shipped (t/browser/run starts it on
// free ports with t/browser/pilot/harness.conf beside it).  Environment:
// ES_PORT_A (the customer's site, http://localhost:PORT), ES_PORT_P (the
// example's server, http://127.0.0.1:PORT), ES_CHROMIUM, ES_BROWSER_OUT,
// ES_NGINX_PREFIX.
//
// The story, as the example's comments tell it: the customer's page asks
// its backend for a session (the backend mints with its API key), mounts
// the chat iframe with the token in its URL (exchanged for a cookie),
// calls the embed API with X-Session-Token, refreshes the session and
// goes on with the new token; every call from the page is cross-origin.
// The chat document in the iframe calls its own API (/embed/api/),
// same-origin, with the partitioned cookie; the page cannot use that
// cookie, and a refresh makes the frame's old cookie useless until the
// iframe is mounted again.
//
// Output: "ok N - name" / "not ok N - name" with "#" lines, then
// "N passed, M failed"; exit status 1 when a check failed.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CheckError, assert, eq, check as checkAll, tally }
    from './checks.mjs';

const env = process.env;
for (const name of ['ES_PORT_A', 'ES_PORT_P', 'ES_BROWSER_OUT',
                    'ES_NGINX_PREFIX']) {
    if (!env[name]) {
        console.log(`pilot.mjs: ${name} is not set (run t/browser/run)`);
        console.log('0 passed, 1 failed');
        process.exit(1);
    }
}

const A = `http://localhost:${env.ES_PORT_A}`;
const P = `http://127.0.0.1:${env.ES_PORT_P}`;
const out = env.ES_BROWSER_OUT;
const logDir = path.join(env.ES_NGINX_PREFIX, 'logs');
const COOKIE = 'pilot_embed';
const API = `${P}/embed/chat/conversations`;
const FRAME_API = `${P}/embed/api/chat/conversations`;
const REFRESH = `${P}/api/public/embed/refresh`;
const CHAT = `${P}/embed/chat`;

const started = Date.now();

// this flow's checks time out after 15 s
const check = (name, fn, timeoutMs = 15000) =>
    checkAll(name, fn, timeoutMs);


function readLog(name) {
    try {
        return fs.readFileSync(path.join(logDir, name), 'utf8');
    } catch (e) {
        return '';
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Chromium sends preflights from its network service, which Playwright
// does not report: the example's access log has them
async function preflight(uri) {
    const re = new RegExp(`"OPTIONS ${uri} HTTP/1\\.1" (\\d+) `);
    const end = Date.now() + 3000;
    for (;;) {
        const m = readLog('access.log').split('\n')
                      .map((l) => l.match(re)).filter(Boolean);
        if (m.length) {
            return m[m.length - 1][1];
        }
        if (Date.now() > end) {
            throw new CheckError(`no preflight of ${uri} in access.log`);
        }
        await sleep(100);
    }
}

// every response the page and its frames got, with headers; every
// request with the headers Chromium sent (cookies included)
const responses = [];
const requests = [];
const pending = [];

function last(pred, what) {
    const found = responses.filter(pred);
    assert(found.length, `no ${what} among the responses:\n`
           + responses.map((e) => `  ${e.method} ${e.url} ${e.status}`)
                      .join('\n'));
    return found[found.length - 1];
}

async function settled() {
    await Promise.allSettled(pending);
}

// what the chat document in the frame shows of its API call: "STATUS BODY"
async function frameApi() {
    const frame = await (await page.$('iframe.pilot-chat')).contentFrame();
    eq(frame.url(), CHAT, 'the frame\'s URL');
    const text = (await frame.locator('#api').textContent()).trim();
    const m = text.match(/^(\d+) (.*)$/s);
    assert(m, `the frame shows ${JSON.stringify(text)}`);
    let body = null;
    try {
        body = JSON.parse(m[2]);
    } catch (e) {
        throw new CheckError(`not JSON: ${m[2]}`);
    }
    return { frame, status: Number(m[1]), body };
}


const context = await chromium.launchPersistentContext(
    path.join(out, 'pilot-profile'), {
        executablePath: env.ES_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
               '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync'],
        viewport: { width: 800, height: 480 },
    });
context.setDefaultTimeout(10000);

const page = await context.newPage();
const consoleLines = [];
page.on('console', (m) => consoleLines.push(m.text()));
page.on('response', (r) => {
    const e = { url: r.url(), status: r.status(), method: r.request().method(),
                headers: {} };
    responses.push(e);
    pending.push(r.allHeaders().then((h) => { e.headers = h; }, () => {}));
});
page.on('request', (r) => {
    const e = { url: r.url(), method: r.method(), headers: {} };
    requests.push(e);
    pending.push(r.allHeaders().then((h) => { e.headers = h; }, () => {}));
});

const tokens = new Set();
let first = null;
let second = null;
let sid = null;


await check('A: the page gets a session from its backend, which mints with'
            + ' the API key server-side (201)', async () => {
    await page.goto(`${A}/`);
    await page.waitForFunction(() => window.pilot);
    const s = await page.evaluate(() => window.pilot.session());
    eq(s.status, 201, `the mint through /backend/session (${
        JSON.stringify(s.body.code || '')})`);
    assert(typeof s.body.token === 'string', 'a token');
    eq(JSON.stringify(s.body.allowedOrigins), JSON.stringify([A]),
       'allowedOrigins');
    assert(!JSON.stringify(s.body).includes('ps_'), 'the API key reached'
           + ' the page');
    first = s.body;
    tokens.add(first.token);
});

await check('A: the chat iframe, mounted with ?session=TOKEN, is exchanged'
            + ' for a partitioned cookie and renders in the page',
            async () => {
    assert(first, 'the session of check 1');
    const ready = await page.evaluate((t) => window.pilot.mount(t),
                                      first.token);
    assert(ready.session, 'the chat names its session');
    sid = ready.session;
    await settled();

    const x = last((e) => e.url.startsWith(`${CHAT}?session=`),
                   'exchange');
    eq(x.status, 302, 'the exchange');
    eq(new URL(x.headers.location, P).href, CHAT, 'Location');
    assert((x.headers['set-cookie'] || '')
               .startsWith(`${COOKIE}=${first.token};`),
           `Set-Cookie ${COOKIE}=<the token>`);

    const doc = last((e) => e.url === CHAT, 'document');
    eq(doc.status, 200, 'the document');
    eq(doc.headers['content-security-policy'], `frame-ancestors ${A}`,
       'Content-Security-Policy');
    eq(doc.headers['x-frame-options'], undefined, 'X-Frame-Options');

    const frame = await (await page.$('iframe.pilot-chat')).contentFrame();
    eq(frame.url(), CHAT, 'the frame\'s URL');
    eq((await frame.locator('#cookie').textContent()).trim(), '',
       'the cookie upstream');
    eq((await frame.locator('#uri').textContent()).trim(), '/embed/chat',
       'the URI upstream');

    const c = (await context.cookies(P)).find((k) => k.name === COOKIE);
    assert(c, `a ${COOKIE} cookie`);
    eq(c.value, first.token, 'its value');
    eq(c.httpOnly && c.secure && c.sameSite, 'None',
       'HttpOnly, Secure, SameSite=None');
    eq(c.partitionKey, 'http://localhost', 'partitioned by the page\'s site');

    await page.screenshot({ path: path.join(out, 'pilot.png') });
});

await check('A: the chat in the iframe calls its own API, /embed/api/,'
            + ' same-origin with the partitioned cookie, and shows the'
            + ' answer: 200, its session and tenant', async () => {
    assert(sid, 'the iframe of check 2');
    const r = await frameApi();
    eq(r.status, 200, `the frame's call (${JSON.stringify(r.body.code
                                                          || '')})`);
    eq(r.body.uri, '/embed/chat/conversations', 'the URI upstream');
    eq(r.body.session, sid, 'X-Embed-Session upstream');
    eq(r.body.tenant, 't_acme', 'X-Embed-Tenant upstream');
    eq(r.body.cookie, '', 'the cookie upstream');
    eq(r.body.token, '', 'X-Session-Token upstream');

    await settled();
    const q = requests.filter((x) => x.url === FRAME_API);
    assert(q.length, 'no request of the frame\'s API');
    const h = q[q.length - 1].headers;
    eq(h['sec-fetch-site'], 'same-origin', 'Sec-Fetch-Site sent');
    eq(h['sec-fetch-dest'], 'empty', 'Sec-Fetch-Dest sent');
    assert((h.cookie || '').includes(`${COOKIE}=${first.token}`),
           `the request brought the ${COOKIE} cookie`);
    assert(!h['x-session-token'], 'no X-Session-Token: the cookie only');
});

await check('A: the page calls the embed API with X-Session-Token, cross-'
            + 'origin: the preflight is answered (204) and the answer is'
            + ' readable (Access-Control-Allow-Origin)', async () => {
    assert(first, 'the session of check 1');
    const r = await page.evaluate((t) => window.pilot.api(t), first.token);
    eq(r.status, 200, 'the call');
    eq(r.body.origin, A, 'Origin upstream');
    eq(r.body.token, '', 'X-Session-Token upstream');
    assert(/^[0-9a-f-]{36}$/.test(r.body.session), 'X-Embed-Session'
           + ' upstream');
    eq(await preflight('/embed/chat/conversations'), '204', 'the preflight');
    await settled();
    const e = last((x) => x.url === API && x.method === 'GET', 'call');
    eq(e.headers['access-control-allow-origin'], A,
       'Access-Control-Allow-Origin (the upstream\'s "*" replaced)');
});

await check('A: the page cannot use the frame\'s cookie: its credentialed'
            + ' fetch of /embed/api/ brings the cookie but is cross-site:'
            + ' 403 FETCH_NOT_ALLOWED, unreadable', async () => {
    assert(first, 'the session of check 1');

    // what Chromium sent, from the DevTools protocol: Playwright reports
    // only the provisional headers of a request that CORS failed
    const cdp = await context.newCDPSession(page);
    const ids = new Map();
    const sent = new Map();
    cdp.on('Network.requestWillBeSent', (e) => ids.set(e.requestId,
                                                         e.request.url));
    cdp.on('Network.requestWillBeSentExtraInfo',
           (e) => sent.set(e.requestId, e.headers));
    await cdp.send('Network.enable');

    const r = await page.evaluate(async (url) => {
        try {
            const res = await fetch(url, { credentials: 'include' });
            return `read ${res.status}`;
        } catch (e) {
            return 'failed';
        }
    }, FRAME_API);
    eq(r, 'failed', 'the page\'s fetch');

    let h = null;
    for (let i = 0; i < 40 && !h; i++) {
        for (const [id, url] of ids) {
            if (url === FRAME_API && sent.has(id)) {
                h = {};
                for (const [k, v] of Object.entries(sent.get(id))) {
                    h[k.toLowerCase()] = v;
                }
            }
        }
        if (!h) {
            await sleep(50);
        }
    }
    await cdp.detach();
    assert(h, 'the headers Chromium sent for the page\'s fetch');
    eq(h['sec-fetch-site'], 'cross-site', 'Sec-Fetch-Site sent');
    assert((h.cookie || '').includes(`${COOKIE}=${first.token}`),
           `the browser sent the ${COOKIE} cookie (partition of the page)`);

    const re = new RegExp('"GET /embed/api/chat/conversations HTTP/1\\.1"'
                          + ' (\\d+) .* error=(\\S*)$');
    const end = Date.now() + 3000;
    let m = [];
    while (m.length < 2 && Date.now() < end) {
        await sleep(50);
        m = readLog('access.log').split('\n').map((l) => l.match(re))
                .filter(Boolean);
    }
    assert(m.length >= 2, 'the frame\'s and the page\'s calls in'
                          + ' access.log');
    eq(`${m[m.length - 1][1]} ${m[m.length - 1][2]}`,
       '403 FETCH_NOT_ALLOWED', 'the page\'s call in access.log');
});

await check('A: the page refreshes the session with POST'
            + ' /api/public/embed/refresh, cross-origin, and reads the new'
            + ' token; the API takes it and refuses the old one',
            async () => {
    assert(first, 'the session of check 1');
    const r = await page.evaluate((t) => window.pilot.refresh(t),
                                  first.token);
    eq(r.status, 200, `the refresh (${JSON.stringify(r.body.code || '')})`);
    assert(typeof r.body.token === 'string' && r.body.token !== first.token,
           'a new token');
    assert(r.body.expiresIn > 0, 'expiresIn');
    eq(await preflight('/api/public/embed/refresh'), '204', 'the preflight');
    await settled();
    const e = last((x) => x.url === REFRESH && x.method === 'POST',
                   'refresh');
    eq(e.headers['access-control-allow-origin'], A,
       'Access-Control-Allow-Origin');
    second = r.body;
    tokens.add(second.token);

    const now = await page.evaluate((t) => window.pilot.api(t), second.token);
    eq(now.status, 200, 'the API with the new token');
    const old = await page.evaluate((t) => window.pilot.api(t), first.token);
    eq(old.status, 401, 'the API with the old token');
    eq(old.body.code, 'SESSION_REVOKED', 'the code the page read');
});

await check('A: the iframe still mounted holds the replaced token in its'
            + ' cookie: its API call is 401 SESSION_REVOKED', async () => {
    assert(second, 'the refresh of check 6');
    const { frame } = await frameApi();
    await frame.evaluate(() => window.callApi());
    const r = await frameApi();
    eq(r.status, 401, 'the frame\'s call after the refresh');
    eq(r.body.code, 'SESSION_REVOKED', 'the code the frame read');
});

await check('A: the iframe is mounted again with the new token and renders;'
            + ' the cookie holds the new token, and the frame\'s API call'
            + ' passes with the same session', async () => {
    assert(second, 'the refresh of check 6');
    const ready = await page.evaluate((t) => window.pilot.mount(t),
                                      second.token);
    eq(ready.session, sid, 'the session the chat names');
    const c = (await context.cookies(P)).find((k) => k.name === COOKIE);
    eq(c && c.value, second.token, 'the cookie');
    const r = await frameApi();
    eq(r.status, 200, `the frame's call (${JSON.stringify(r.body.code
                                                          || '')})`);
    eq(r.body.session, sid, 'X-Embed-Session upstream');
});

await check('no token in the access logs or the error log; the exchange is'
            + ' logged with session=[redacted]', async () => {
    assert(tokens.size >= 2, `tokens seen: ${tokens.size}`);
    for (const name of ['access.log', 'a-access.log', 'u-access.log',
                        'error.log'])
    {
        const text = readLog(name);
        for (const t of tokens) {
            assert(!text.includes(t.split('.')[2]), `a token in ${name}`);
        }
    }
    assert(/"GET \/embed\/chat\?session=\[redacted\] HTTP\/1\.1" 302 /
               .test(readLog('access.log')),
           'access.log has the exchange with session=[redacted]');
});


await settled();
fs.writeFileSync(path.join(out, 'network-pilot.json'),
                 JSON.stringify({ responses, console: consoleLines }, null, 1));
await context.close();

console.log(`# ${tally.n} checks in `
            + `${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);
