import express, { RequestHandler } from 'express';
import { hubServices } from '../services';
import { reconcile } from '../reconcile/reconcile';
import { reconcileSources, ReconcileConfigError, systemReadersFromEnv } from '../reconcile/sources';

/**
 * GET /api/console/reconciliation[?contactId=C1,C2]: the reconciliation report (hub/reconcile)
 * as JSON, for support staff (console.read). Without contactId: every CRM contact the
 * journal holds a change of address for. The systems are read at the flows' endpoints
 * (the same environment variables), so the report sees what the flows see.
 */
const CONTACT_ID = /^[A-Za-z0-9_-]{1,40}$/;

export function reconciliationApi(read: RequestHandler): express.Router {
  const router = express.Router();
  router.get('/reconciliation', read, async (req, res) => {
    const raw = req.query.contactId;
    if (raw !== undefined && typeof raw !== 'string') return void res.status(400).json({ error: 'contactId may be given once, comma-separated' });
    const contactIds = raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const bad = contactIds?.find((id) => !CONTACT_ID.test(id));
    if (bad !== undefined) return void res.status(400).json({ error: `"${bad}" is not a CRM contact id` });
    if (contactIds && contactIds.length > 1000) return void res.status(400).json({ error: 'at most 1000 contact ids at a time' });
    const { journal, crossReferences } = hubServices;
    if (!journal || !crossReferences) return void res.status(503).json({ error: 'the journal or the cross-references are not running' });
    let readers;
    try {
      readers = systemReadersFromEnv();
    } catch (err) {
      return void res.status(503).json({ error: err instanceof ReconcileConfigError ? err.message : String(err) });
    }
    try {
      res.json(await reconcile(reconcileSources(readers, crossReferences, journal.store), { contactIds }));
    } catch (err) {
      res.status(500).json({ error: `reconciliation failed: ${(err as Error).message}` });
    } finally {
      await readers.close();
    }
  });
  return router;
}
