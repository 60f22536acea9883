/*
 * What happened during one schedule, from the workers' own reports: refresh tokens presented and how
 * they were answered, what each caller got, and which users were exposed to a process fault at the
 * moment it struck. The checks (check.js) read this against the provider's truth.
 */
const NETWORK_CODES = new Set(['OAUTH_NETWORK', 'OAUTH_TIMEOUT']);
/** A presentation this soon after SIGCONT may carry a check made before the pause. */
const AFTER_PAUSE_MS = 100;

class History {
  constructor() {
    this.presentations = [];
    /** Refresh tokens the provider answered with new tokens, and presentations of one after that. */
    this.exchanged = new Set();
    this.stale = [];
    this.retriedAfterLoss = 0;
    /** rt -> how its presentations were answered */
    this.answers = new Map();
    /** `${worker}:${user}` -> rt presented and not yet saved or failed */
    this.exposed = new Map();
    this.excused = new Map();
    this.lostAnswerRts = new Set();
    this.killedWithAnswerRts = new Set();
    this.resumedAt = new Map();
    this.gets = new Map();
    this.results = [];
    this.bugs = [];
    this.refreshes = 0;
    this.scheduledRefreshes = new Map();
    /** user -> until when the scheduler postpones it after its own failures */
    this.backoffUntil = new Map();
    this.faults = {};
    this.history = [];
    this.startedAt = Date.now();
  }

  note(text) {
    if (this.history.length < 2000) this.history.push(text);
  }

  fault(kind) {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  excuse(user, reason) {
    if (!user) return;
    if (!this.excused.has(user)) this.excused.set(user, new Set());
    this.excused.get(user).add(reason);
  }

  onEvent(worker, m, now = Date.now()) {
    const at = String(now - this.startedAt).padStart(5);
    const fp = (rt) => (rt ? `…${rt.slice(-6)}` : '-');
    if (m.ev === 'present') this.note(`${at}   w${worker} ${m.user} presents ${fp(m.rt)}`);
    else if (m.ev === 'answer') this.note(`${at}   w${worker} ${m.user} ${fp(m.rt)} ${m.ok ? 'exchanged' : `failed ${m.code}`}`);
    else if (m.ev === 'refresh') this.note(`${at}   w${worker} ${m.user} refreshed (${m.trigger})`);
    else if (m.ev === 'savefailed') this.note(`${at}   w${worker} ${m.user} save failed: kept in memory`);
    if (m.ev === 'present') {
      const afterPause = now - (this.resumedAt.get(worker) ?? -Infinity) < AFTER_PAUSE_MS;
      this.presentations.push({ worker, user: m.user, rt: m.rt, afterPause });
      if (this.exchanged.has(m.rt)) this.stale.push({ worker, user: m.user, rt: m.rt, afterPause });
      // Presented again after its answer was lost (a timeout, a cut connection): the provider may have
      // exchanged it; asking again is the only way to learn, and the lock holder does it.
      else if (this.lostAnswerRts.has(m.rt)) this.retriedAfterLoss++;
      this.exposed.set(`${worker}:${m.user}`, m.rt);
      if (afterPause) this.excuse(m.user, 'pause');
    } else if (m.ev === 'answer') {
      if (!this.answers.has(m.rt)) this.answers.set(m.rt, []);
      this.answers.get(m.rt).push({ worker, ok: m.ok, code: m.code });
      if (m.ok) this.exchanged.add(m.rt);
      if (!m.ok) {
        this.exposed.delete(`${worker}:${m.user}`);
        if (NETWORK_CODES.has(m.code)) this.lostAnswerRts.add(m.rt);
      }
    } else if (m.ev === 'refresh') {
      this.refreshes++;
      this.exposed.delete(`${worker}:${m.user}`);
      if (m.trigger === 'scheduled') this.scheduledRefreshes.set(m.user, now);
    } else if (m.ev === 'result') {
      const get = this.gets.get(m.id);
      if (get) get.done = true;
      this.results.push({ ...m, worker });
    } else if (m.ev === 'schedfail') {
      // The scheduler postpones a failing member by intervalMs (150) x 2^(failures - 1).
      const until = now + 150 * 2 ** Math.max(0, (m.failures || 1) - 1);
      this.backoffUntil.set(m.user, Math.max(this.backoffUntil.get(m.user) ?? 0, until));
    } else if (m.ev === 'bug') {
      this.bugs.push(`worker ${worker}: ${m.what}`);
    }
  }

  /** A worker is about to be killed or paused: every user it had a refresh in flight for is exposed. */
  strike(worker, reason) {
    for (const [key, rt] of this.exposed) {
      if (!key.startsWith(`${worker}:`)) continue;
      const user = key.slice(key.indexOf(':') + 1);
      this.excuse(user, reason);
      if (reason === 'kill') this.killedWithAnswerRts.add(rt);
      if (reason === 'kill') this.exposed.delete(key);
    }
    if (reason === 'kill') for (const get of this.gets.values()) if (get.worker === worker && !get.done) get.lost = true;
  }

  resumed(worker, now = Date.now()) {
    this.resumedAt.set(worker, now);
  }
}

module.exports = { History, NETWORK_CODES };
