// t/browser/checks.mjs: the checks both browser flows (e2e.mjs, pilot.mjs)
// print, one "ok N - name (T s)" or "not ok N - name" line each, with "#"
// lines that say why (tokens masked), and the tally for their last line.

export class CheckError extends Error {}

export const tally = { n: 0, passed: 0, failed: 0 };

export function assert(cond, what) {
    if (!cond) {
        throw new CheckError(what);
    }
}

export function eq(actual, expected, what) {
    if (actual !== expected) {
        throw new CheckError(`${what}: expected ${JSON.stringify(expected)}`
                             + `, got ${JSON.stringify(actual)}`);
    }
}

export async function check(name, fn, timeoutMs = 30000) {
    const t = Date.now();
    let timer;

    tally.n++;
    try {
        await Promise.race([
            fn(),
            new Promise((resolve, reject) => {
                timer = setTimeout(() => reject(new CheckError(
                    `timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
        ]);
        tally.passed++;
        console.log(`ok ${tally.n} - ${name} (${((Date.now() - t) / 1000)
                                                 .toFixed(1)} s)`);
    } catch (e) {
        tally.failed++;
        console.log(`not ok ${tally.n} - ${name}`);
        const text = (e instanceof CheckError ? e.message
                                              : (e && e.stack) || String(e))
            .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<token>');
        for (const line of text.split('\n')) {
            console.log(`#   ${line}`);
        }
    } finally {
        clearTimeout(timer);
    }
}
