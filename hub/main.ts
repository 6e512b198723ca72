import { loadConfig, ConfigError } from './config';
import { startHub } from './server';

/** `npm start`: start the hub from the environment and say where the editor is. */
async function main() {
  const config = loadConfig();
  const hub = await startHub(config, {
    // Another instance may be doing this one's work now: no graceful stop (its writes would be
    // refused anyway); exit at once so that the supervisor starts a fresh process.
    stepDown: (reason) => {
      console.error(`council-hub: stepping down (${reason}); exiting with code 75 for the supervisor to restart`);
      process.exit(75);
    },
  });
  const login =
    config.demoLogins
      ? 'demo login: developer / council-hub-demo (editor), support / council-hub-demo (read-only), dpo / council-hub-demo (data protection officer)'
      : 'log in with a user from HUB_USERS';
  console.log(
    [
      `council-hub (${config.profile} profile) is up.`,
      `  editor:  ${hub.url}/   ${login}`,
      `  console: ${hub.url}/console   (support staff: failed and stuck deliveries, replay, discard)`,
      `  health:  ${hub.url}/healthz   metrics: ${hub.url}/metrics`,
      ...(hub.backOffice
        ? [
            `  simulators (demo back office): control ${hub.backOffice.controlUrl}/<system>; CRM ${hub.backOffice.endpoints.crm}, planning ${hub.backOffice.endpoints.planning}, housing ${hub.backOffice.endpoints.housing}`,
            `  try it:  curl -X POST -H 'content-type: application/json' -d '{"count":5}' ${hub.backOffice.controlUrl}/crm/actions/move-contacts   (residents move: change of address)`,
            `           curl -X POST -H 'content-type: application/json' -d '{"count":5}' ${hub.backOffice.controlUrl}/planning/actions/raise-events   (planning decisions and other events: CRM cases)`,
            `           curl -X POST -H 'content-type: application/json' -d '{"count":5}' ${hub.backOffice.controlUrl}/housing/actions/raise-repairs   (repair statuses: CRM cases)`,
            `           curl -X POST -H 'content-type: application/json' -d '{"count":20}' ${hub.backOffice.controlUrl}/payments/actions/write-file   (cash receipting drops a payment file: Finance ledger and CRM notes)`,
            `           curl -X POST -H 'content-type: application/json' -d '{"payments":5,"refundPercent":40}' ${hub.backOffice.controlUrl}/govuk-pay/actions/send-events   (GOV.UK Pay calls the webhook ${hub.url}/webhooks/govuk-pay)`,
            ...(hub.backOffice.sftp
              ? [
                  `  SFTP (the back office's folders: payments/out, finance/in, revenues/in): sftp -P ${hub.backOffice.sftp.port} -i ${hub.backOffice.sftpKeyFile ?? '<key>'} ${hub.backOffice.sftp.username}@${hub.backOffice.sftp.host}${hub.backOffice.sftp.password ? ` (or password ${hub.backOffice.sftp.password})` : ''}`,
                  `           drop a payment file: echo 'put PAY_20261201_001.txt payments/out/' | sftp -b - -P ${hub.backOffice.sftp.port} -i ${hub.backOffice.sftpKeyFile ?? '<key>'} ${hub.backOffice.sftp.username}@${hub.backOffice.sftp.host}   (see docs/payments.md for the layout)`,
                ]
              : []),
            `           planning is polled every minute in working hours (Mon-Fri 07:00-19:00, as a council runs it); outside them press the button of the "planning application events" node (editor, tab Case updates)`,
          ]
        : []),
    ].join('\n'),
  );
  const shutdown = (signal: string) => {
    console.log(`council-hub: ${signal}, stopping`);
    hub.stop().then(
      () => process.exit(0),
      (err) => {
        console.error('council-hub: error while stopping', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(`council-hub: configuration error: ${err.message}`);
  else console.error('council-hub: failed to start', err);
  process.exit(1);
});
