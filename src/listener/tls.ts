/**
 * TLS material for the listeners (spec §13.3: TLS is terminated before protocol detection): PEM
 * files read and checked the way Deno.listenTls will use them.
 */

/** A PEM certificate chain and its private key. */
export interface TlsKeyPair {
  cert: string;
  key: string;
}

/** A certificate or key that cannot be read or does not parse; the message names the files. */
export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsConfigError";
  }
}

/**
 * Reads `certPath` and `keyPath` and checks that they make a working TLS listener: rustls parses
 * the chain and the key and checks that they belong together. Deno offers no parser besides
 * Deno.listenTls, so the check opens (and closes at once) a listener on a free port of `hostname`.
 */
export function loadTlsKeyPair(certPath: string, keyPath: string, hostname: string): TlsKeyPair {
  const pair = { cert: readPem(certPath, "--tls-cert"), key: readPem(keyPath, "--tls-key") };
  try {
    Deno.listenTls({ hostname, port: 0, ...pair }).close();
  } catch (err) {
    throw new TlsConfigError(
      `--tls-cert ${certPath} / --tls-key ${keyPath}: not a usable certificate and key: ${messageOf(err)}`,
    );
  }
  return pair;
}

function readPem(path: string, option: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`${option} ${path}: cannot read: ${messageOf(err)}`);
  }
}

/** SHA-256 of the first certificate of a PEM chain (`sha256:ab12…`), to tell certificates apart in logs. */
export async function certFingerprint(certPem: string): Promise<string> {
  const m = certPem.match(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/);
  if (!m) return "";
  try {
    const der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
    return "sha256:" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    return "";
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
