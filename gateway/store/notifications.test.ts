import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/forward/kit.ts';
import { event, T0, ticketDoc } from '../../test/ticket-fixture.ts';
import { TicketStore } from './store.ts';

describe('notification queue in the store', () => {
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(() => tmp?.remove());

  it('a notification row commits with its ticket change, and a change that fails writes neither', async () => {
    tmp = tempDir('notify-store');
    const store = await TicketStore.open(tmp.file);
    try {
      const draft = (id: string) => ({ channel: 'duty', kind: 'opened' as const, ticketId: id, version: 1, state: 'open' as const, event: event('opened', T0), at: T0 });
      store.transaction((tx) => {
        tx.save(ticketDoc({ id: 'T1', key: 'a/x' }), event('opened', T0));
        tx.enqueueNotifications([draft('T1')]);
      });
      expect(() =>
        store.transaction((tx) => {
          tx.save(ticketDoc({ id: 'T2', key: 'b/x' }), event('opened', T0));
          tx.enqueueNotifications([draft('T2')]);
          throw new Error('disk full');
        }),
      ).toThrow('disk full');
      expect(store.get('T2')).toBeUndefined();
      expect(store.notifications.list({ parked: false }).items).toMatchObject([{ ticketId: 'T1', channel: 'duty', kind: 'opened', attempts: 0, nextAttemptAt: T0, event: { action: 'opened' } }]);
      // The same (ticket, version, channel) twice is one row.
      store.transaction((tx) => tx.enqueueNotifications([draft('T1')]));
      expect(store.notifications.pending()).toBe(1);
    } finally {
      await store.close();
    }
  });
});
