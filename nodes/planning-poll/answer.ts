import type { PollResult } from '../../adapters/planning/poller';

/** What the admin route answers: the poll's result as plain JSON. */
export function pollAnswer(result: PollResult): { status: number; body: Record<string, unknown> } {
  const error = result.error && { code: result.error.code, message: result.error.message, transient: result.error.transient };
  const body: Record<string, unknown> = {
    outcome: result.outcome,
    cursorName: result.cursorName,
    from: result.from,
    cursor: result.cursor,
    taken: result.taken,
    first: result.first,
    last: result.last,
    calls: result.calls,
    reports: result.reports,
    notStored: result.notStored,
    error,
    startedAt: result.startedAt?.toISOString(),
    endedAt: result.endedAt?.toISOString(),
  };
  if (result.outcome === 'busy') return { status: 409, body: { ...body, message: 'a poll is already under way' } };
  if (result.outcome === 'standby') return { status: 409, body: { ...body, message: 'another hub instance holds the planning poll lock' } };
  if (result.outcome === 'stopped') return { status: 503, body: { ...body, message: 'the poller is stopped' } };
  if (error) return { status: 502, body: { ...body, message: `the poll failed: ${error.message}` } };
  return { status: 200, body };
}
