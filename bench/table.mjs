#!/usr/bin/env node
// The README's Performance table from the figures of a bench run (`npm run bench` keeps them in
// .cache/bench/last.jsonl; `npm run bench -- --markdown` also prints the table at its end).
//   node bench/table.mjs [results.jsonl]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAST_RESULTS = join(fileURLToPath(new URL('..', import.meta.url)), '.cache/bench/last.jsonl');

const cell = (v) => String(v ?? '').replace(/\|/g, '\\|');

/**
 * Markdown of result rows: a table of the figures (each with its same-run baseline, ratio, target and verdict),
 * then one of where the time goes (rows marked `detail`).
 */
export function markdownTable(rows) {
  const lines = ['| bench | figure | result | baseline (same run) | ratio | target | |', '|---|---|---|---|---|---|---|'];
  for (const r of rows.filter((x) => !x.detail)) {
    const figure = r.note ? `${r.figure} (${r.note})` : r.figure;
    lines.push(
      `| ${cell(r.bench)} | ${cell(figure)} | ${cell(r.value)} | ${cell(r.baseline)} | ${cell(r.ratio)} | ${cell(r.target)} | ${r.met === undefined ? '' : r.met ? 'met' : '**not met**'} |`,
    );
  }
  const details = rows.filter((x) => x.detail);
  if (details.length) {
    lines.push('', '| bench | command | above `node -e 0` | where it goes |', '|---|---|---|---|');
    for (const r of details) lines.push(`| ${cell(r.bench)} | ${cell(r.figure)} | ${cell(r.value)} | ${cell(r.note)} |`);
  }
  return lines.join('\n');
}

export const readResults = (file = LAST_RESULTS) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(markdownTable(readResults(process.argv[2])));
