import type { SftpConnection } from '../sftp/connection';
import { remotePath } from '../sftp/write';
import { parseRefusal } from './ledger-file';

/**
 * Finance's answers to the ledger files the hub wrote: Finance moves each pair to
 * <folder>/processed/ (posted) or <folder>/rejected/ with <base>.rej beside it (refused,
 * nothing of it posted). The hub leaves Finance's folders as Finance left them and only
 * reads: the files it waits for are named by its own ledger batches.
 */
export type LedgerAnswer = { file: string; outcome: 'processed' } | { file: string; outcome: 'rejected'; problems: string[] };

export async function readLedgerAnswers(connection: SftpConnection, folder: string, waitingFor: readonly string[]): Promise<LedgerAnswer[]> {
  if (!waitingFor.length) return [];
  return connection.run(async (sftp) => {
    const names = async (sub: string) => ((await sftp.exists(remotePath(folder, sub))) ? new Set((await sftp.list(remotePath(folder, sub))).map((f) => f.name)) : new Set<string>());
    const processed = await names('processed');
    const rejected = await names('rejected');
    const answers: LedgerAnswer[] = [];
    for (const file of waitingFor) {
      if (processed.has(file)) {
        answers.push({ file, outcome: 'processed' });
        continue;
      }
      const rej = file.replace(/\.csv$/, '.rej');
      // Finance moves the csv first and writes the .rej after: without it the answer is not complete yet.
      if (rejected.has(rej)) {
        const text = String(await sftp.get(remotePath(folder, `rejected/${rej}`)));
        answers.push({ file, outcome: 'rejected', problems: parseRefusal(text).problems });
      }
    }
    return answers;
  });
}
