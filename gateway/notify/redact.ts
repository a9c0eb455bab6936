/**
 * A webhook URL fit for logs: robot keys and signatures hide in the query
 * (WeCom `key`, DingTalk `access_token`, Teams Workflows `sig`) and in long path
 * segments (Slack `/services/T…/B…/<secret>`, Teams connector GUIDs), so every
 * query value and every path segment of 16 characters or more becomes `***`,
 * and user:password goes.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '***';
  }
  const path = u.pathname
    .split('/')
    .map((seg) => (seg.length >= 16 ? '***' : seg))
    .join('/');
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  return `${u.protocol}//${u.host}${path}${query ? `?${query}` : ''}`;
}
