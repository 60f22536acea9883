'use strict';
/** The table on stdout. */

function fmt(value) {
  if (value === undefined || value === null || (typeof value === 'number' && Number.isNaN(value))) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtRatio(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—';
  if (ratio !== 0 && Math.abs(ratio) < 0.01) return `${ratio.toPrecision(1)}x`;
  return `${ratio.toFixed(2)}x`;
}

function result(pass) {
  if (pass === true) return 'PASS';
  if (pass === false) return 'FAIL';
  return '';
}

/** Rows: { metric, ours, baseline, ratio, goal, pass }; figures: [{ number, title, baseline, rows }]. */
function table(figures) {
  const header = ['#', 'metric', 'ours', 'baseline', 'ratio', 'goal', ''];
  const lines = [];
  for (const f of figures) {
    lines.push({ section: `${f.number}. ${f.title}  (baseline: ${f.baseline})` });
    if (f.error) lines.push([String(f.number), 'ERROR', f.error.split('\n')[0].slice(0, 100), '', '', '', 'FAIL']);
    for (const r of f.rows || []) {
      lines.push([String(f.number), r.metric, fmt(r.ours), fmt(r.baseline), fmtRatio(r.ratio), r.goal || '', result(r.pass)]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => l[i].length)));
  const row = (cells) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [row(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const l of lines) out.push(Array.isArray(l) ? row(l) : `${l.section}`);
  return out.join('\n');
}

/** The same table as Markdown, for bench/README.md. */
function markdown(figures) {
  const out = ['| # | metric | ours | baseline | ratio | goal | |', '|---|---|---:|---:|---:|---|---|'];
  for (const f of figures) {
    out.push(`| **${f.number}** | **${f.title}** (baseline: ${f.baseline}) | | | | | |`);
    if (f.error) out.push(`| ${f.number} | ERROR: ${f.error.split('\n')[0]} | | | | | FAIL |`);
    for (const r of f.rows || []) {
      out.push(`| ${f.number} | ${r.metric} | ${fmt(r.ours)} | ${fmt(r.baseline)} | ${fmtRatio(r.ratio)} | ${r.goal || ''} | ${result(r.pass)} |`);
    }
  }
  return out.join('\n');
}

module.exports = { table, markdown, fmt, fmtRatio };
