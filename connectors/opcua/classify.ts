import type { ErrorCode } from '../../model/errors.ts';

/** What a failure to connect means: its code, and whether waiting can fix it without a person. */
export interface Classified {
  code: ErrorCode;
  /** True when the peer may simply be down; false when config, certificates or credentials must change. */
  heals: boolean;
  message: string;
}

const RULES: Array<[RegExp, ErrorCode, boolean]> = [
  [/BadUserAccessDenied|BadIdentityToken|BadUserSignatureInvalid|BadIdentityChangeNotSupported/, 'ANDON_OPCUA_USER_REJECTED', false],
  [/BadCertificate|BadSecurityChecksFailed|Certificate verification failed|BadNonceInvalid|private key/i, 'ANDON_OPCUA_CERTIFICATE_REJECTED', false],
  [/cannot find (an )?endpoint|BadTcpEndpointUrlInvalid|BadTcpEndpointUriInvalid|Invalid endpoint|BadSecurityPolicyRejected|BadSecurityModeRejected|BadProtocolVersionUnsupported/i, 'ANDON_OPCUA_ENDPOINT_INVALID', false],
  [/BadSession|BadSubscription|BadTooManySessions|BadTooManySubscriptions/, 'ANDON_OPCUA_SESSION_FAILED', true],
];

/** Maps a node-opcua error (whose message carries the status name) to an Andon code. */
export function classify(err: unknown): Classified {
  const message = err instanceof Error ? err.message : String(err);
  for (const [re, code, heals] of RULES) if (re.test(message)) return { code, heals, message };
  return { code: 'ANDON_OPCUA_CONNECT_FAILED', heals: true, message };
}

/** Resolves with `p`, or rejects with `onTimeout()` after `ms`. The timer never keeps the process alive. */
export function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Awaits `p` for at most `ms`, swallowing its failure (teardown steps that must not block or throw). */
export async function settle(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return;
  p.catch(() => undefined);
  await within(p, ms, () => new Error('timeout')).catch(() => undefined);
}
