import assert from 'assert';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { distDir, flowsDir } from '../../hub/paths';
import { freePort } from '../support/ports';

/**
 * A load balancer sends traffic once /healthz answers 200: that must not happen before the
 * flows' own SOAP services and routes exist (they answer 404 until Node-RED has started
 * the flows). /livez answers as soon as the process does.
 */
describe('readiness', function () {
  this.timeout(60000);

  it('answers /healthz 200 only once the flows serve their SOAP services; /livez before that', async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-ready-'));
    const flowFile = path.join(dataDir, 'flows.json');
    fs.copyFileSync(path.join(flowsDir, 'flows.json'), flowFile);
    const child = spawn(process.execPath, [path.join(distDir, 'hub', 'main.js')], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', HUB_DATA_DIR: dataDir, HUB_FLOW_FILE: flowFile, HUB_LOG_LEVEL: 'warn', HUB_SIMULATORS: 'off' },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    const answers: Array<{ health: number; live?: number; wsdl?: number }> = [];
    try {
      const until = Date.now() + 45000;
      for (;;) {
        assert.ok(Date.now() < until, `no 200 from /healthz within 45 s: ${JSON.stringify(answers.slice(-5))}`);
        const health = await fetch(`${url}/healthz`).then((r) => r.status, () => 0);
        if (health === 0) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        const live = await fetch(`${url}/livez`).then((r) => r.status, () => 0);
        if (health === 200) {
          const wsdl = await fetch(`${url}/soap/contact-events?wsdl`).then((r) => r.status, () => 0);
          answers.push({ health, live, wsdl });
          break;
        }
        answers.push({ health, live });
        await new Promise((r) => setTimeout(r, 10));
      }
      const first200 = answers[answers.length - 1];
      assert.strictEqual(first200.wsdl, 200, 'the flows serve ContactEventService when /healthz first says 200');
      const starting = answers.filter((a) => a.health === 503);
      assert.ok(starting.length > 0, `the hub answered while the flows were still starting (${answers.length} answers)`);
      assert.ok(starting.every((a) => a.live === 200), '/livez answers 200 while the hub is starting');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
