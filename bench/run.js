#!/usr/bin/env node
'use strict';
/**
 * npm run bench [-- --quick] [-- --only <figure>[,<figure>]] [-- --out <file>]
 *
 * Each figure beside its baseline, measured in the same run; a table on stdout and a JSON file
 * (bench/results.json for a full run, bench/results-partial.json for --quick or --only).
 * Exit code: 0 every goal met, 1 a goal missed, 2 a figure could not run.
 * Figures: 1 dedup, 2 processes, 3 session, 4 login, 5 import (by number or name).
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { parseArgs } = require('node:util');
const { FIGURES, judge } = require('./lib/figures');
const { markdown, table } = require('./lib/report');
const { killAllChildren, machine } = require('./lib/util');

const USAGE = `Usage: node bench/run.js [--quick] [--only <figure>[,<figure>...]] [--out <file>]
       node bench/run.js --markdown [<results.json>]

  --quick        each figure briefly (under 60 s in all); judges the count goals (exits 1 when one is
                 missed) and shows the timing goals' ratios without judging them (a full run does)
  --only <list>  figures to run, by number or name: ${FIGURES.map((f) => `${f.number} ${f.id}`).join(', ')}
  --out <file>   where to write the JSON (default bench/results.json for a full run,
                 bench/results-partial.json otherwise)
  --markdown     print the table of a saved run (default bench/results.json) as Markdown; runs nothing
`;

function selectFigures(only) {
  if (!only) return FIGURES;
  const wanted = only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const chosen = FIGURES.filter((f) => wanted.includes(String(f.number)) || wanted.includes(f.id));
  const unknown = wanted.filter((w) => !FIGURES.some((f) => String(f.number) === w || f.id === w));
  if (unknown.length) throw new Error(`unknown figure ${unknown.join(', ')}\n\n${USAGE}`);
  return chosen;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.markdown) {
    const saved = JSON.parse(readFileSync(resolve(positionals[0] || join(__dirname, 'results.json')), 'utf8'));
    const m = saved.machine;
    process.stdout.write(`${saved.date.slice(0, 10)}, ${saved.mode} run, ${m.cpus} × ${m.model}, ${m.memory}, Node ${saved.node}, ${saved.durationSec} s; ${saved.goals.met}/${saved.goals.total} goals met.\n\n`);
    process.stdout.write(`${markdown(saved.figures)}\n`);
    return 0;
  }
  const figures = selectFigures(values.only);
  const mode = values.quick ? 'quick' : 'full';
  const complete = !values.quick && figures.length === FIGURES.length;
  const out = values.out ? resolve(values.out) : join(__dirname, complete ? 'results.json' : 'results-partial.json');

  const started = Date.now();
  const env = machine();
  process.stdout.write(
    `passport-martech bench (${mode}) — ${env.cpus} × ${env.model}, ${env.memory}, Node ${env.node}, load ${env.loadavg.join(' ')}\n`,
  );
  const results = [];
  for (const figure of figures) {
    const settings = figure.settings[mode];
    process.stdout.write(`  ${figure.number}. ${figure.id} ...`);
    const t = Date.now();
    const entry = { id: figure.id, number: figure.number, title: figure.title, baseline: figure.baseline, settings };
    try {
      entry.summary = await figure.run(settings);
      entry.rows = judge(figure.rows(entry.summary), mode);
    } catch (err) {
      entry.error = (err && err.stack) || String(err);
      entry.rows = [];
    }
    entry.durationSec = Math.round((Date.now() - t) / 100) / 10;
    process.stdout.write(` ${entry.durationSec} s${entry.error ? ' (error)' : ''}\n`);
    results.push(entry);
  }
  const durationSec = Math.round((Date.now() - started) / 100) / 10;

  const goals = results.flatMap((f) => f.rows.filter((r) => r.pass !== null).map((r) => ({ figure: f.number, metric: r.metric, pass: r.pass })));
  const missed = goals.filter((g) => !g.pass);
  const errors = results.filter((f) => f.error);
  const unjudged = results.flatMap((f) => f.rows.filter((r) => r.withinGoal !== undefined));
  process.stdout.write(`\n${table(results)}\n\n`);
  process.stdout.write(
    `${goals.length - missed.length}/${goals.length} goals met${errors.length ? `, ${errors.length} figure(s) failed to run` : ''}; ` +
      `${durationSec} s in all. Ratios are ours / baseline; times are medians of ${mode === 'quick' ? 'a few' : 'several'} rounds.\n`,
  );
  if (unjudged.length) {
    process.stdout.write(
      `${unjudged.length} timing goal(s) shown, not judged: a quick run is too short to judge them (${unjudged.filter((r) => r.withinGoal).length} within goal this time); a full run judges them.\n`,
    );
  }
  for (const f of errors) process.stderr.write(`\nfigure ${f.number} (${f.id}) failed:\n${f.error}\n`);

  const report = {
    date: new Date().toISOString(),
    mode,
    command: `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: env.cpus, model: env.model, memoryBytes: env.memoryBytes, memory: env.memory, platform: env.platform, loadavgAtStart: env.loadavg },
    node: env.node,
    durationSec,
    goals: { met: goals.length - missed.length, total: goals.length, missed, notJudged: unjudged.map((r) => r.metric) },
    figures: results.map((f) => ({
      id: f.id,
      number: f.number,
      title: f.title,
      baseline: f.baseline,
      settings: f.settings,
      durationSec: f.durationSec,
      error: f.error,
      rows: f.rows,
      summary: f.summary,
    })),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`Saved ${out}\n`);
  if (errors.length) return 2;
  return missed.length ? 1 : 0;
}

const interrupted = () => {
  killAllChildren();
  process.exit(130);
};
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);

main().then(
  (code) => {
    killAllChildren();
    process.exitCode = code;
    // Open handles (keep-alive agents, timers of a baseline library) must not keep the bench alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err) => {
    killAllChildren();
    process.stderr.write(`${(err && err.message) || err}\n`);
    process.exit(2);
  },
);
