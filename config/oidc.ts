import { z } from 'zod';
import { duration, issue } from './types.ts';

/**
 * Personal sign-in with OpenID Connect (`gateway.auth.oidc`): people sign in at the plant's identity
 * provider (authorization code flow with PKCE) and get a session cookie; their role comes from a claim.
 * Bearer tokens keep working next to it. Used by gateway/http/oidc.ts and gateway/http/sign-in.ts.
 */

/** The roles a person can have, lowest first (a person matching several gets the highest). */
export const PERSON_ROLES = ['read', 'operator', 'admin'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

const isLoopbackUrl = (url: string) => {
  try {
    return /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
};

const claimValues = (what: string) =>
  z.array(z.string().min(1)).default([]).describe(`Values of \`roleClaim\` that give the role ${what} (a group name such as \`andon-${what}\`).`);

export const oidcSchema = z
  .strictObject({
    issuer: z
      .url({ protocol: /^https?$/, error: 'gateway.auth.oidc.issuer must be an http:// or https:// URL' })
      .describe(
        "The identity provider's issuer URL (`https://login.plant-a.example/realms/plant`); its metadata is read from `<issuer>/.well-known/openid-configuration` at start. Use https: plain http is allowed only for a loopback address (tests, a provider on the same machine).",
      ),
    clientId: z.string().min(1).describe('The client id registered for this gateway at the provider.'),
    clientSecret: z.string().min(1).describe('The client secret (confidential client, sent with HTTP Basic); write it as `${ENV}`.'),
    redirectUrl: z
      .url({ protocol: /^https?$/, error: 'gateway.auth.oidc.redirectUrl must be an http:// or https:// URL' })
      .optional()
      .meta({
        defaultText: 'publicUrl + /auth/callback, else from the request',
        description:
          'Where the provider sends the browser back (`https://andon.plant-a.example/auth/callback`); register exactly this at the provider. Unset: `gateway.publicUrl` + `/auth/callback`, or without publicUrl the address the browser used (its Host header).',
      }),
    scopes: z
      .array(z.string().min(1))
      .default(['openid', 'profile', 'email'])
      .describe('Scopes asked for (`openid` is added when missing); add the one that brings `roleClaim` (`groups`) if the provider needs it.'),
    roleClaim: z
      .string()
      .min(1)
      .default('groups')
      .describe('The claim (from the ID token or userinfo) whose value (a string or a list of strings) is mapped to a role by `roleMap`.'),
    roleMap: z
      .strictObject({ read: claimValues('read'), operator: claimValues('operator'), admin: claimValues('admin') })
      .default({ read: [], operator: [], admin: [] })
      .describe(
        'Claim values to roles: read (board and GET routes), operator (transitions, comments), admin (everything). Several matching: the highest. None: the sign-in is refused (ANDON_AUTH_NO_ROLE).',
      ),
    displayNameClaim: z
      .string()
      .min(1)
      .default('name')
      .describe(
        "The claim shown as the person's name (in history as `actorName`, on the board); `preferred_username`, `email`, then the subject when it is missing.",
      ),
    sessionTtl: duration()
      .superRefine((ms, ctx) => {
        if (ms < 60_000 || ms > 30 * 86_400_000) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'gateway.auth.oidc.sessionTtl must be between 1m and 30d');
      })
      .default(43_200_000)
      .describe('How long a session lasts after sign-in (absolute, not renewed by use); then the person signs in again. Signing out ends it at once.'),
    cookieSecure: z
      .boolean()
      .default(true)
      .describe(
        'Send the session cookie over https only (`Secure`). Turn off only for a board reached over plain http on a loopback address (tests); anywhere else the cookie would cross the network in clear.',
      ),
    timeout: duration().default(10_000).describe('Time for each request to the provider (metadata, token, userinfo).'),
  })
  .superRefine((o, ctx) => {
    if (o.issuer.startsWith('http:') && !isLoopbackUrl(o.issuer))
      issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'an issuer over plain http is allowed only on a loopback address; use https', ['issuer']);
    if (PERSON_ROLES.every((r) => o.roleMap[r].length === 0))
      issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'roleMap gives no role to anyone: list claim values under read, operator or admin', ['roleMap']);
  })
  .optional()
  .describe(
    'Personal sign-in with OpenID Connect for the board and the API (authorization code flow with PKCE, session cookie). Unset: bearer tokens only. Tokens keep working with it.',
  );

export type OidcConfig = NonNullable<z.output<typeof oidcSchema>>;
