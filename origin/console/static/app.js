// Rewind console: a small vanilla-JS app over /console/api/ (see
// origin/console). Pages are rendered from hash routes:
//   #/channels                      groups, channels, create/delete forms
//   #/channel/{group}/{channel}     endpoints, preview player, DVR timeline, jobs
//   #/jobs                          harvest jobs table and Create Harvest Job form
//   #/job/{group}/{channel}/{id}    a job's Info view
// Data is polled every 2 s (job and channel status) without reloading.
'use strict';

const POLL_MS = 2000;
const DAY = 86400;
const app = { csrf: '', poll: null, player: null, overview: null, jobs: null, route: '', prefill: null, format: 'epoch' };
window.rewindConsole = app; // for tests and the curious

// ---- helpers ---------------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'style') { // CSSOM: the CSP allows no inline style attributes
      for (const decl of String(v).split(';')) {
        const i = decl.indexOf(':');
        if (i > 0) el.style.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
      }
    }
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) el.append(k instanceof Node ? k : String(k));
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);
const iso = (s) => (s ? new Date(s * 1000).toISOString() : '');
const fmtTime = (s) => (s ? new Date(s * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
function fmtDur(s) {
  s = Math.round(s);
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  if (s >= 60) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${s} s`;
}
function fmtBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
function toast(msg) {
  $('#toast').textContent = msg;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { $('#toast').textContent = ''; }, 3000);
}

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.field = body && body.error && body.error.field;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = app.csrf;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch('/console/api/' + path, opts);
  let doc = null;
  try { doc = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401 && path !== 'login') { showLogin(); throw new APIError(401, doc); }
  if (!res.ok) throw new APIError(res.status, doc);
  return doc;
}

// field builds a labelled control with its error slot (id err-{form}-{name}).
function field(form, name, label, control) {
  control.id = control.id || `${form}-${name}`;
  control.name = name;
  const err = h('div', { class: 'field-error', id: `err-${form}-${name}`, role: 'alert' });
  control.setAttribute('aria-describedby', err.id);
  return h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control, err);
}

function clearErrors(formEl) {
  for (const e of formEl.querySelectorAll('.field-error, .form-error')) e.textContent = '';
  for (const e of formEl.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

// showError puts an API error next to the field it concerns (or under
// the form).
function showError(formEl, err, fallbackField) {
  const name = err.field || fallbackField;
  const slot = name && formEl.querySelector(`#err-${formEl.id}-${name}`);
  if (slot) {
    slot.textContent = err.message;
    const c = formEl.querySelector(`[name="${name}"]`);
    if (c) { c.setAttribute('aria-invalid', 'true'); c.focus(); }
  } else {
    formEl.querySelector('.form-error').textContent = err.message;
  }
}

// ---- session ---------------------------------------------------------

async function start() {
  const s = await api('GET', 'session');
  if (s.loginRequired && !s.loggedIn) { showLogin(); return; }
  app.csrf = s.csrf;
  $('#logout').hidden = !s.loginRequired;
  window.addEventListener('hashchange', route);
  route();
}

function showLogin() {
  stopPoll();
  destroyPlayer();
  const form = h('form', { id: 'login', class: 'card' },
    h('h2', { text: 'Log in' }),
    h('p', { class: 'muted', text: 'Use an access key and its secret configured in Rewind.' }),
    field('login', 'accessKey', 'Access key', h('input', { autocomplete: 'username', required: true })),
    field('login', 'secret', 'Secret', h('input', { type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { class: 'primary', type: 'submit', text: 'Log in' }),
    h('div', { class: 'form-error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const s = await api('POST', 'login', { AccessKey: form.accessKey.value, Secret: form.secret.value });
      app.csrf = s.csrf;
      $('#logout').hidden = false;
      window.addEventListener('hashchange', route);
      route();
    } catch (e) { showError(form, e, 'secret'); }
  });
  $('#main').replaceChildren(form);
  form.accessKey.focus();
}

$('#logout').addEventListener('click', async () => {
  await api('POST', 'logout', {});
  app.csrf = '';
  showLogin();
});

// ---- routing and polling ---------------------------------------------

function stopPoll() { clearInterval(app.poll); app.poll = null; }

function route() {
  stopPoll();
  destroyPlayer();
  const parts = (location.hash.replace(/^#\/?/, '') || 'channels').split('/').map(decodeURIComponent);
  const page = parts[0];
  for (const a of document.querySelectorAll('header nav a')) a.removeAttribute('aria-current');
  const main = $('#main');
  main.replaceChildren();
  if (page === 'channel' && parts.length === 3) {
    $('#nav-channels').setAttribute('aria-current', 'page');
    channelPage(main, parts[1], parts[2]);
  } else if (page === 'jobs') {
    $('#nav-jobs').setAttribute('aria-current', 'page');
    jobsPage(main);
  } else if (page === 'job' && parts.length === 4) {
    $('#nav-jobs').setAttribute('aria-current', 'page');
    jobInfoPage(main, parts[1], parts[2], parts[3]);
  } else {
    $('#nav-channels').setAttribute('aria-current', 'page');
    channelsPage(main);
  }
}

// every runs f now and then every POLL_MS while the page is shown.
function every(f) {
  const tick = async () => { try { await f(); } catch (e) { if (e.status !== 401) console.warn(e); } };
  tick();
  app.poll = setInterval(tick, POLL_MS);
}

async function loadOverview() {
  app.overview = await api('GET', 'overview');
  return app.overview;
}
async function loadJobs() {
  app.jobs = await api('GET', 'jobs');
  return app.jobs;
}

// ---- channels page ---------------------------------------------------

function channelsPage(main) {
  const list = h('div', { id: 'channels' });
  main.append(h('h2', { text: 'Channels' }), list, createForms());
  every(async () => {
    const o = await loadOverview();
    renderChannels(list, o);
    refreshGroupPickers(o);
  });
}

function describeTracks(tracks) {
  const rate = (t) => (t.bitrate ? ` ${t.bitrate >= 1e6 ? (t.bitrate / 1e6).toFixed(1) + ' Mbit/s' : Math.round(t.bitrate / 1e3) + ' kbit/s'}` : '');
  return tracks.map((t) => (t.kind === 'video'
    ? `${t.codec} ${t.width}×${t.height}${t.frameRate ? ' @' + Math.round(t.frameRate * 100) / 100 : ''}`
    : `${t.codec}${t.sampleRate ? ' ' + t.sampleRate / 1000 + ' kHz' : ''}${t.channels ? ' ' + t.channels + ' ch' : ''}`) + rate(t)).join(', ');
}

function renderChannels(list, o) {
  const out = [];
  if (o.groups.length === 0) out.push(h('p', { class: 'muted', text: 'No channel group yet: create one below, or publish to rtsp://…/{group}/{channel} with auto-provisioning on.' }));
  for (const g of o.groups) {
    const rows = g.channels.map((c) => h('tr', { 'data-channel': `${c.group}/${c.name}` },
      h('td', {}, h('a', { href: `#/channel/${encodeURIComponent(c.group)}/${encodeURIComponent(c.name)}`, text: c.name })),
      h('td', {}, h('span', { class: `badge ${c.live ? 'live' : 'offline'}`, 'data-testid': 'status', text: c.live ? 'Publishing' : 'Not publishing' })),
      h('td', {}, c.tracks.length ? describeTracks(c.tracks) : h('span', { class: 'muted', text: 'nothing recorded' })),
      h('td', {}, c.ingest.map((u) => h('div', { class: 'url' }, u))),
      h('td', {}, rangesBar(c)),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete channel ${c.group}/${c.name}`,
        onclick: () => del(`channels/${encodeURIComponent(c.group)}/${encodeURIComponent(c.name)}`, `channel ${c.group}/${c.name}`) }, 'Delete'))));
    out.push(h('section', { class: 'card', 'aria-label': `Group ${g.name}` },
      h('h3', {}, `Group ${g.name} `, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete group ${g.name}`,
        onclick: () => del(`groups/${encodeURIComponent(g.name)}`, `group ${g.name}`) }, 'Delete group')),
      g.description ? h('p', { class: 'muted', text: g.description }) : null,
      rows.length ? h('table', {},
        h('thead', {}, h('tr', {}, ['Channel', 'Status', 'Tracks', 'Ingest URL', 'Recorded (last hour)', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)) : h('p', { class: 'muted', text: 'No channel in this group.' })));
  }
  list.replaceChildren(...out);
}

// rangesBar draws the recorded spans of the channel's first endpoint over
// the last hour; it is filled in asynchronously from the data plane's
// /ranges listing.
function rangesBar(c) {
  const bar = h('div', { class: 'bar', role: 'img', 'aria-label': 'recorded ranges: none' });
  const ep = c.endpoints[0];
  if (!ep) return bar;
  fetch(ep.ranges).then((r) => (r.ok ? r.json() : null)).then((doc) => {
    if (!doc) return;
    const now = Date.parse(doc.now) / 1000, from = now - 3600;
    let total = 0;
    for (const s of doc.spans) {
      const a = Math.max(Date.parse(s.start) / 1000, from), b = Math.min(Date.parse(s.end) / 1000, now);
      if (b <= a) continue;
      total += b - a;
      bar.append(h('span', { style: `left:${((a - from) / 3600) * 100}%;width:${Math.max(((b - a) / 3600) * 100, 0.3)}%` }));
    }
    bar.setAttribute('aria-label', `recorded in the last hour: ${fmtDur(total)}`);
    bar.title = bar.getAttribute('aria-label');
  }).catch(() => {});
  return bar;
}

async function del(path, what) {
  if (!confirm(`Delete ${what}?`)) return;
  try {
    await api('DELETE', path);
    toast(`Deleted ${what}`);
    route();
  } catch (e) { toast(e.message); }
}

// submitForm posts the form's values and shows errors inline.
function submitForm(form, path, values, done) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const res = await api('POST', path, values());
      form.reset();
      done(res);
    } catch (e) { showError(form, e, 'name'); }
  });
  return form;
}

function groupPicker(id) {
  return h('select', { id, 'data-group-picker': true, required: true });
}
function refreshGroupPickers(o) {
  for (const sel of document.querySelectorAll('[data-group-picker]')) {
    const cur = sel.value;
    const names = o.groups.map((g) => g.name);
    if (sel.options.length === names.length && [...sel.options].every((op, i) => op.value === names[i])) continue;
    sel.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
    if (names.includes(cur)) sel.value = cur;
  }
}

function createForms() {
  const g = submitForm(h('form', { id: 'group-form', class: 'inline', 'aria-label': 'Create channel group' },
    field('group-form', 'name', 'Group name', h('input', { required: true, maxlength: 256 })),
    field('group-form', 'description', 'Description', h('input', {})),
    h('button', { class: 'primary', type: 'submit', text: 'Create group' }),
    h('div', { class: 'form-error', role: 'alert' })),
  'groups', () => ({ Name: g.elements.name.value, Description: g.elements.description.value }), () => { toast('Group created'); loadOverview().then((o) => { renderChannels($('#channels'), o); refreshGroupPickers(o); }); });
  const c = submitForm(h('form', { id: 'channel-form', class: 'inline', 'aria-label': 'Create channel' },
    field('channel-form', 'group', 'Group', groupPicker('channel-form-group')),
    field('channel-form', 'name', 'Channel name', h('input', { required: true, maxlength: 256 })),
    h('button', { class: 'primary', type: 'submit', text: 'Create channel' }),
    h('div', { class: 'form-error', role: 'alert' })),
  'channels', () => ({ Group: c.elements.group.value, Name: c.elements.name.value }), () => { toast('Channel created'); loadOverview().then((o) => renderChannels($('#channels'), o)); });
  return h('section', { class: 'card' }, h('h3', { text: 'Create' }), g, c);
}

// ---- channel details -------------------------------------------------

function channelPage(main, group, name) {
  const head = h('div', {});
  const endpoints = h('div', { id: 'endpoints' });
  const video = h('video', { id: 'preview', muted: true, autoplay: true, controls: true, playsinline: true, 'aria-label': 'Preview player' });
  video.muted = true;
  const source = h('select', { id: 'preview-source' });
  const nowPlaying = h('div', { id: 'now-playing', class: 'url' });
  const tl = timelineWidget();
  const jobs = h('div', { id: 'channel-jobs' });
  const epForm = submitForm(h('form', { id: 'endpoint-form', class: 'inline', 'aria-label': 'Create origin endpoint' },
    field('endpoint-form', 'name', 'Endpoint name', h('input', { required: true })),
    field('endpoint-form', 'segmentSeconds', 'Segment (s)', h('input', { type: 'number', min: 1, max: 30, value: 2 })),
    field('endpoint-form', 'startoverSeconds', 'Time-shift window (s, 0 = default)', h('input', { type: 'number', min: 0, value: 86400 })),
    h('button', { class: 'primary', type: 'submit', text: 'Create endpoint' }),
    h('div', { class: 'form-error', role: 'alert' })),
  'endpoints', () => ({ Group: group, Channel: name, Name: epForm.elements.name.value,
    SegmentSeconds: +epForm.elements.segmentSeconds.value, StartoverSeconds: +epForm.elements.startoverSeconds.value }),
  () => { toast('Endpoint created'); route(); });
  main.append(h('p', {}, h('a', { href: '#/channels', text: '← Channels' })), head,
    h('section', { class: 'card' }, h('h3', { text: 'Preview' }),
      h('div', { class: 'player' }, video,
        h('div', {}, field('preview', 'source', 'Manifest', source), h('div', { class: 'muted', text: 'Playing:' }), nowPlaying))),
    h('section', { class: 'card' }, h('h3', { text: 'DVR timeline' }),
      h('p', { class: 'muted', text: 'Drag over the recorded ranges (or type the times below) to play a past window.' }), tl.el),
    h('section', { class: 'card' }, h('h3', { text: 'Endpoints' }), endpoints, epForm),
    h('section', { class: 'card' }, h('h3', { text: 'Harvest jobs of this channel' }), jobs,
      h('p', {}, h('a', { href: '#/jobs', text: 'All harvest jobs and the Create Harvest Job form' }))));

  let chan = null;
  const playSource = () => {
    const m = chan && findManifest(chan, source.value);
    if (m) play(video, m.url, m.type, nowPlaying);
  };
  source.addEventListener('change', playSource);
  tl.onSelect = (from, to) => {
    const m = chan && findManifest(chan, source.value);
    if (!m) return;
    const url = `${m.url}?start=${Math.floor(from)}&end=${Math.ceil(to)}`;
    play(video, url, m.type, nowPlaying);
  };
  tl.onHarvest = (from, to) => {
    const m = chan && findManifest(chan, source.value);
    app.prefill = { group, channel: name, endpoint: m ? m.endpoint : (chan.endpoints[0] || {}).name, start: from, end: to };
    location.hash = '#/jobs';
  };
  every(async () => {
    const o = await loadOverview();
    const g = o.groups.find((x) => x.name === group);
    const c = g && g.channels.find((x) => x.name === name);
    if (!c) { head.replaceChildren(h('h2', { text: `${group}/${name}` }), h('p', { class: 'form-error', text: 'This channel does not exist (any more).' })); return; }
    const first = !chan;
    chan = c;
    head.replaceChildren(h('h2', {}, `${group}/${name} `, h('span', { class: `badge ${c.live ? 'live' : 'offline'}`, 'data-testid': 'status', text: c.live ? 'Publishing' : 'Not publishing' })),
      h('div', { class: 'grid2' },
        h('div', {}, h('strong', { text: 'Ingest: ' }), c.ingest.map((u) => copyable(u))),
        h('div', {}, h('strong', { text: 'Tracks: ' }), c.tracks.length ? describeTracks(c.tracks) : 'nothing recorded')));
    renderEndpoints(endpoints, c);
    if (first) {
      source.replaceChildren(...c.endpoints.flatMap((e) => e.manifests.map((m) => h('option', { value: `${e.name}|${m.type}|${m.name}`, text: `${e.name} · ${m.type} ${m.name}` }))));
      playSource();
    }
    const ep = c.endpoints.find((e) => e.name === (source.value.split('|')[0])) || c.endpoints[0];
    if (ep) tl.update(ep.ranges);
    const jl = await loadJobs();
    renderJobTable(jobs, jl.jobs.filter((j) => j.group === group && j.channel === name));
  });
}

function findManifest(c, key) {
  const [ep, type, name] = key.split('|');
  const e = c.endpoints.find((x) => x.name === ep);
  const m = e && e.manifests.find((x) => x.type === type && x.name === name);
  return m && { ...m, endpoint: ep };
}

function copyable(text) {
  const btn = h('button', { type: 'button', 'aria-label': `Copy ${text}`, text: 'Copy' });
  btn.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(text); toast('Copied'); } catch { toast('Copy failed: select the URL instead'); }
  });
  return h('div', {}, h('code', { class: 'url', text }), ' ', btn);
}

function renderEndpoints(el, c) {
  if (!c.endpoints.length) { el.replaceChildren(h('p', { class: 'muted', text: 'No endpoint: create one below.' })); return; }
  el.replaceChildren(h('table', {},
    h('thead', {}, h('tr', {}, ['Endpoint', 'Time-shift window', 'Manifests', ''].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, c.endpoints.map((e) => h('tr', {},
      h('td', { text: e.name }),
      h('td', { text: fmtDur(e.startover) }),
      h('td', {}, e.manifests.map((m) => h('div', {}, h('span', { class: 'muted', text: `${m.type} ${m.name}: ` }), copyable(m.url)))),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete endpoint ${e.name}`,
        onclick: () => del(`endpoints/${encodeURIComponent(c.group)}/${encodeURIComponent(c.name)}/${encodeURIComponent(e.name)}`, `endpoint ${e.name}`) }, 'Delete')))))));
}

// timelineWidget is the DVR timeline: the recorded spans over the
// recorded period, a pointer-drag selection and, for keyboards, two time
// inputs with Play and Harvest buttons.
function timelineWidget() {
  const bar = h('div', { class: 'timeline', id: 'timeline', tabindex: 0, role: 'group', 'aria-label': 'Recorded ranges: drag to select a window' });
  const scale = h('div', { class: 'timeline-scale' }, h('span', {}), h('span', {}));
  const from = h('input', { id: 'tl-from', name: 'from', placeholder: 'ISO-8601 or epoch seconds' });
  const to = h('input', { id: 'tl-to', name: 'to', placeholder: 'ISO-8601 or epoch seconds' });
  const url = h('div', { id: 'timeshift-url', class: 'url' });
  const err = h('div', { class: 'field-error', id: 'err-timeline', role: 'alert' });
  const t = { el: null, lo: 0, hi: 0, sel: null, onSelect: null, onHarvest: null };
  const playBtn = h('button', { type: 'button', id: 'tl-play', text: 'Play this range' });
  const harvestBtn = h('button', { type: 'button', id: 'tl-harvest', class: 'primary', text: 'Harvest this range', disabled: true });
  t.el = h('div', {}, bar, scale,
    h('div', { class: 'inline', style: 'display:flex;gap:10px;align-items:flex-end;margin-top:8px' },
      h('div', { class: 'field' }, h('label', { for: 'tl-from', text: 'From' }), from),
      h('div', { class: 'field' }, h('label', { for: 'tl-to', text: 'To' }), to), playBtn, harvestBtn),
    err, h('div', { class: 'muted', text: 'Time-shift URL:' }), url);
  const x2t = (x) => { const r = bar.getBoundingClientRect(); return t.lo + Math.min(Math.max((x - r.left) / r.width, 0), 1) * (t.hi - t.lo); };
  const pct = (s) => ((s - t.lo) / (t.hi - t.lo)) * 100;
  const drawSel = () => {
    let s = bar.querySelector('.sel');
    if (!t.sel) { if (s) s.remove(); return; }
    if (!s) { s = h('div', { class: 'sel' }); bar.append(s); }
    const a = Math.min(t.sel[0], t.sel[1]), b = Math.max(t.sel[0], t.sel[1]);
    s.style.left = `${pct(a)}%`; s.style.width = `${Math.max(pct(b) - pct(a), 0.2)}%`;
  };
  const choose = (a, b) => {
    err.textContent = '';
    if (!(b > a)) { err.textContent = 'The end must be later than the start.'; return; }
    t.sel = [a, b];
    from.value = iso(a); to.value = iso(b);
    drawSel();
    harvestBtn.disabled = false;
    if (t.onSelect) t.onSelect(a, b);
    url.textContent = $('#now-playing') ? $('#now-playing').textContent : '';
  };
  let drag = null;
  bar.addEventListener('pointerdown', (ev) => { if (t.hi <= t.lo) return; bar.setPointerCapture(ev.pointerId); drag = x2t(ev.clientX); t.sel = [drag, drag]; drawSel(); });
  bar.addEventListener('pointermove', (ev) => { if (drag === null) return; t.sel = [drag, x2t(ev.clientX)]; drawSel(); });
  bar.addEventListener('pointerup', (ev) => {
    if (drag === null) return;
    const a = drag, b = x2t(ev.clientX);
    drag = null;
    choose(Math.min(a, b), Math.max(a, b));
  });
  playBtn.addEventListener('click', () => choose(parseTime(from.value), parseTime(to.value)));
  harvestBtn.addEventListener('click', () => { if (t.sel && t.onHarvest) t.onHarvest(Math.min(...t.sel), Math.max(...t.sel)); });
  t.update = async (rangesURL) => {
    const res = await fetch(rangesURL);
    if (!res.ok) { bar.setAttribute('aria-label', 'nothing recorded yet'); return; }
    const doc = await res.json();
    const now = Date.parse(doc.now) / 1000;
    const w0 = Date.parse(doc.window.start) / 1000;
    const first = doc.spans.length ? Date.parse(doc.spans[0].start) / 1000 : now - 60;
    t.lo = Math.max(w0, first - 5); t.hi = now;
    const kids = doc.spans.map((s) => {
      const a = Math.max(Date.parse(s.start) / 1000, t.lo), b = Date.parse(s.end) / 1000;
      return h('div', { class: 'span', title: `${s.start} – ${s.end}`, style: `left:${pct(a)}%;width:${Math.max(pct(b) - pct(a), 0.2)}%` });
    });
    bar.replaceChildren(...kids);
    drawSel();
    scale.children[0].textContent = fmtTime(t.lo);
    scale.children[1].textContent = fmtTime(t.hi);
    bar.dataset.lo = t.lo; bar.dataset.hi = t.hi;
  };
  return t;
}

// parseTime reads epoch seconds or an ISO-8601 date-time; NaN otherwise.
function parseTime(v) {
  v = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(v)) return +v;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v)) return NaN;
  return Date.parse(v) / 1000;
}

// ---- player ------------------------------------------------------------

function destroyPlayer() {
  if (!app.player) return;
  try { app.player.destroy ? app.player.destroy() : app.player.reset(); } catch { /* already gone */ }
  app.player = null;
}

// play loads url into video with hls.js (HLS, LL-HLS) or dash.js (DASH).
function play(video, url, type, label) {
  destroyPlayer();
  if (label) label.textContent = url;
  const tsu = $('#timeshift-url');
  if (tsu && /[?&]start=/.test(url)) tsu.textContent = url;
  video.dataset.src = url;
  if (type === 'DASH') {
    const p = dashjs.MediaPlayer().create();
    p.initialize(video, url, true);
    app.player = p;
  } else if (window.Hls && Hls.isSupported()) {
    const p = new Hls({ lowLatencyMode: type === 'LL-HLS' });
    p.loadSource(url);
    p.attachMedia(video);
    p.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    // A fatal media error is recovered as hls.js documents (a few times):
    // hls.js 1.7 can trip over its own SourceBuffer queue on LL-HLS parts
    // ("still processing an 'appendBuffer'"), which recoverMediaError clears.
    let recoveries = 0;
    p.on(Hls.Events.ERROR, (_, d) => {
      if (d.fatal && d.type === Hls.ErrorTypes.MEDIA_ERROR && recoveries++ < 3) p.recoverMediaError();
    });
    app.player = p;
  } else {
    video.src = url;
  }
}

// ---- harvest jobs ----------------------------------------------------

function renderJobTable(el, jobs) {
  if (!jobs.length) { el.replaceChildren(h('p', { class: 'muted', text: 'No harvest job.' })); return; }
  el.replaceChildren(h('table', { id: el.id + '-table' },
    h('thead', {}, h('tr', {}, ['ID', 'Status', 'Channel', 'Endpoint', 'Start time', 'End time', 'Created', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, jobs.map((j) => h('tr', { 'data-job': j.id },
      h('td', {}, h('a', { href: jobHref(j), text: j.id })),
      h('td', {}, h('span', { class: `badge ${j.status}`, 'data-testid': 'job-status', title: `AWS status ${j.awsStatus}`, text: j.status }), ' ', h('span', { class: 'muted', text: `(${j.awsStatus})` })),
      h('td', { text: `${j.group}/${j.channel}` }),
      h('td', { text: j.endpoint }),
      h('td', { text: fmtTime(j.start) }),
      h('td', { text: fmtTime(j.end) }),
      h('td', { text: fmtTime(j.created) }),
      h('td', {}, h('a', { href: jobHref(j), 'aria-label': `Info of job ${j.id}` }, 'Info'), ' ',
        j.deletable ? h('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'aria-label': `Delete job ${j.id}`,
          onclick: () => del(`jobs/${encodeURIComponent(j.group)}/${encodeURIComponent(j.channel)}/${encodeURIComponent(j.id)}`, `harvest job ${j.id}`) }, 'Delete') : null))))));
}
const jobHref = (j) => `#/job/${encodeURIComponent(j.group)}/${encodeURIComponent(j.channel)}/${encodeURIComponent(j.id)}`;

function jobsPage(main) {
  const table = h('div', { id: 'jobs' });
  const form = jobForm();
  main.append(h('h2', { text: 'Harvest jobs' }),
    h('p', { class: 'muted', text: 'A harvest job exports a past window of a channel as a VOD package to a bucket. Only Completed and Failed jobs can be deleted.' }),
    h('section', { class: 'card' }, table), form.el);
  every(async () => {
    const [jl, o] = await Promise.all([loadJobs(), loadOverview()]);
    renderJobTable(table, jl.jobs);
    form.refresh(o);
  });
}

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

function jobForm() {
  const F = 'job-form';
  const id = h('input', { maxlength: 200, required: true, autocomplete: 'off' });
  const endpoint = h('select', { required: true });
  const epoch = h('input', { type: 'radio', name: 'format', id: 'fmt-epoch', value: 'epoch', checked: app.format === 'epoch' });
  const isoR = h('input', { type: 'radio', name: 'format', id: 'fmt-iso', value: 'iso', checked: app.format === 'iso' });
  const startI = h('input', { required: true, autocomplete: 'off' });
  const endI = h('input', { required: true, autocomplete: 'off' });
  const bucket = h('select', { required: true });
  const path = h('input', { placeholder: 'defaults to the ID' });
  const key = h('input', { placeholder: 'defaults to the manifest name' });
  const windowInfo = h('div', { id: 'startover-info', class: 'muted' });
  const form = h('form', { id: F, 'aria-label': 'Create Harvest Job', novalidate: true },
    h('h3', { text: 'Create Harvest Job' }),
    field(F, 'id', 'ID (1–128 of A-Z a-z 0-9 - _)', id),
    field(F, 'endpoint', 'Origin endpoint (with a time-shift window)', endpoint), windowInfo,
    h('fieldset', { class: 'field' }, h('legend', { text: 'Date-time format' }),
      h('label', { for: 'fmt-epoch' }, epoch, ' Epoch seconds'), ' ', h('label', { for: 'fmt-iso' }, isoR, ' ISO-8601')),
    h('div', { class: 'grid2' }, field(F, 'start', 'Start time', startI), field(F, 'end', 'End time (at most 24 h after the start)', endI)),
    h('div', { class: 'grid2' }, field(F, 'bucket', 'Destination bucket', bucket), field(F, 'path', 'Destination path', path)),
    field(F, 'manifestKey', 'Manifest key', key),
    h('button', { class: 'primary', type: 'submit', text: 'Create Harvest Job' }),
    h('div', { class: 'form-error', role: 'alert' }));
  const err = (name, msg) => {
    const slot = $(`#err-${F}-${name}`, form);
    slot.textContent = msg || '';
    const c = form.querySelector(`[name="${name}"]`);
    if (msg) c.setAttribute('aria-invalid', 'true'); else c.removeAttribute('aria-invalid');
    return !msg;
  };
  const checkID = () => err('id', ID_RE.test(id.value) ? '' : (id.value.length > 128 ? `The ID is ${id.value.length} characters; at most 128.` : 'Use only A-Z, a-z, 0-9, - and _ (1–128 characters).'));
  const fmt = (s) => (Number.isFinite(s) ? (app.format === 'epoch' ? String(Math.round(s * 1000) / 1000) : iso(s)) : '');
  const checkRange = () => {
    const a = parseTime(startI.value), b = parseTime(endI.value);
    let ok = err('start', startI.value && !Number.isFinite(a) ? `Not a time in ${app.format === 'epoch' ? 'epoch seconds' : 'ISO-8601 (2026-01-02T15:04:05Z)'}.` : '');
    if (Number.isFinite(a) && Number.isFinite(b)) {
      ok = err('end', b <= a ? 'The end time must be later than the start time.' : (b - a > DAY ? `The range is ${fmtDur(b - a)}; it can be at most 24 hours.` : '')) && ok;
    } else ok = err('end', endI.value && !Number.isFinite(b) ? 'Not a valid time.' : '') && ok;
    return ok;
  };
  id.addEventListener('input', checkID);
  startI.addEventListener('input', checkRange);
  endI.addEventListener('input', checkRange);
  for (const r of [epoch, isoR]) {
    r.addEventListener('change', () => {
      const a = parseTime(startI.value), b = parseTime(endI.value);
      app.format = r.value;
      startI.value = fmt(a); endI.value = fmt(b);
      checkRange();
    });
  }
  const showWindow = () => {
    const [g, c, e] = endpoint.value.split('/');
    const o = app.overview;
    const ch = o && (o.groups.find((x) => x.name === g) || { channels: [] }).channels.find((x) => x.name === c);
    const ep = ch && ch.endpoints.find((x) => x.name === e);
    if (!ep) { windowInfo.textContent = ''; return; }
    const now = Date.parse(o.now) / 1000;
    windowInfo.textContent = `Start-over window: ${fmtDur(ep.startover)} (earliest start ${fmtTime(now - ep.startover)})`;
  };
  endpoint.addEventListener('change', showWindow);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!checkID() | !checkRange()) return;
    const [g, c, e] = endpoint.value.split('/');
    try {
      const j = await api('POST', 'jobs', { ID: id.value, Group: g || '', Channel: c || '', Endpoint: e || '',
        Start: parseTime(startI.value), End: parseTime(endI.value), Bucket: bucket.value, Path: path.value, ManifestKey: key.value });
      toast(`Harvest job ${j.id} created`);
      form.reset();
      epoch.checked = app.format === 'epoch'; isoR.checked = app.format === 'iso';
      const jl = await loadJobs();
      renderJobTable($('#jobs'), jl.jobs);
    } catch (ex) { showError(form, ex); }
  });
  const refresh = (o) => {
    const opts = [];
    for (const g of o.groups) for (const c of g.channels) for (const e of c.endpoints) if (e.startover > 0) opts.push(`${g.name}/${c.name}/${e.name}`);
    if (endpoint.options.length !== opts.length || ![...endpoint.options].every((op, i) => op.value === opts[i])) {
      const cur = endpoint.value;
      endpoint.replaceChildren(...opts.map((v) => h('option', { value: v, text: v })));
      if (opts.includes(cur)) endpoint.value = cur;
    }
    if (bucket.options.length !== o.buckets.length) bucket.replaceChildren(...o.buckets.map((b) => h('option', { value: b.name, text: `${b.name} (${b.kind})` })));
    if (app.prefill) {
      const p = app.prefill;
      app.prefill = null;
      endpoint.value = `${p.group}/${p.channel}/${p.endpoint}`;
      startI.value = fmt(p.start); endI.value = fmt(p.end);
      if (!id.value) id.value = `${p.channel}-${Math.floor(p.start)}`;
      checkRange();
      id.focus();
    }
    showWindow();
  };
  return { el: h('section', { class: 'card' }, form), refresh };
}

function jobInfoPage(main, group, channel, idName) {
  const info = h('div', { id: 'job-info' });
  const video = h('video', { id: 'harvest-preview', muted: true, controls: true, playsinline: true, 'aria-label': 'Harvested package player', hidden: true });
  video.muted = true;
  const label = h('div', { class: 'url' });
  const links = h('div', {});
  main.append(h('p', {}, h('a', { href: '#/jobs', text: '← Harvest jobs' })), h('h2', { text: `Harvest job ${idName}` }), info,
    h('section', { class: 'card' }, h('h3', { text: 'Harvested package' }), video, links, label));
  let played = false;
  every(async () => {
    const jl = await loadJobs();
    const j = jl.jobs.find((x) => x.group === group && x.channel === channel && x.id === idName);
    if (!j) { info.replaceChildren(h('p', { class: 'form-error', text: 'This job does not exist (any more).' })); return; }
    const p = j.progress;
    const rows = [
      ['ID', j.id], ['Status', `${j.status} (AWS ${j.awsStatus})`], ['Channel group', j.group], ['Channel', j.channel],
      ['Origin endpoint', j.endpoint], ['Start time', `${fmtTime(j.start)} (${j.start})`], ['End time', `${fmtTime(j.end)} (${j.end})`],
      ['Duration', fmtDur(j.end - j.start)], ['Created', fmtTime(j.created)], ['Modified', fmtTime(j.modified)],
      ['Destination', `${j.bucket}/${j.path}`], ['Manifest', j.manifest],
      ['Progress', h('span', { id: 'job-progress' }, h('progress', { max: p.SegmentsTotal || 1, value: p.SegmentsDone, 'aria-label': 'segments done' }),
        ` ${p.SegmentsDone} of ${p.SegmentsTotal || '?'} segments, ${fmtBytes(p.BytesDone)} of ${p.BytesTotal ? fmtBytes(p.BytesTotal) : '?'}`)],
    ];
    if (j.error) rows.push(['Error', h('span', { class: 'form-error', id: 'job-error', text: j.error })]);
    info.replaceChildren(h('dl', { class: 'info' }, rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])),
      j.deletable ? h('button', { type: 'button', class: 'danger', 'data-action': 'delete',
        onclick: () => del(`jobs/${encodeURIComponent(j.group)}/${encodeURIComponent(j.channel)}/${encodeURIComponent(j.id)}`, `harvest job ${j.id}`).then(() => { location.hash = '#/jobs'; }) }, 'Delete') : null);
    if (j.play && !played) {
      played = true;
      video.hidden = false;
      const link = h('a', { href: j.play, id: 'job-play', text: 'Play the harvested package' });
      link.addEventListener('click', (ev) => { ev.preventDefault(); play(video, j.play, j.manifest.endsWith('.mpd') ? 'DASH' : 'HLS', label); });
      links.replaceChildren(link);
      label.textContent = '';
    } else if (!j.play && !played) {
      label.textContent = j.status === 'Completed' ? 'The package is in a bucket the console cannot read (S3).' : 'Playable once the job is Completed.';
    }
  });
}

start().catch((e) => { $('#main').replaceChildren(h('p', { class: 'form-error', text: `The console could not start: ${e.message}` })); });
