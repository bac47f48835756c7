/*
 * loader.js: the host page's side of an embed served behind
 * ngx_http_embed_session_module (see ../embed-host.conf).
 *
 *   const embed = EmbedSession.create({
 *       session: '/backend/session',   // this site's backend: mints
 *       refresh: '/backend/refresh',   // this site's backend: refreshes
 *   });
 *   await embed.start();                     // a session from the backend
 *   await embed.mount(document.getElementById('slot'));   // the iframe
 *   const r = await embed.api('whoami');     // GET apiBase + 'whoami'
 *
 * The backend holds the API key; the page holds the session: the token,
 * bound to this page's origin, and the single-use renew token (a backend
 * may keep the renew token on its side instead, keyed by its own login
 * session: then /backend/refresh needs no body).
 *
 * The session is refreshed without reloading the page: on a timer shortly
 * before it expires (expiresIn, never the page's clock), and when the API
 * answers 401 SESSION_EXPIRED anyway (a sleeping laptop, a throttled
 * timer), after which the call is sent again once.  A refresh replaces
 * the token everywhere: the iframe's cookie holds the old generation,
 * which the embed service refuses from then on, so a mounted iframe is
 * mounted again with the new iframe URL.  This page sets its src: the
 * request's Referer is then this page's origin, which the service checks
 * (a navigation the iframe made itself would carry the embed's own
 * origin).
 */

(function (global) {
    'use strict';

    // the error code of a module error body, flat or nested:
    //   {"error":"Session token expired","code":"SESSION_EXPIRED"}
    //   {"error":{"code":"SESSION_EXPIRED","message":"..."}}
    function errorCode(body) {
        if (!body || typeof body !== 'object') {
            return null;
        }
        if (typeof body.code === 'string') {
            return body.code;
        }
        if (body.error && typeof body.error === 'object'
            && typeof body.error.code === 'string')
        {
            return body.error.code;
        }
        return null;
    }

    async function readBody(res) {
        const text = await res.text();
        try {
            return JSON.parse(text);
        } catch (e) {
            return text;
        }
    }

    class EmbedSessionError extends Error {
        constructor(what, status, body) {
            const code = errorCode(body);
            super(what + ': ' + (code || 'HTTP ' + status));
            this.status = status;
            this.code = code;
            this.body = body;
        }
    }

    class EmbedSession extends EventTarget {
        constructor(options) {
            super();
            this.options = Object.assign({
                session: '/backend/session',
                refresh: '/backend/refresh',
                autoRefresh: true,       // refresh before the session ends
                refreshAhead: 30,        // seconds (at most a quarter of
                                         // the session's lifetime)
                readyTimeout: 5000,      // ms for the iframe to say ready
            }, options || {});
            this.session = null;         // the backend's last answer
            this.refreshes = 0;
            this.lastRefreshReason = null;
            this.iframe = null;
            this.timer = null;
            this.refreshing = null;
        }

        // a session from this site's backend
        async start() {
            const res = await fetch(this.options.session, { method: 'POST' });
            const body = await readBody(res);
            if (!res.ok) {
                this.status('cannot start a session: ' + (errorCode(body)
                            || 'HTTP ' + res.status), 'error');
                throw new EmbedSessionError('start', res.status, body);
            }
            this.use(body);
            return body;
        }

        // take a session (a backend answer: token, renewToken, expiresIn,
        // iframeUrl, apiBase, sessionId)
        use(session) {
            this.session = Object.assign({ receivedAt: Date.now() }, session);
            clearTimeout(this.timer);
            this.timer = null;

            if (this.options.autoRefresh && session.expiresIn > 0) {
                const ahead = Math.min(this.options.refreshAhead,
                                       session.expiresIn / 4);
                this.timer = setTimeout(() => {
                    this.refresh('timer').catch(() => {});
                }, (session.expiresIn - ahead) * 1000);
            }

            this.status('session ' + (session.sessionId || '?')
                        + ', expires in ' + session.expiresIn + ' s', 'ok');
            this.dispatchEvent(new Event('session'));
        }

        // the session's next generation, through the backend; one at a
        // time (concurrent callers share it: a renew token is single use)
        refresh(reason) {
            if (!this.refreshing) {
                this.refreshing = this.doRefresh(reason || 'manual')
                    .finally(() => { this.refreshing = null; });
            }
            return this.refreshing;
        }

        async doRefresh(reason) {
            if (!this.session || !this.session.renewToken) {
                throw new Error('no session to refresh');
            }
            const res = await fetch(this.options.refresh, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ renewToken: this.session.renewToken }),
            });
            const body = await readBody(res);
            if (!res.ok) {
                // RENEW_TOKEN_REUSED, SESSION_REVOKED, SESSION_EXPIRED (the
                // session's absolute end): the session is over
                clearTimeout(this.timer);
                this.session = null;
                this.status('session ended: ' + (errorCode(body)
                            || 'HTTP ' + res.status), 'error');
                throw new EmbedSessionError('refresh', res.status, body);
            }
            this.refreshes++;
            this.lastRefreshReason = reason;
            this.use(body);
            if (this.iframe && this.iframe.isConnected) {
                this.mount().catch(() => {});
            }
            return body;
        }

        // the iframe, with the session's token in its URL (the embed
        // service exchanges it for a cookie and redirects at once).
        // Resolves when the application inside says it is ready, rejects
        // when it does not in time (refused, or blocked by the browser).
        mount(container) {
            if (!this.session) {
                return Promise.reject(new Error('no session'));
            }
            const url = new URL(this.session.iframeUrl);
            let iframe = this.iframe;
            if (!iframe || !iframe.isConnected) {
                iframe = document.createElement('iframe');
                iframe.title = 'Embedded application';
                iframe.className = 'embed-frame';
                (container || document.body).appendChild(iframe);
                this.iframe = iframe;
            }

            const ready = new Promise((resolve, reject) => {
                const done = (ok, value) => {
                    clearTimeout(timeout);
                    removeEventListener('message', onMessage);
                    ok ? resolve(value) : reject(value);
                };
                const onMessage = (e) => {
                    if (e.source === iframe.contentWindow
                        && e.origin === url.origin
                        && e.data && e.data.type === 'embed-ready')
                    {
                        this.status('embed ready: signed in as ' + e.data.sub,
                                    'ready');
                        done(true, e.data);
                    }
                };
                const timeout = setTimeout(() => {
                    this.status('the embed did not load (refused or'
                                + ' blocked: see the console)', 'error');
                    done(false, new Error('embed not ready'));
                }, this.options.readyTimeout);
                addEventListener('message', onMessage);
            });

            this.status('loading the embed from ' + url.origin, 'ok');
            iframe.src = url.href;
            this.ready = ready;
            return ready;
        }

        // a call to the embed service's API with the session token;
        // answers { status, ok, code, body } (status 0: the browser
        // refused to let the page read the answer, or the network failed)
        async api(path, init, retried) {
            if (!this.session) {
                throw new Error('no session');
            }
            init = Object.assign({}, init || {});
            const headers = new Headers(init.headers || {});
            headers.set('X-Session-Token', this.session.token);
            init.headers = headers;

            let res;
            try {
                res = await fetch(new URL(path, this.session.apiBase), init);
            } catch (e) {
                return { status: 0, ok: false, code: null,
                         body: String(e && e.message || e) };
            }
            const body = await readBody(res);
            const code = errorCode(body);

            if (res.status === 401 && code === 'SESSION_EXPIRED' && !retried) {
                await this.refresh('expired');
                return this.api(path, init, true);
            }
            return { status: res.status, ok: res.ok, code: code, body: body };
        }

        status(text, kind) {
            this.lastStatus = text;
            this.dispatchEvent(Object.assign(new Event('status'),
                                             { text: text, kind: kind }));
        }
    }

    EmbedSession.create = (options) => new EmbedSession(options);
    EmbedSession.errorCode = errorCode;

    global.EmbedSession = EmbedSession;
})(window);
