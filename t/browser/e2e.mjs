// t/browser/e2e.mjs: the checks of the browser suite.  t/browser/run
// installs what it needs, starts nginx with conf-examples/embed-host.conf
// on free ports and runs this with ES_PORT_A, _B, _C, _U, ES_CHROMIUM,
// ES_BROWSER_OUT and ES_NGINX_PREFIX set.
//
// One Chromium profile (fresh, under build/test/browser/profile) for the
// whole run, as one person's browser with A and C open in two tabs.  The
// checks run in order and build on each other (the session minted in the
// first is the one C replays).
//
// Output: "ok N - name" or "not ok N - name" and "#" lines saying why,
// then "N passed, M failed"; exit status 1 when a check failed.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CheckError, assert, eq, check, tally } from './checks.mjs';

const env = process.env;
for (const name of ['ES_PORT_A', 'ES_PORT_B', 'ES_PORT_C', 'ES_PORT_U',
                    'ES_BROWSER_OUT', 'ES_NGINX_PREFIX']) {
    if (!env[name]) {
        console.log(`e2e.mjs: ${name} is not set (run t/browser/run)`);
        console.log('0 passed, 1 failed');
        process.exit(1);
    }
}

// the page origins are on "localhost", the module on "127.0.0.1": two
// sites, so that B's iframe is cross-site as in production (see run)
const A = `http://localhost:${env.ES_PORT_A}`;
const C = `http://localhost:${env.ES_PORT_C}`;
const B = `http://127.0.0.1:${env.ES_PORT_B}`;
const out = env.ES_BROWSER_OUT;
const logDir = path.join(env.ES_NGINX_PREFIX, 'logs');
const shots = path.join(out, 'screenshots');

const APP_URL = `${B}/app/?view=orders&lang=en`;    // iframeUrl, no token
const COOKIE = 'embed_session';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));


// --- checks -------------------------------------------------------------

const started = Date.now();

function needs(value, what) {
    assert(value, `needs ${what}`);
}


// --- what each page saw -----------------------------------------------------

// every response of a page and its frames (redirects included), with all
// its headers and, for B's errors, the body; the console; main-frame
// navigations
function record(page, name) {
    const rec = { name, responses: [], console: [], navigations: 0,
                  pending: [] };

    page.on('console', (m) => rec.console.push(m.text()));
    page.on('pageerror', (e) => rec.console.push(`pageerror: ${e.message}`));
    page.on('framenavigated', (f) => {
        if (f === page.mainFrame()) {
            rec.navigations++;
        }
    });
    page.on('response', (r) => {
        const e = { url: r.url(), status: r.status(),
                    method: r.request().method(), headers: {}, list: [] };
        rec.responses.push(e);
        rec.pending.push((async () => {
            try {
                e.list = await r.headersArray();
                for (const h of e.list) {
                    const k = h.name.toLowerCase();
                    e.headers[k] = k in e.headers
                        ? `${e.headers[k]}\n${h.value}` : h.value;
                }
                if (e.url.startsWith(B) && e.status >= 400) {
                    e.body = await r.text();
                }
            } catch (err) {
                e.error = String(err.message || err);
            }
        })());
    });
    return rec;
}

async function settled(rec) {
    await Promise.allSettled(rec.pending);
}

// the responses of a recording that match
async function responses(rec, pred) {
    await settled(rec);
    return rec.responses.filter(pred);
}

async function one(rec, what, pred) {
    const found = await responses(rec, pred);
    assert(found.length > 0, `no ${what} among the responses of ${rec.name}:\n`
           + rec.responses.map((e) => `  ${e.method} ${e.url} ${e.status}`)
                          .join('\n'));
    return found[found.length - 1];
}

function header(e, name) {
    return e.headers[name.toLowerCase()];
}

function count(e, name) {
    return e.list.filter((h) => h.name.toLowerCase() === name.toLowerCase())
                 .length;
}

function codeOf(body) {
    try {
        const j = typeof body === 'string' ? JSON.parse(body) : body;
        return j.code || (j.error && j.error.code) || null;
    } catch (e) {
        return null;
    }
}

async function waitFor(what, fn, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v) {
            return v;
        }
        if (Date.now() > end) {
            throw new CheckError(`timed out waiting for ${what}`);
        }
        await sleep(100);
    }
}

// the page's status line (loader.js): "ready" once the app in the iframe
// said so, "error" when something failed
async function waitStatus(page, kind, timeoutMs = 15000) {
    await page.waitForFunction(
        (k) => document.getElementById('status').className === k,
        kind, { timeout: timeoutMs });
}

async function frameOf(page, selector = 'iframe.embed-frame') {
    const el = await page.$(selector);
    assert(el, `no ${selector} in ${page.url()}`);
    const frame = await el.contentFrame();
    assert(frame, `${selector} has no frame`);
    return frame;
}

// an iframe of another site is drawn by another process: let both paint
// before a screenshot
async function painted(page, frame) {
    const twoFrames = () => new Promise((resolve) => requestAnimationFrame(
        () => requestAnimationFrame(resolve)));
    await frame.evaluate(twoFrames).catch(() => {});
    await page.evaluate(twoFrames);
    await sleep(500);
}

// (a tab in the background has its timers and animation frames throttled
// to one a second, which Playwright's click and waits use)
async function clickApi(page) {
    await page.bringToFront();
    await page.evaluate(() => { window.lastApiResult = null; });
    await page.click('#call-api');
    await page.waitForFunction(() => window.lastApiResult);
    return page.evaluate(() => window.lastApiResult);
}

function readLog(name) {
    try {
        return fs.readFileSync(path.join(logDir, name), 'utf8');
    } catch (e) {
        return '';
    }
}

function csp(ancestors) {
    return `frame-ancestors ${ancestors}`;
}


// --- the browser ------------------------------------------------------------

fs.mkdirSync(shots, { recursive: true });

const context = await chromium.launchPersistentContext(
    path.join(out, 'profile'), {
        executablePath: env.ES_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
               '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync'],
        viewport: { width: 800, height: 540 },
    });

// every token and renew token the backends handed out, for the log check
const secrets = new Set();
context.on('response', (r) => {
    if (/\/backend\/(session|refresh)$/.test(new URL(r.url()).pathname)
        && r.ok())
    {
        r.json().then((j) => {
            for (const k of ['token', 'renewToken']) {
                if (typeof j[k] === 'string') {
                    secrets.add(j[k]);
                }
            }
        }, () => {});
    }
});

// a locator or a wait that finds nothing fails within the check's time
context.setDefaultTimeout(10000);

const recs = [];
async function newPage(name) {
    const page = await context.newPage();
    const rec = record(page, name);
    recs.push(rec);
    return [page, rec];
}

const [pageA, recA] = await newPage('A');
const [pageC, recC] = await newPage('C');
let sessionA = null;


// 1. A mints through its backend and mounts the iframe: it loads

await check('A: the host page mints through its backend and the iframe'
            + ' from B renders the upstream\'s view', async () => {
    await pageA.bringToFront();
    await pageA.goto(`${A}/`);
    await pageA.waitForFunction(() => window.embed.session
        || document.getElementById('status').className === 'error');

    sessionA = await pageA.evaluate(() => window.embed.session);
    assert(sessionA && sessionA.token && sessionA.renewToken,
           `a token and a renew token from A's backend: ${
               await pageA.textContent('#status')}`);
    assert(!JSON.stringify(sessionA).includes('demo_'),
           'the API key reached the page');

    await waitStatus(pageA, 'ready');

    const frame = await frameOf(pageA);
    assert(await frame.locator('#view').isVisible(),
           `the app's view is visible in the frame (${frame.url()})`);
    eq(await frame.locator('#sub').textContent(), 'ada', 'signed in as');

    const box = await pageA.locator('iframe.embed-frame').boundingBox();
    assert(box && box.height > 100 && box.width > 300,
           `the iframe has a size: ${JSON.stringify(box)}`);

    const mint = await one(recA, 'the backend\'s mint',
                           (e) => e.url === `${A}/backend/session`);
    eq(mint.status, 201, '/backend/session');

    await painted(pageA, frame);
    await pageA.screenshot({ path: path.join(shots, 'allowed.png') });
});

await check('A: B\'s answer to the iframe has one CSP "frame-ancestors'
            + ' <A>" in place of the upstream\'s X-Frame-Options and CSP',
            async () => {
    needs(sessionA, 'the session of the first check');
    const e = await one(recA, 'the iframe document',
                        (r) => r.url === APP_URL && r.status === 200);
    eq(header(e, 'content-security-policy'), csp(A),
       'Content-Security-Policy');
    eq(count(e, 'content-security-policy'), 1, 'CSP headers');
    eq(header(e, 'x-frame-options'), undefined, 'X-Frame-Options');
});


// 5. (first half) the URL token exchange, seen in A's page

await check('A: ?session=TOKEN is exchanged: 302 with the cookie, no-store,'
            + ' to the same URL without the token', async () => {
    needs(sessionA, 'the session of the first check');
    const e = await one(recA, 'the exchange',
                        (r) => r.url.startsWith(`${B}/app/`)
                               && r.url.includes('session=')
                               && r.status === 302);
    eq(e.url, sessionA.iframeUrl, 'the first request');
    eq(new URL(header(e, 'location'), B).href, APP_URL, 'Location');
    assert(/\bno-store\b/.test(header(e, 'cache-control') || ''),
           `Cache-Control: ${header(e, 'cache-control')}`);
    assert(!header(e, 'referrer-policy'),
           'no Referrer-Policy: the next request keeps the framing page');

    const sc = header(e, 'set-cookie') || '';
    assert(sc.startsWith(`${COOKIE}=${sessionA.token};`),
           `Set-Cookie names ${COOKIE} with the token: ${
               sc.replace(/=[^;]*/, '=...')}`);
    const attrs = sc.split(';').map((s) => s.trim().toLowerCase());
    for (const a of ['path=/', 'httponly', 'secure', 'samesite=none',
                     'partitioned'])
    {
        assert(attrs.includes(a), `Set-Cookie has ${a}: ${attrs.slice(1)}`);
    }
    // as long as /app/ accepts the token: exp plus its leeway (30 s)
    const maxAge = attrs.find((a) => a.startsWith('max-age='));
    const age = maxAge ? +maxAge.slice(8) : NaN;
    assert(age >= sessionA.expiresIn - 2 && age <= sessionA.expiresIn + 32,
           `Max-Age is the token's life (${sessionA.expiresIn} s) plus the`
           + ` leeway: ${maxAge}`);

    eq((await frameOf(pageA)).url(), APP_URL, 'the iframe\'s final URL');
});

await check('A: Chromium keeps the cookie HttpOnly, Secure, SameSite=None,'
            + ' partitioned by the top-level site (http on 127.0.0.1)',
            async () => {
    needs(sessionA, 'the session of the first check');
    const c = (await context.cookies(B)).find((k) => k.name === COOKIE);
    assert(c, `a ${COOKIE} cookie for ${B}`);
    eq(c.value, sessionA.token, 'its value');
    eq(c.httpOnly, true, 'httpOnly');
    eq(c.secure, true, 'secure');
    eq(c.sameSite, 'None', 'sameSite');
    eq(c.partitionKey, 'http://localhost', 'partitionKey');
    const left = c.expires - Date.now() / 1000;
    assert(left > 0 && left <= sessionA.expiresIn + 32,
           `expires with the token: ${left.toFixed(0)} s left`);
});

await check('A: the upstream\'s view of the iframe request has no token'
            + ' (URL, X-Session-Token, cookie) and the claim headers',
            async () => {
    needs(sessionA, 'the session of the first check');
    const frame = await frameOf(pageA);
    const text = async (id) => (await frame.locator(id).textContent()).trim();
    eq(await text('#uri'), '/app/?view=orders&lang=en', 'request URI');
    eq(await text('#token'), '', 'X-Session-Token');
    eq(await text('#cookie'), '', 'Cookie');
    eq(await text('#xsub'), 'ada', 'X-Embed-Sub');
    eq(await text('#origins'), A, 'X-Embed-Origins');
});


await check('A: the embedded app navigates on its own (a link, a reload):'
            + ' the cookie carries the session, no token in any URL',
            async () => {
    needs(sessionA, 'the session of the first check');
    await pageA.bringToFront();
    const other = `${B}/app/?view=invoices`;
    let frame = await frameOf(pageA);
    await frame.evaluate(() => { location.href = '/app/?view=invoices'; });
    await waitFor('the app\'s own navigation', async () =>
        (await frameOf(pageA)).url() === other);
    frame = await frameOf(pageA);
    await frame.locator('#view').waitFor();
    eq((await frame.locator('#uri').textContent()).trim(),
       '/app/?view=invoices', 'request URI upstream');
    eq((await frame.locator('#sub').textContent()).trim(), 'ada',
       'signed in as');

    await frame.evaluate(() => location.reload());
    await frame.waitForLoadState('load');
    frame = await frameOf(pageA);
    await frame.locator('#view').waitFor();
    eq(frame.url(), other, 'after a reload');
    eq((await frame.locator('#cookie').textContent()).trim(), '',
       'Cookie upstream');
});


// 2. the same iframe from C: blocked by frame-ancestors

await check('C: it cannot mint for itself (its backend has no API key:'
            + ' 401 API_KEY_REQUIRED)', async () => {
    await pageC.bringToFront();
    await pageC.goto(`${C}/`);
    await waitStatus(pageC, 'error');
    const e = await one(recC, 'C\'s mint',
                        (r) => r.url === `${C}/backend/session`);
    eq(e.status, 401, 'C /backend/session');
    const status = await pageC.textContent('#status');
    assert(status.includes('API_KEY_REQUIRED'), `C's page says: ${status}`);
});

await check('C: the same iframe with A\'s token is answered for A only'
            + ' (CSP frame-ancestors <A>) and Chromium refuses to render it'
            + ' in C', async () => {
    needs(sessionA, 'the session of the first check');
    const result = await pageC.evaluate(async (s) => {
        window.embed.options.autoRefresh = false;
        window.embed.options.readyTimeout = 3000;
        window.embed.use(s);
        try {
            await window.embed.mount(document.getElementById('slot'));
            return 'ready';
        } catch (e) {
            return e.message;
        }
    }, sessionA);
    eq(result, 'embed not ready', 'mount() in C');

    // a document request has no Origin: B answers (the token is valid),
    // and names the pages that may frame the answer
    const e = await one(recC, 'B\'s answer to C\'s iframe',
                        (r) => r.url === APP_URL);
    eq(e.status, 200, 'status');
    eq(header(e, 'content-security-policy'), csp(A),
       'Content-Security-Policy');

    const frame = await frameOf(pageC);
    assert(frame.url().startsWith('chrome-error://'),
           `the frame is Chromium's error page: ${frame.url()}`);
    eq(await frame.locator('#view').count(), 0, 'the app in the frame');
    assert(recC.console.some((m) => m.includes(`frame-ancestors ${A}`)
                                    && m.includes(B)),
           `Chromium reports the frame-ancestors violation:\n${
               recC.console.join('\n')}`);
});


// 3. fetch with X-Session-Token, from A and from C

// Chromium sends CORS preflights from its network service and Playwright
// does not report them: B's access log does ("OPTIONS ... 204", the
// request's Origin and the Access-Control-Allow-Origin answered)
async function preflight(origin) {
    const re = new RegExp(`"OPTIONS /api/whoami HTTP/1\\.1" (\\d+) .*`
                          + `origin="${origin}" acao="([^"]*)"`);
    const m = await waitFor(`a preflight from ${origin} in b-access.log`,
        async () => readLog('b-access.log').split('\n')
                     .map((l) => l.match(re)).filter(Boolean)[0], 3000);
    eq(m[1], '204', 'the preflight\'s status');
    eq(m[2], origin, 'the preflight\'s Access-Control-Allow-Origin');
}

await check('A: fetch with X-Session-Token passes the preflight (204) and'
            + ' the origin check; the upstream sees the user, not the token',
            async () => {
    needs(sessionA, 'the session of the first check');
    const r = await clickApi(pageA);
    eq(r.status, 200, `status (${JSON.stringify(r.body)})`);
    eq(r.body.x_embed_sub, 'ada', 'X-Embed-Sub upstream');
    eq(r.body.x_session_token, '', 'X-Session-Token upstream');
    eq(r.body.origin, A, 'Origin upstream');

    await preflight(A);

    const act = await one(recA, 'the call',
                          (x) => x.method === 'GET'
                                 && x.url === `${B}/api/whoami`);
    eq(header(act, 'access-control-allow-origin'), A,
       'ACAO (the upstream\'s "*" replaced)');
    eq(count(act, 'access-control-allow-origin'), 1, 'ACAO headers');
    assert(/\borigin\b/i.test(header(act, 'vary') || ''),
           `Vary: ${header(act, 'vary')}`);
});

await check('C: fetch with A\'s token passes the preflight (C is listed),'
            + ' is refused, and C\'s page reads ORIGIN_NOT_ALLOWED',
            async () => {
    const r = await clickApi(pageC);
    eq(r.status, 403, 'status');
    eq(r.code, 'ORIGIN_NOT_ALLOWED', 'the code C\'s page read');

    await preflight(C);

    const act = await one(recC, 'the call',
                          (x) => x.method === 'GET'
                                 && x.url === `${B}/api/whoami`);
    eq(act.status, 403, 'status');
    eq(header(act, 'access-control-allow-origin'), C, 'ACAO on the error');

    await painted(pageC, await frameOf(pageC));
    await pageC.screenshot({ path: path.join(shots, 'blocked.png') });
});

await check('B: a top-level visit to the iframe URL is refused (Sec-Fetch-'
            + 'Dest: document): 403 FETCH_NOT_ALLOWED, frame-ancestors'
            + ' \'none\', no cookie',
            async () => {
    needs(sessionA, 'the session of the first check');
    const [page, rec] = await newPage('top-level');
    const resp = await page.goto(sessionA.iframeUrl);
    eq(resp.status(), 403, 'status');
    eq(codeOf(await resp.text()), 'FETCH_NOT_ALLOWED', 'code');
    const e = await one(rec, 'the answer',
                        (r) => r.url === sessionA.iframeUrl);
    eq(header(e, 'set-cookie'), undefined, 'Set-Cookie');
    eq(header(e, 'content-security-policy'), csp('\'none\''),
       'Content-Security-Policy of an error');
    await page.close();
});


// 4. a session that expires during the page's life

async function shortSession(page, query) {
    await page.goto(`${A}/?short=1${query}`);
    await waitStatus(page, 'ready');
    await page.evaluate(() => { window.e2eMarker = 'the same page'; });
    const s = await page.evaluate(() => window.embed.session);
    assert(s.expiresIn > 0 && s.expiresIn <= 10,
           `a short session: expiresIn ${s.expiresIn}`);
    return s;
}

// until the first token has expired (no leeway on /api/), by the
// expiresIn the backend answered
async function pastExpiry(s) {
    const wait = s.receivedAt + s.expiresIn * 1000 + 1500 - Date.now();
    if (wait > 0) {
        await sleep(wait);
    }
}

let expPage = null;
let expSession = null;

await check('A: a session that expires under the page is refreshed on 401'
            + ' SESSION_EXPIRED through the backend and the call is sent'
            + ' again, without reloading the page', async () => {
    const [page, rec] = await newPage('A short, refresh on expiry');
    const s = await shortSession(page, '&refresh=expired');
    const navigations = rec.navigations;
    expPage = page;

    const r1 = await page.evaluate(() => window.embed.api('whoami'));
    eq(r1.status, 200, 'the first call');

    await pastExpiry(s);

    const r2 = await page.evaluate(() => window.embed.api('whoami'));
    eq(r2.status, 200, `the call after expiry (${JSON.stringify(r2.body)})`);
    eq(r2.body.x_embed_sub, 'ada', 'X-Embed-Sub');

    const st = await page.evaluate(() => ({
        refreshes: window.embed.refreshes,
        reason: window.embed.lastRefreshReason,
        marker: window.e2eMarker,
        session: window.embed.session,
    }));
    eq(st.refreshes, 1, 'refreshes');
    eq(st.reason, 'expired', 'why');
    eq(st.marker, 'the same page', 'the page\'s own state');
    eq(rec.navigations, navigations, 'main-frame navigations');
    eq(st.session.sessionId, s.sessionId, 'the same session');
    assert(st.session.token !== s.token, 'a new token');
    expSession = st.session;

    const expired = await one(rec, 'the 401',
                              (x) => x.method === 'GET'
                                     && x.url === `${B}/api/whoami`
                                     && x.status === 401);
    eq(codeOf(expired.body), 'SESSION_EXPIRED', 'the 401\'s code');
    const refresh = await one(rec, 'the refresh',
                              (x) => x.url === `${A}/backend/refresh`);
    eq(refresh.status, 200, '/backend/refresh');

    // the first token is refused from now on
    const old = await page.evaluate(async ([url, token]) => {
        const res = await fetch(url, { headers: { 'X-Session-Token': token } });
        return { status: res.status, body: await res.json() };
    }, [`${B}/api/whoami`, s.token]);
    eq(old.status, 401, 'the old token');
}, 45000);

await check('A: after the refresh the iframe is mounted again with the new'
            + ' token, exchanged again, and renders', async () => {
    needs(expPage && expSession, 'the previous check');
    await expPage.evaluate(() => window.embed.ready);
    const frame = await frameOf(expPage);
    eq(frame.url(), APP_URL, 'the iframe\'s URL');
    eq(await frame.locator('#sub').textContent(), 'ada', 'signed in as');
    const c = (await context.cookies(B)).find((k) => k.name === COOKIE);
    eq(c && c.value, expSession.token, 'the cookie holds the new token');
    await expPage.close();
});

await check('A: a session is refreshed on a timer before it expires; a call'
            + ' after the first token\'s expiry passes with no 401',
            async () => {
    const [page, rec] = await newPage('A short, timer');
    const s = await shortSession(page, '');
    const navigations = rec.navigations;

    await page.waitForFunction(() => window.embed.refreshes >= 1, null,
                               { timeout: s.expiresIn * 1000 + 2000 });
    await pastExpiry(s);

    const r = await page.evaluate(() => window.embed.api('whoami'));
    eq(r.status, 200, 'the call after the first token\'s expiry');
    const st = await page.evaluate(() => ({
        reason: window.embed.lastRefreshReason,
        marker: window.e2eMarker,
    }));
    eq(st.reason, 'timer', 'why');
    eq(st.marker, 'the same page', 'the page\'s own state');
    eq(rec.navigations, navigations, 'main-frame navigations');
    const refused = await responses(rec, (x) => x.url.startsWith(`${B}/api/`)
                                                && x.status === 401);
    eq(refused.length, 0, '401s from the API');
    await page.close();
}, 45000);


// 5. (second half) no token in the logs

// a token, or its signature alone (a log that cut the line short)
function leaks(text) {
    const found = [];
    for (const t of secrets) {
        const sig = t.split('.')[2] || t;
        if (text.includes(t) || (sig.length >= 20 && text.includes(sig))) {
            found.push(`${t.slice(0, 12)}...`);
        }
    }
    return found;
}

await check('B and U: no token in their access logs; B logs the token'
            + ' argument as [redacted]', async () => {
    assert(secrets.size >= 6, `tokens handed out: ${secrets.size}`);
    const b = readLog('b-access.log');
    const u = readLog('u-access.log');
    assert(b.length > 0 && u.length > 0, 'both logs written');
    eq(leaks(b).join(', '), '', 'tokens in b-access.log');
    eq(leaks(u).join(', '), '', 'tokens in u-access.log');
    assert(/GET \/app\/\?view=orders&session=\[redacted\]&lang=en /.test(b),
           'b-access.log has the exchange with session=[redacted]');
    assert(!/session=/.test(u), 'u-access.log has no session argument');
});

await check('nginx\'s error log holds no token', async () => {
    const text = readLog('error.log');
    const found = leaks(text);
    const lines = text.split('\n').filter((l) => leaks(l).length)
                      .map((l) => l.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g,
                                            '<TOKEN>'));
    eq(found.join(', '), '', `tokens in error.log, e.g.\n${
        lines.slice(0, 3).join('\n')}\n`);
});


// --- the end ----------------------------------------------------------------

for (const rec of recs) {
    await settled(rec);
    fs.writeFileSync(path.join(out, `network-${rec.name.replace(/\W+/g, '-')}`
                                    + '.json'),
                     JSON.stringify({ responses: rec.responses,
                                      console: rec.console }, null, 1));
}
await context.close();

console.log(`# ${tally.n} checks in `
            + `${((Date.now() - started) / 1000).toFixed(1)} s`
            + `; screenshots in ${shots}`);
console.log(`${tally.passed} passed, ${tally.failed} failed`);
process.exit(tally.failed ? 1 : 0);
