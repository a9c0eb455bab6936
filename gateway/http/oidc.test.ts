import { describe, expect, it } from 'vitest';
import { personOf, roleOf } from './oidc.ts';

const roleMap = { read: ['andon-viewers'], operator: ['andon-operators'], admin: ['andon-admins'] };
const cfg = { roleClaim: 'groups', roleMap, displayNameClaim: 'name' };

describe('roles and names from claims', () => {
  it("the highest role of the claim's values wins; none matching is no role", () => {
    expect(roleOf(['andon-viewers', 'andon-admins', 'andon-operators'], roleMap)).toBe('admin');
    expect(roleOf(['staff', 'andon-operators'], roleMap)).toBe('operator');
    expect(roleOf(['andon-viewers'], roleMap)).toBe('read');
    expect(roleOf(['staff'], roleMap)).toBeUndefined();
    expect(roleOf([], roleMap)).toBeUndefined();
  });

  it('the role claim may be a string, a list, or nested (realm_access.roles); other types give nothing', () => {
    expect(personOf({ sub: 'u1', groups: 'andon-operators' }, cfg).role).toBe('operator');
    expect(personOf({ sub: 'u1', realm_access: { roles: ['andon-admins'] } }, { ...cfg, roleClaim: 'realm_access.roles' }).role).toBe('admin');
    // a claim literally named with a dot is taken as it is
    expect(personOf({ sub: 'u1', 'https://andon/roles': ['andon-viewers'] }, { ...cfg, roleClaim: 'https://andon/roles' }).role).toBe('read');
    expect(personOf({ sub: 'u1', groups: { admin: true } }, cfg)).toMatchObject({ role: undefined, groups: [] });
    expect(personOf({ sub: 'u1', groups: ['andon-operators', 7, null] }, cfg).groups).toEqual(['andon-operators']);
  });

  it('the display name is the configured claim, else preferred_username, email, the subject', () => {
    expect(personOf({ sub: 'u1', name: ' Wang Fang ', preferred_username: 'wang' }, cfg).name).toBe('Wang Fang');
    expect(personOf({ sub: 'u1', name: '', preferred_username: 'wang' }, cfg).name).toBe('wang');
    expect(personOf({ sub: 'u1', email: 'li@plant.example' }, cfg).name).toBe('li@plant.example');
    expect(personOf({ sub: 'u1' }, cfg)).toMatchObject({ subject: 'u1', name: 'u1' });
    expect(personOf({ sub: 'u1', nickname: 'Xiao Wang', name: 'Wang Fang' }, { ...cfg, displayNameClaim: 'nickname' }).name).toBe('Xiao Wang');
    expect(personOf({ sub: 'u1', name: 'x'.repeat(500) }, cfg).name).toHaveLength(200);
  });
});
