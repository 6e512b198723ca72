import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from "../types";
import { permanentError } from "../../adapters/errors";
import { hubPort } from "../port";
import { RequestBatch } from "../../adapters/revenues/batch";
import { sharedSequence } from "../../adapters/redis/sequence";
import {
  buildRequestFile,
  requestFileName,
  requestRow,
  type RevenuesRequestRow,
} from "../../adapters/revenues/files";

interface RevenuesBatchDef extends NodeDef {
  maxRows: string;
  maxAgeSeconds: string;
}

interface Waiting {
  row: RevenuesRequestRow;
  done: Done;
}

/**
 * Gathers revenues request rows (one per delivery) into ADDR_ files. Each batch leaves as
 * one message (msg.filename, msg.payload = the CSV) for an sftp-write node; the rows'
 * own messages finish only when that file is written: done() for every row if it was,
 * done(err) for every row if not, so each delivery is retried by itself.
 */
export = function register(RED: NodeAPI) {
  function RevenuesBatchNode(this: Node, config: RevenuesBatchDef) {
    RED.nodes.createNode(this, config);
    const node: Node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- used by the batch's release callback
    const port = hubPort(RED);
    // Names are unique per second by the sequence. Several instances share Redis: the sequence
    // is counted there, so two instances' files of one second never take the same name.
    // Alone, it starts where a restart is unlikely to repeat it.
    let sequence = Math.floor(Date.now() / 1000) % 10000;
    const fileName = async (): Promise<string> => {
      const at = new Date();
      if (!port.sharedRedis)
        return requestFileName(at, (sequence = (sequence + 1) % 10000));
      const stamp = requestFileName(at, 0);
      return requestFileName(
        at,
        await sharedSequence(
          port.sharedRedis,
          `${port.redisPrefix}revenues-request:${stamp}`,
        ),
      );
    };
    const batch = new RequestBatch<Waiting>(
      {
        maxRows: Number(config.maxRows) || 100,
        maxAgeMs: (Number(config.maxAgeSeconds) || 10) * 1000,
      },
      (waiting) => void release(waiting),
    );
    const release = async (waiting: Waiting[]) => {
      let filename: string;
      try {
        filename = await fileName();
      } catch (err) {
        // Redis unreachable: each row is retried by itself.
        waiting.forEach((w) =>
          w.done(
            Object.assign(
              new Error(
                `revenues request file not named: ${(err as Error).message}`,
              ),
              { transient: true },
            ),
          ),
        );
        return;
      }
      let content: string;
      try {
        content = buildRequestFile(waiting.map((w) => w.row));
      } catch (err) {
        waiting.forEach((w) => w.done(err as Error));
        return;
      }
      const msg: NodeMessage = {
        payload: content,
        filename,
        topic: "revenues-request",
      } as NodeMessage;
      (msg as any).requestIds = waiting.map((w) => w.row.request_id);
      port.settlement.await(msg, {
        settled: async () => {
          // The rows are with Revenues now: awaiting its answer (the ack file), even after a restart.
          const journal = port.journal;
          if (journal) {
            await Promise.all(
              waiting.map((w) =>
                journal.awaitAnswer(w.row.request_id).catch((err: Error) => {
                  // The row is in Revenues' file all the same; its ack still settles it. Without the
                  // mark a restart would send it again (Revenues matches it by request_id once).
                  node.warn(
                    `revenues row ${w.row.request_id} is in ${filename}, but could not be marked awaiting Revenues' answer: ${err.message}`,
                  );
                }),
              ),
            );
          }
          waiting.forEach((w) => w.done());
          node.status({
            fill: "green",
            shape: "dot",
            text: `${filename}: ${waiting.length} rows`,
          });
        },
        failed: (error) => {
          const why = new Error(
            `revenues request file ${filename} was not written: ${error.message}`,
          );
          waiting.forEach((w) => w.done(why));
          node.status({
            fill: "red",
            shape: "ring",
            text: why.message.slice(0, 60),
          });
        },
      });
      node.send(msg);
    };

    this.on("input", (msg: NodeMessage, _send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const payload = m.payload;
        if (!payload || typeof payload !== "object")
          throw permanentError(
            "INVALID_MESSAGE",
            "revenues-batch: msg.payload must be a revenues request row (map canonical-to-revenues first)",
          );
        const row = requestRow(payload);
        // The ack names the delivery it answers: the request id is the delivery's id.
        if (typeof m.delivery?.id === "string") row.request_id = m.delivery.id;
        if (!row.request_id)
          throw permanentError(
            "INVALID_MESSAGE",
            "revenues-batch: the row has no request_id and the message no delivery",
          );
        batch.add({ row, done });
        node.status({
          fill: "blue",
          shape: "dot",
          text: `${batch.size} rows waiting`,
        });
      } catch (err) {
        done(err as Error);
      }
    });
    this.on("close", (_removed: boolean, done: () => void) => {
      batch.flush();
      done();
    });
  }
  RED.nodes.registerType("revenues-batch", RevenuesBatchNode);
};
