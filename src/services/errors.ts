/**
 * The two ways a request fails (after centrifuge): a ReplyError answers with a status and keeps
 * the connection; a DisconnectError ends the connection (after an optional last reply).
 */
import type { JsonObject } from "../protocol/json.ts";
import type { Status } from "../protocol/status.ts";

export class ReplyError extends Error {
  readonly status: Status;
  /** Reply command; defaults to the request's reply command. */
  readonly command: number | undefined;
  readonly extra: JsonObject | undefined;

  constructor(status: Status, options: { command?: number; extra?: JsonObject; detail?: string } = {}) {
    super(options.detail ?? status.msg);
    this.name = "ReplyError";
    this.status = status;
    this.command = options.command;
    this.extra = options.extra;
  }
}

export class DisconnectError extends Error {
  readonly status: Status | undefined;
  readonly command: number | undefined;

  constructor(reason: string, last?: { status: Status; command: number }) {
    super(reason);
    this.name = "DisconnectError";
    this.status = last?.status;
    this.command = last?.command;
  }
}
