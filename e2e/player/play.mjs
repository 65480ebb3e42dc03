// play.mjs plays an HLS or DASH URL in headless Chromium with hls.js,
// dash.js or Shaka Player and prints what the player does, as JSON lines on
// stdout.
//
// Usage:
//   node play.mjs [options] URL
//
// Options:
//   --engine hls|dash|shaka|mp4   player library (default: dash for .mpd URLs,
//                       mp4 for .mp4 URLs, else hls); shaka plays both HLS and
//                       DASH; mp4 is a plain <video src> (progressive MP4,
//                       fetched by Range requests), --start-at seeks it once
//                       metadata is loaded
//   --seconds N         how long to sample once the page is loaded (default 30)
//   --interval-ms N     sampling period (default 500)
//   --start-at S        start position in seconds (hls.js startPosition /
//                       dash.js seek after load); default: the player's own
//   --rate R            playbackRate (default 1)
//   --until-time T      stop early once currentTime >= T
//   --chromium PATH     browser binary (default /usr/bin/chromium, or $CHROMIUM)
//
// With REWIND_PLAYER_LOG=PREFIX set, hls.js logs in debug mode and its last
// 400 lines are written to PREFIX-hls-PID.log at the end (for diagnosing a
// player error; the other engines write an empty file).
//
// Output, one JSON object per line:
//   {"sample":{"t":ms,"wall":epoch ms,"currentTime":s,"readyState":n,"paused":b,"buffered":[[s,e],...],
//              "latency":s|null,"wallLatency":s|null,"videoWidth":n,"seeked":n}}   every interval
//   (seeked: how many times the video element fired "seeked")
//   (latency: hls.js's estimate behind the live edge; wallLatency: the wall
//   clock minus the program date time at the playhead, hls.playingDate)
//   (currentTime and buffered are in the player's own timeline: seconds
//   from the start of the presentation for hls.js and Shaka, the MPD's
//   timeline for dash.js)
//   {"error":{...}}                                every player or page error, as it happens
//   (an hls.js error the page recovered from with recoverMediaError() has
//   "recovered":true; see the ERROR handler for the one error it recovers)
//   {"done":{"maxCurrentTime":s,"samples":n,"fatal":b,"errors":n,"reason":"..."}}   last line
// Exit status: 0 when sampling ran to the end (or --until-time was reached)
// without a fatal player error; 1 on a fatal error or a failure to start;
// 2 on bad usage. The whole run is bounded: it gives up after --seconds + 60 s.
//
// The page (with hls.js / dash.js from node_modules) is served on 127.0.0.1
// on a free port; the media URL may be anywhere the browser can reach (it
// needs CORS, which Rewind sends). The browser gets a fresh user data dir,
// removed at the end. Install with `npm ci` in this folder.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

function usage(msg) {
  process.stderr.write(`play.mjs: ${msg}\nusage: node play.mjs [--engine hls|dash|shaka] [--seconds N] [--interval-ms N] [--start-at S] [--rate R] [--until-time T] URL\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { engine: '', seconds: 30, intervalMs: 500, startAt: null, rate: 1, untilTime: null,
    chromium: process.env.CHROMIUM || '/usr/bin/chromium', url: '' };
  const num = (name, v) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${name} wants a number >= 0, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--engine': o.engine = argv[++i]; if (!['hls', 'dash', 'shaka', 'mp4'].includes(o.engine)) usage('--engine is hls, dash, shaka or mp4'); break;
      case '--seconds': o.seconds = num(a, argv[++i]); break;
      case '--interval-ms': o.intervalMs = Math.max(50, num(a, argv[++i])); break;
      case '--start-at': o.startAt = num(a, argv[++i]); break;
      case '--rate': o.rate = num(a, argv[++i]) || 1; break;
      case '--until-time': o.untilTime = num(a, argv[++i]); break;
      case '--chromium': o.chromium = argv[++i]; break;
      default:
        if (a.startsWith('--') || o.url) usage(`unexpected argument ${a}`);
        o.url = a;
    }
  }
  if (!o.url) usage('missing URL');
  if (!o.engine) o.engine = /\.mpd(\?|$)/.test(o.url) ? 'dash' : /\.mp4(\?|$)/.test(o.url) ? 'mp4' : 'hls';
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const libs = {
  '/hls.js': join(here, 'node_modules/hls.js/dist/hls.min.js'),
  '/dash.js': join(here, 'node_modules/dashjs/dist/modern/umd/dash.all.min.js'),
  '/shaka.js': join(here, 'node_modules/shaka-player/dist/shaka-player.compiled.js'),
};

// The page exposes window.rewindPlayer = {errors: [], fatal: false}.
const page = `<!doctype html><html><head><meta charset="utf-8">${opts.engine === 'mp4' ? '' : `<script src="/${opts.engine}.js"></script>`}</head>
<body><video id="v" muted autoplay playsinline width="320"></video><script>
const cfg = ${JSON.stringify({ engine: opts.engine, url: opts.url, startAt: opts.startAt, rate: opts.rate, debug: !!process.env.REWIND_PLAYER_LOG })};
const v = document.getElementById('v');
const state = window.rewindPlayer = { errors: [], fatal: false, hls: null, seeked: 0, log: [], recoveries: 0 };
// REWIND_PLAYER_LOG: the player's last 400 debug lines, kept for the log file.
const keep = (level) => (...a) => { state.log.push(performance.now().toFixed(0) + ' ' + level + ' ' + a.map(String).join(' ')); if (state.log.length > 400) state.log.shift(); };
const debugLogger = { trace: keep('trace'), debug: keep('debug'), log: keep('log'), info: keep('info'), warn: keep('warn'), error: keep('error') };
v.addEventListener('seeked', () => { state.seeked++; });
const report = (e) => { state.errors.push(e); if (e.fatal) state.fatal = true; };
v.addEventListener('error', () => report({ source: 'video', fatal: true, code: v.error && v.error.code, message: v.error && v.error.message }));
v.addEventListener('loadedmetadata', () => { v.playbackRate = cfg.rate; v.play().catch((e) => report({ source: 'play', fatal: false, message: String(e) })); });
if (cfg.engine === 'mp4') {
  if (cfg.startAt !== null) v.addEventListener('loadedmetadata', () => { v.currentTime = cfg.startAt; }, { once: true });
  v.src = cfg.url;
} else if (cfg.engine === 'hls') {
  if (!Hls.isSupported()) report({ source: 'hls', fatal: true, message: 'MSE not supported' });
  const hls = state.hls = new Hls({ startPosition: cfg.startAt === null ? -1 : cfg.startAt, debug: cfg.debug ? debugLogger : false });
  hls.on(Hls.Events.ERROR, (_, d) => {
    const e = { source: 'hls', fatal: !!d.fatal, type: d.type, details: d.details,
      url: d.frag ? d.frag.url : (d.url || (d.context && d.context.url) || ''),
      part: d.part ? d.part.url : undefined, buffer: d.sourceBufferName,
      message: d.error ? String(d.error.name || '') + ': ' + String(d.error.message || d.error).slice(0, 300) : undefined };
    // hls.js 1.7's SourceBuffer queue can call appendBuffer while the
    // buffer is still updating (a player race independent of the bytes,
    // seen with LL-HLS parts and an alternate audio playlist in Chromium
    // 156). A page recovers as hls.js documents, with recoverMediaError();
    // only that error is recovered, at most 5 times, and each recovery is
    // reported (recovered: true) so a test can count them.
    if (d.fatal && d.details === 'bufferAppendError' && state.recoveries < 5 && d.error &&
        /still processing an 'appendBuffer' or 'remove' operation/.test(String(d.error.message))) {
      state.recoveries++;
      report({ ...e, fatal: false, recovered: true });
      hls.recoverMediaError();
      return;
    }
    report(e);
  });
  hls.loadSource(cfg.url);
  hls.attachMedia(v);
} else if (cfg.engine === 'shaka') {
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) report({ source: 'shaka', fatal: true, message: 'browser not supported' });
  const p = state.shaka = new shaka.Player();
  // Shaka reports every error as an event; severity 2 (CRITICAL) stops playback.
  p.addEventListener('error', (e) => { const d = e.detail || {}; report({ source: 'shaka', fatal: d.severity === 2,
    code: d.code, category: d.category, message: JSON.stringify(d.data || []).slice(0, 300) }); });
  p.attach(v).then(() => p.load(cfg.url, cfg.startAt === null ? undefined : cfg.startAt))
    .catch((e) => report({ source: 'shaka', fatal: true, code: e && e.code, message: String(e && e.message || e) }));
} else {
  const p = dashjs.MediaPlayer().create();
  p.on(dashjs.MediaPlayer.events.ERROR, (e) => report({ source: 'dash', fatal: true, message: JSON.stringify(e.error || e).slice(0, 500) }));
  p.initialize(v, cfg.url, true);
  if (cfg.startAt !== null) p.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => p.seek(cfg.startAt));
  state.dash = p;
}
</script></body></html>`;

const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  } else if (libs[path]) {
    try {
      const body = readFileSync(libs[path]);
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(body);
    } catch (e) {
      res.writeHead(500); res.end(String(e));
    }
  } else {
    res.writeHead(404); res.end();
  }
});

let context = null;
const userDataDir = mkdtempSync(join(tmpdir(), 'rewind-player-'));
let finished = false;

async function cleanup() {
  if (context) await context.close().catch(() => {});
  server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}

// A hard bound on the whole run, whatever hangs.
const hardLimit = setTimeout(async () => {
  out({ done: { maxCurrentTime: null, samples: 0, fatal: true, errors: 0, reason: 'hard time limit reached' } });
  await cleanup();
  process.exit(1);
}, (opts.seconds + 60) * 1000);
hardLimit.unref();

async function main() {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pageURL = `http://127.0.0.1:${server.address().port}/`;
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const tab = context.pages()[0] || await context.newPage();
  tab.on('pageerror', (e) => out({ error: { source: 'page', fatal: false, message: String(e) } }));
  await tab.goto(pageURL);
  const started = Date.now();
  let maxTime = 0, samples = 0, seenErrors = 0, reason = 'duration elapsed';
  while (Date.now() - started < opts.seconds * 1000) {
    await new Promise((r) => setTimeout(r, opts.intervalMs));
    const s = await tab.evaluate(() => {
      const v = document.getElementById('v');
      const st = window.rewindPlayer;
      const buffered = [];
      for (let i = 0; i < v.buffered.length; i++) buffered.push([v.buffered.start(i), v.buffered.end(i)]);
      const latency = st.hls && Number.isFinite(st.hls.latency) ? st.hls.latency : null;
      const pd = st.hls && st.hls.playingDate;
      const wallLatency = pd && !v.paused ? (Date.now() - pd.getTime()) / 1000 : null;
      return { currentTime: v.currentTime, readyState: v.readyState, paused: v.paused, buffered, latency, wallLatency,
        videoWidth: v.videoWidth, errors: st.errors, fatal: st.fatal, seeked: st.seeked };
    });
    for (; seenErrors < s.errors.length; seenErrors++) out({ error: s.errors[seenErrors] });
    samples++;
    maxTime = Math.max(maxTime, s.currentTime);
    out({ sample: { t: Date.now() - started, wall: Date.now(), currentTime: s.currentTime, readyState: s.readyState, paused: s.paused,
      buffered: s.buffered, latency: s.latency, wallLatency: s.wallLatency, videoWidth: s.videoWidth, seeked: s.seeked } });
    if (s.fatal) { reason = 'fatal player error'; break; }
    if (opts.untilTime !== null && s.currentTime >= opts.untilTime) { reason = 'reached --until-time'; break; }
  }
  const fatal = reason === 'fatal player error';
  if (process.env.REWIND_PLAYER_LOG) {
    const lines = await tab.evaluate(() => window.rewindPlayer.log).catch((e) => [String(e)]);
    writeFileSync(process.env.REWIND_PLAYER_LOG + '-' + opts.engine + '-' + process.pid + '.log', lines.join('\n') + '\n');
  }
  out({ done: { maxCurrentTime: maxTime, samples, fatal, errors: seenErrors, reason } });
  return fatal ? 1 : 0;
}

main().then(async (code) => {
  finished = true;
  await cleanup();
  process.exit(code);
}, async (e) => {
  if (!finished) out({ done: { maxCurrentTime: null, samples: 0, fatal: true, errors: 0, reason: String(e && e.message || e) } });
  await cleanup();
  process.exit(1);
});
