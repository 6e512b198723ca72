/**
 * What the hub remembers of payments across files and restarts, so that none is posted
 * twice: the cash-receipting files it accepted (by the header's source id, date and
 * sequence, with the file's checksum) and every transaction ref in them; and the ledger
 * files it wrote to Finance (each file's name, once only, and the deliveries in it) until
 * Finance answers. The hub's store implements it (hub/payments): SQLite or Redis.
 */
export interface PaymentFileIdentity {
  /** The header's source id (the cash-receipting system). */
  sourceId: string;
  /** YYYY-MM-DD */
  fileDate: string;
  sequence: number;
}

export interface AcceptedPaymentFile extends PaymentFileIdentity {
  name: string;
  /** Hex sha256 of the file's bytes: a crashed hub offered the same file again knows it. */
  sha256: string;
  payments: number;
  totalPence: number;
  acceptedAt: number;
}

export interface PaymentRegister {
  /** The accepted file that had this source id, date and sequence. */
  fileWithSequence(identity: PaymentFileIdentity): Promise<AcceptedPaymentFile | undefined>;
  /** Those of `refs` that an accepted file already had: ref -> that file's name. */
  knownTransactionRefs(refs: readonly string[]): Promise<Map<string, string>>;
  /** Remembers an accepted file and its transaction refs, all or nothing. */
  accept(file: AcceptedPaymentFile, refs: readonly string[]): Promise<void>;
  acceptedFiles(): Promise<AcceptedPaymentFile[]>;
}

export interface LedgerBatch {
  /** GL_<yyyyMMdd>_<nnnn>.csv */
  file: string;
  /** The ledger deliveries whose journals are in the file, in file order. */
  deliveryIds: string[];
  journals: number;
  debitPence: number;
  createdAt: number;
  /** Finance's answer, once seen; not-written: the file never reached Finance (its rows were retried). */
  answer?: { outcome: 'processed' | 'rejected' | 'not-written'; problems: string[]; at: number };
}

export interface LedgerBatches {
  /** The next file sequence of a day (YYYYMMDD), never given twice, across restarts and instances. */
  nextSequence(day: string): Promise<number>;
  /** Stored before the file is written: Finance's answer names only the file. */
  remember(batch: LedgerBatch): Promise<void>;
  batch(file: string): Promise<LedgerBatch | undefined>;
  answered(file: string, answer: NonNullable<LedgerBatch['answer']>): Promise<void>;
  /** Batches Finance has not answered yet. */
  unanswered(): Promise<LedgerBatch[]>;
}
