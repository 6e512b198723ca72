import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { NotFoundError, RefusedError } from '../journal/journal';
import { ConflictError } from '../journal/types';

/**
 * What the console's APIs (journal, people, data protection) share: a request refused as
 * malformed, who is asking, and async handlers whose refusals become HTTP answers with a
 * JSON body {error}.
 */
export class BadRequest extends Error {}

/** The logged-in user's name, as the audit records it. */
export function actorOf(req: Request): string {
  const user = (req as { user?: { username?: unknown } }).user;
  return typeof user?.username === 'string' ? user.username : 'unknown';
}

/**
 * Runs an async handler: its result is the JSON answer; BadRequest (and any class in
 * `badRequests`) is 400, NotFoundError 404, a refusal or a conflict 409, anything else goes
 * to the router's error handler.
 */
export function handle(work: (req: Request, res: Response) => Promise<unknown>, badRequests: ReadonlyArray<new (...args: never[]) => Error> = []): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    work(req, res).then(
      (body) => {
        if (!res.headersSent) res.json(body);
      },
      (err: Error) => {
        if (err instanceof BadRequest || badRequests.some((kind) => err instanceof kind)) res.status(400).json({ error: err.message });
        else if (err instanceof NotFoundError) res.status(404).json({ error: err.message });
        else if (err instanceof RefusedError || err instanceof ConflictError) res.status(409).json({ error: err.message });
        else next(err);
      },
    );
  };
}
