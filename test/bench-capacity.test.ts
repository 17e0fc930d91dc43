import { expect } from 'chai';
import { Redis } from 'ioredis';
import { COUNTED, measureCapacity } from '../bench/capacity.js';
import { capacityPlan } from '../bench/capacity-plan.js';
import { capacityReport } from '../bench/capacity-report.js';
import { startPrivateRedis } from '../bench/private-redis.js';
import { difference, RedisMeter } from '../bench/redis-meter.js';
import { ownRedisServers } from './helpers/redis.js';

/* The capacity part of npm run bench (bench/capacity*.ts), on a few repetitions, so that it cannot rot. */

describe('the capacity measurement of the benchmark', () => {
  ownRedisServers('the capacity measurement counts on a redis-server of its own: it');

  it("takes its own INFO requests out of Redis's counters: nothing counts as nothing, a SET as its own command and bytes", async () => {
    const redis = await startPrivateRedis();
    const meter = new RedisMeter(redis.url);
    const client = new Redis(redis.url, { protocol: 2 });
    try {
      await client.ping();
      const first = await meter.read();
      const quiet = await meter.read();
      expect(difference(first, quiet)).to.deep.include({ calls: {}, inputBytes: 0, outputBytes: 0 });
      await client.set('x', 'hello');
      const set = difference(quiet, await meter.settled());
      // *3 $3 set $1 x $5 hello, each line ending in \r\n; the answer +OK\r\n.
      expect(set).to.deep.include({ calls: { set: 1 }, inputBytes: 31, outputBytes: 5 });
      expect(await meter.keyBytes('')).to.have.keys('x');
    } finally {
      client.disconnect();
      meter.close();
      await redis.stop();
    }
  });

  it('runs end to end: a cached token costs Redis nothing, notes_list one HGETALL, and the plan has a figure for everything', async function () {
    this.timeout(90_000);
    const measured = await measureCapacity({ repetitions: 3, loadSeconds: 0.3 });
    const { counted, loaded } = measured;
    expect(Object.keys(counted)).to.have.members(Object.keys(COUNTED));
    expect(counted.cachedCall).to.include({ commands: 0, commandsSent: 0, bytesIn: 0, bytesOut: 0 });
    expect(counted.noteList.perCommand).to.deep.equal({ hgetall: 1 });
    expect(counted.noteList.commandsSent).to.equal(1);
    expect(counted.firstCall.commands).to.be.above(0).and.equal(counted.firstCall.commandsSent);
    expect(counted.signUp.stored).to.have.property('account').above(0);
    for (const cost of Object.values(counted)) expect(cost.commandsSent, cost.operation).to.be.at.most(cost.commands);
    for (const cost of Object.values(loaded)) {
      expect(cost.operations, cost.operation).to.be.above(0);
      expect(cost.serverCpuMs, cost.operation).to.be.a('number').and.not.NaN;
    }

    const plan = capacityPlan(measured);
    const figures = [...Object.values(plan.bytes), ...Object.values(plan.usersPerGiB), plan.memoryOverhead,
      ...plan.mixes.flatMap((mix) => Object.values(mix))];
    for (const figure of figures) expect(figure).to.be.a('number').and.above(0).and.below(Infinity);
    const report = capacityReport(measured, plan).join('\n');
    for (const operation of Object.values(COUNTED)) expect(report).to.include(operation);
  });
});
