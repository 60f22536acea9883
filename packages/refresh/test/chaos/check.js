/* G1-G5 (packages/refresh/README.md, "Guarantees") checked against the provider's truth. */

/** The longest a caller may wait for an answer: lockWaitMs (4 s) + two tries of 0.8 s + backoff + slack. */
const ANSWER_LIMIT_MS = 8000;

/**
 * `users`: per user, what the schedule did to it ({ loggedOut, logoutUnknown, revoked }); `stored(user)` what the
 * store holds now; `status(rt)` the sandbox's truth; `quietFrom` when the quiet phase began.
 */
async function check({ record, users, stored, status, mode, quietFrom, quietMs }) {
  const violations = [];
  const excused = {};
  const count = (reason) => (excused[reason] = (excused[reason] ?? 0) + 1);
  const live = new Set();

  // G1: the store holds a refresh token the provider accepts.
  for (const [user, fate] of users) {
    const tokens = await stored(user);
    if (fate.loggedOut) {
      if (tokens) violations.push({ g: 'G1', user, what: 'a logout was undone: tokens are stored again' });
      continue;
    }
    if (fate.revoked) continue;
    if (!tokens && fate.logoutUnknown) {
      count('G1 logout by a killed worker reached Redis');
      continue;
    }
    const truth = tokens?.refreshToken ? status(tokens.refreshToken) : undefined;
    if (truth?.live) {
      live.add(user);
      continue;
    }
    const reasons = record.excused.get(user);
    const lostAnswer = record.presentations.some((p) => p.user === user && record.lostAnswerRts.has(p.rt) && status(p.rt).rotated);
    if (reasons?.has('kill')) count('G1 process killed mid-refresh');
    else if (reasons?.has('pause')) count('G1 process paused past the lock ttl');
    else if (lostAnswer) count('G1 provider answer lost after rotating');
    else violations.push({ g: 'G1', user, what: tokens ? `the stored refresh token is dead (${describe(truth)})` : 'nothing is stored' });
  }

  // G2: a refresh token the provider already exchanged is never presented again (the workers'
  // reports, in the order the parent received them; the sandbox's own count is printed beside it).
  for (const p of record.stale) {
    if (p.afterPause) count('G2 presented right after a pause');
    else if (record.killedWithAnswerRts.has(p.rt)) count('G2 re-presented after its holder was killed');
    else violations.push({ g: 'G2', user: p.user, what: `worker ${p.worker} presented a refresh token already exchanged` });
  }

  if (record.retriedAfterLoss > 0) excused['G2 retried after its answer was lost'] = record.retriedAfterLoss;

  // G3 and G4: every caller got a token the provider accepts (or a newer one was unknown), or a typed
  // error, in time, with no token in it; no unhandled rejection.
  for (const r of record.results) {
    if (r.ok && r.stale) violations.push({ g: 'G3', user: r.user, what: 'handed out a replaced access token while the store held a newer one' });
    if (r.ms > ANSWER_LIMIT_MS) violations.push({ g: 'G4', user: r.user, what: `answered after ${r.ms} ms` });
    if (!r.ok && /hubspot-(at|rt|code)-/.test(r.message ?? '')) violations.push({ g: 'G4', user: r.user, what: 'an error carries a token' });
    if (!r.ok && !r.message) violations.push({ g: 'G4', user: r.user, what: 'an error without a message' });
  }
  for (const get of record.gets.values()) {
    if (!get.done && !get.lost) violations.push({ g: 'G4', user: get.user, what: 'a caller never got an answer' });
  }
  for (const bug of record.bugs) violations.push({ g: 'G4', what: bug });

  // G5: in the quiet phase, with failing members in the schedule, every live user was refreshed by the scheduler.
  if (mode === 'ours') {
    for (const user of live) {
      // Its own failures postponed it past the quiet phase (the backoff G5 allows: others are not held up).
      if ((record.backoffUntil.get(user) ?? 0) > quietFrom + quietMs - 600) {
        count('G5 postponed by its own failures');
        continue;
      }
      const at = record.scheduledRefreshes.get(user);
      if (at === undefined || at < quietFrom) violations.push({ g: 'G5', user, what: 'not refreshed by the scheduler in the quiet phase' });
    }
  }
  return { violations, excused, live: live.size };
}

function describe(truth) {
  if (!truth) return 'unknown to the provider';
  if (truth.grantRevoked) return 'its grant was revoked';
  if (truth.rotated) return 'it was rotated';
  return 'not live';
}

module.exports = { check };
