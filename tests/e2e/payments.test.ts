import assert from 'assert';
import { describePaymentFigures, paymentProblems, PaymentFigures, runPaymentJourney } from './payment-journey';

/**
 * The payments journey end to end, smaller than `npm run e2e:payments` (14 payment files,
 * two of 2,000 records, and about 300 GOV.UK Pay events) but with every fault: Finance
 * refusing a GL file, the CRM down, the SFTP server (a real OpenSSH sshd) restarted, the
 * hub killed with kill -9 while it takes a file; the dead letters replayed by support.
 */
describe('payments journey end to end, with every fault (real hub, OpenSSH sshd, SOAP CRM, GOV.UK Pay webhooks)', function () {
  this.timeout(420000);
  let figures: PaymentFigures;

  before(async () => {
    figures = await runPaymentJourney({ files: 12, bigFiles: 2, bigRecords: 2000, events: 300, properties: 3000, crmDownMs: 6000, hubDownMs: 2000, settleTimeoutMs: 240000 });
    console.log(describePaymentFigures(figures).replace(/^/gm, '      '));
  });

  it('puts every accepted payment and fitting refund in the ledger once, and the totals per fund agree to the penny', () => {
    assert.ok(figures.ledger.expectedJournals > 4000, `${figures.ledger.expectedJournals} journals expected`);
    assert.deepStrictEqual(figures.ledger.missing, []);
    assert.deepStrictEqual(figures.ledger.unexpected, []);
    assert.deepStrictEqual(figures.ledger.unbalanced, []);
    for (const [fund, v] of Object.entries(figures.ledger.byFund)) assert.strictEqual(v.ledger, v.expected, fund);
    assert.ok(Object.values(figures.ledger.byFund).every((v) => v.expected > 0), 'every fund had payments');
  });

  it('rejects each broken file whole, with a reason naming its lines, and shows it in the console', () => {
    assert.strictEqual(figures.brokenFiles.length, 5);
    for (const b of figures.brokenFiles) {
      assert.ok(b.rejected, `${b.name} (${b.fault}) rejected`);
      assert.ok(b.reasonNamesLines, `${b.name} (${b.fault}) reason names lines`);
      assert.ok(b.inConsole, `${b.name} (${b.fault}) in the console`);
      assert.ok(!b.anyPosted, `${b.name} (${b.fault}) nothing posted`);
    }
    assert.ok(figures.files.corrected >= 3, 'the corrected copies were dropped and taken');
    assert.deepStrictEqual(figures.files.leftOver, []);
  });

  it('takes GOV.UK Pay events once each, refuses forged ones, keeps no card details, and leaves refunds too large for a person', () => {
    assert.ok(figures.online.badSignatures > 0 && figures.online.duplicates > 0);
    assert.strictEqual(figures.online.storedEvents, figures.online.validEvents);
    assert.strictEqual(figures.online.cardDetailsStored, false);
    assert.strictEqual(figures.overRefundsWaiting, figures.online.overRefunds);
  });

  it("notes each payment and refund on the resident's CRM record once, and nothing else", () => {
    assert.ok(figures.notes.expected > 100);
    assert.deepStrictEqual(figures.notes.missing, []);
    assert.deepStrictEqual(figures.notes.twice, []);
    assert.deepStrictEqual(figures.notes.unexpected, []);
    assert.ok(figures.notes.noContact > 0, 'some accounts have no CRM contact: skipped, not errors');
  });

  it('survives every fault: Finance refused a file and its replay posted it, nothing is left open', () => {
    assert.ok(figures.ledger.refusedFiles >= 1);
    assert.strictEqual(figures.replay.refused, 0);
    assert.strictEqual(figures.open, 0, JSON.stringify(figures.deliveries));
    assert.deepStrictEqual(paymentProblems(figures), []);
  });
});
