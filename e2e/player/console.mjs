// console.mjs drives Rewind's web console (/console/) in headless Chromium
// (playwright-core, Debian's chromium) through what an operator does, and
// prints one JSON line {"result": {...}} that e2e/console_test.go asserts on.
//
//   node console.mjs --base http://127.0.0.1:PORT --group G --channel C --out DIR
//   node console.mjs --base … --group G --login KEY:SECRET --out DIR   (the login flow only)
//
// Steps: the channel shows as publishing on the channels page; its details
// page plays the preview; a drag on the DVR timeline plays a past window;
// "Harvest this range" pre-fills the Create Harvest Job form, whose
// Epoch/ISO switch must round-trip; the job goes to Completed in the table
// without a reload; a job ending in the future shows Running without a
// Delete button, then Completed with one; the Info view shows progress and
// plays the package; a bad ID and a > 24 h range show field errors. Every
// request to a host other than the console's is recorded (offHost).
// Screenshots of each page go to --out. The run is bounded (--limit s).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const opts = { base: '', group: '', channel: '', out: '.', chromium: process.env.CHROMIUM || '/usr/bin/chromium', limit: 150, login: '' };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) { process.stderr.write(`console.mjs: unknown flag ${process.argv[i]}\n`); process.exit(2); }
  opts[k] = process.argv[++i];
}
const result = { steps: [], offHost: [], pageErrors: [] };
const step = (name, data) => { result.steps.push(name); Object.assign(result, data); };
const userDataDir = mkdtempSync(join(tmpdir(), 'rewind-console-'));
let context;

async function cleanup() {
  try { if (context) await context.close(); } catch { /* gone */ }
  rmSync(userDataDir, { recursive: true, force: true });
}
const hard = setTimeout(async () => {
  result.error = `hard time limit of ${opts.limit} s reached after steps ${result.steps.join(', ')}`;
  process.stdout.write(JSON.stringify({ result }) + '\n');
  await cleanup();
  process.exit(1);
}, opts.limit * 1000);
hard.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// until polls f every 200 ms until it returns a truthy value or ms pass.
async function until(what, ms, f) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

async function videoState(tab, sel) {
  return tab.evaluate((s) => {
    const v = document.querySelector(s);
    return v ? { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight, src: v.dataset.src || '' } : null;
  }, sel);
}

async function main() {
  const host = new URL(opts.base).host;
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium, headless: true, viewport: { width: 1280, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const tab = context.pages()[0] || await context.newPage();
  tab.on('request', (r) => {
    const u = new URL(r.url());
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.host !== host) result.offHost.push(r.url());
  });
  tab.on('pageerror', (e) => result.pageErrors.push(String(e)));
  tab.on('dialog', (d) => d.accept());
  if (opts.login) return loginFlow(tab);
  const key = `${opts.group}/${opts.channel}`;

  // 1. Channels page: the channel is publishing.
  await tab.goto(`${opts.base}/console/`);
  await tab.evaluate(() => { window.__noReload = true; });
  const row = `tr[data-channel="${key}"]`;
  const status = await until('the channel to show Publishing', 30000, async () => {
    const t = await tab.locator(`${row} [data-testid=status]`).textContent({ timeout: 1000 }).catch(() => '');
    return t === 'Publishing' && t;
  });
  await until('the ranges bar', 10000, () => tab.locator(`${row} .bar span`).count());
  await tab.screenshot({ path: join(opts.out, 'channels.png'), fullPage: true });
  step('channels', { channelStatus: status, tracks: await tab.locator(`${row} td`).nth(2).textContent() });

  // 2. Details: the preview plays.
  await tab.locator(`${row} a`).first().click();
  const preview = await until('the preview to play', 40000, async () => {
    const s = await videoState(tab, '#preview');
    return s && s.currentTime > 1 && s.width > 0 && s;
  });
  step('preview', { previewTime: preview.currentTime, previewWidth: preview.width, previewHeight: preview.height, previewURL: preview.src });

  // 3. DVR timeline: drag over the first half of the recording.
  await until('the timeline', 10000, () => tab.locator('#timeline .span').count());
  const box = await tab.locator('#timeline').boundingBox();
  const y = box.y + box.height / 2;
  await tab.mouse.move(box.x + box.width * 0.25, y);
  await tab.mouse.down();
  await tab.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
  await tab.mouse.move(box.x + box.width * 0.65, y, { steps: 5 });
  await tab.mouse.up();
  const tsURL = await until('the time-shift URL', 5000, async () => {
    const t = await tab.locator('#timeshift-url').textContent();
    return /[?&]start=\d+&end=\d+/.test(t) && t;
  });
  const past = await until('the past window to play', 40000, async () => {
    const s = await videoState(tab, '#preview');
    return s && s.src === tsURL && s.currentTime > 1 && s.width > 0 && s;
  });
  const sel = { from: +new URL(tsURL).searchParams.get('start'), to: +new URL(tsURL).searchParams.get('end') };
  await tab.screenshot({ path: join(opts.out, 'channel.png'), fullPage: true });
  step('timeline', { timeshiftURL: tsURL, timeshiftTime: past.currentTime, timeshiftWidth: past.width, selection: sel });

  // 4. Harvest this range: the form is pre-filled; the Epoch/ISO switch
  // round-trips; the job completes in the table without a reload.
  await tab.locator('#tl-harvest').click();
  await until('the pre-filled form', 10000, async () => (await tab.locator('#job-form-start').inputValue()) !== '');
  const epochStart = await tab.locator('#job-form-start').inputValue();
  const epochEnd = await tab.locator('#job-form-end').inputValue();
  await tab.locator('#fmt-iso').check();
  const isoStart = await tab.locator('#job-form-start').inputValue();
  await tab.locator('#fmt-epoch').check();
  const backStart = await tab.locator('#job-form-start').inputValue();
  const jobID = await tab.locator('#job-form-id').inputValue();
  step('switch', { epochStart, epochEnd, isoStart, backStart, prefilledID: jobID,
    prefilledEndpoint: await tab.locator('#job-form-endpoint').inputValue() });
  await tab.locator('#job-form button[type=submit]').click();
  const jobRow = `#jobs tr[data-job="${jobID}"]`;
  await until('the harvested job to complete', 40000, async () =>
    (await tab.locator(`${jobRow} [data-testid=job-status]`).textContent({ timeout: 500 }).catch(() => '')) === 'Completed');
  step('harvest', { harvestCompleted: true, harvestDeletable: await tab.locator(`${jobRow} [data-action=delete]`).count() });

  // 5. A job ending 6 s from now: Running without Delete, then Completed
  // with Delete, in the same page.
  const now = Math.floor(Date.now() / 1000);
  const running = 'running-job';
  await tab.locator('#job-form-id').fill(running);
  await tab.locator('#job-form-start').fill(String(sel.from));
  await tab.locator('#job-form-end').fill(String(now + 6));
  await tab.locator('#job-form button[type=submit]').click();
  const runRow = `#jobs tr[data-job="${running}"]`;
  const seen = [];
  let deleteWhileRunning = 0;
  await until('the running job to complete', 45000, async () => {
    // Status and Delete button from one DOM snapshot (the table re-renders).
    const { s, del } = await tab.evaluate((sel) => {
      const row = document.querySelector(sel);
      const st = row && row.querySelector('[data-testid=job-status]');
      return { s: st ? st.textContent : '', del: row ? row.querySelectorAll('[data-action=delete]').length : 0 };
    }, runRow);
    if (s && seen[seen.length - 1] !== s) seen.push(s);
    if (s === 'Running') deleteWhileRunning += del;
    return s === 'Completed';
  });
  step('running', { runningStatuses: seen, deleteWhileRunning, deleteWhenCompleted: await tab.locator(`${runRow} [data-action=delete]`).count() });

  // 6. Field errors: a bad ID and a range over 24 h.
  await tab.locator('#job-form-id').fill('bad id!');
  const idError = await tab.locator('#err-job-form-id').textContent();
  await tab.locator('#job-form-start').fill(String(now - 3600));
  await tab.locator('#job-form-end').fill(String(now - 3600 + 90000));
  const endError = await tab.locator('#err-job-form-end').textContent();
  await tab.locator('#job-form-id').fill('');
  await tab.screenshot({ path: join(opts.out, 'jobs.png'), fullPage: true });
  step('errors', { idError, endError });

  // 7. Info view: progress and the package plays.
  await tab.locator(`${jobRow} a`).first().click();
  const info = await until('the Info view', 10000, async () => {
    const t = await tab.locator('#job-info').textContent();
    return t.includes('Completed') && t;
  });
  const progress = await tab.locator('#job-progress').textContent();
  await tab.locator('#job-play').click();
  const pkg = await until('the harvested package to play', 30000, async () => {
    const s = await videoState(tab, '#harvest-preview');
    return s && s.currentTime > 1 && s.width > 0 && s;
  });
  await tab.screenshot({ path: join(opts.out, 'job-info.png'), fullPage: true });
  step('info', { infoHasID: info.includes(jobID), progress, packageTime: pkg.currentTime, packageURL: pkg.src });

  // 8. Delete the completed job from its Info view.
  await tab.locator('#job-info [data-action=delete]').click();
  await until('the job to leave the table', 10000, async () =>
    (await tab.locator(jobRow).count()) === 0 && (await tab.locator('#jobs').count()) === 1);
  step('delete', { deleted: true, noReload: await tab.evaluate(() => window.__noReload === true),
    cspViolations: await tab.evaluate(() => window.__csp) });
}

// loginFlow (--login KEY:SECRET): a console with credentials asks for
// them, shows a wrong secret next to its field, then works with the session
// (a state-changing request carries the CSRF token) and logs out.
async function loginFlow(tab) {
  const [key, secret] = opts.login.split(':');
  await tab.goto(`${opts.base}/console/#/channels`);
  await tab.waitForSelector('#login', { timeout: 10000 });
  await tab.locator('#login-accessKey').fill(key);
  await tab.locator('#login-secret').fill('wrong');
  await tab.locator('#login button[type=submit]').click();
  const loginError = await until('the login error', 5000, () => tab.locator('#err-login-secret').textContent());
  await tab.screenshot({ path: join(opts.out, 'login.png') });
  await tab.locator('#login-secret').fill(secret);
  await tab.keyboard.press('Enter');
  await tab.waitForSelector('#group-form', { timeout: 10000 });
  await tab.locator('#group-form-name').fill('bad name');
  await tab.locator('#group-form-name').press('Enter');
  const groupError = await until('the group name error', 5000, () => tab.locator('#err-group-form-name').textContent());
  await tab.locator('#group-form-name').fill(opts.group);
  await tab.locator('#group-form-name').press('Enter');
  await until('the new group', 5000, async () => (await tab.locator('#channels').textContent()).includes(`Group ${opts.group}`));
  const cookies = await tab.context().cookies();
  await tab.locator('#logout').click();
  await tab.waitForSelector('#login', { timeout: 10000 });
  step('login', { loginError, groupError, groupCreated: true, cookies: cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite })) });
}

main().then(async () => {
  process.stdout.write(JSON.stringify({ result }) + '\n');
  await cleanup();
  process.exit(0);
}, async (e) => {
  result.error = `${e.message} (after steps ${result.steps.join(', ')})`;
  process.stdout.write(JSON.stringify({ result }) + '\n');
  await cleanup();
  process.exit(1);
});
