/**
 * `--auth open`: every login with a valid userId is accepted, whatever the password; the user is
 * created on first login. J-IM's demo behaviour, for development only: the server warns loudly
 * at start (app.ts logs it, main.ts also prints OPEN_MODE_BANNER).
 */
import { isValidId } from "../ids.ts";

export const OPEN_MODE_WARNING =
  "--auth open: ANY userId logs in without a password check. Development only; never expose this server.";

export const OPEN_MODE_BANNER = `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!! WARNING: ${OPEN_MODE_WARNING}
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
`;

/** Open mode's whole decision: the claimed userId, when it is a valid id. */
export function openModeUser(userId: string | undefined): { ok: true; userId: string } | {
  ok: false;
  reason: string;
} {
  return isValidId(userId) ? { ok: true, userId } : { ok: false, reason: "missing or invalid userId" };
}
