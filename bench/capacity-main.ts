import { readFileSync, writeFileSync } from 'node:fs';
import { capacityOptions, measureCapacity } from './capacity.js';
import { capacityPlan } from './capacity-plan.js';
import { capacityReport } from './capacity-report.js';

/** npm run bench:capacity: the capacity part of npm run bench alone; it replaces only that part of bench/results.json. */
const measured = await measureCapacity(capacityOptions());
const plan = capacityPlan(measured);
for (const line of capacityReport(measured, plan)) console.log(line);
const file = new URL('./results.json', import.meta.url);
const results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
writeFileSync(file, `${JSON.stringify({ ...results, capacity: { date: new Date().toISOString(), ...measured, plan } }, null, 2)}\n`);
console.log('capacity written to bench/results.json');
