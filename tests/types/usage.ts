// Type-checked by tests/test_types_package.py with `tsc --noEmit --strict`:
// uses every export of session-utils, every field of what they return and every
// option of configure(), as an ES module user would.
import {
  configure,
  extendSession,
  getPageSession,
  getSession,
  getTabSession,
  onSessionChange,
  removeSession,
  sessionData,
  setPageSession,
  setSession,
  setTabSession,
} from 'session-utils';
import type {
  ChangeReason,
  ConfigureOptions,
  PageSession,
  PersistedSession,
  SameSite,
  Session,
  SessionChangeCallback,
  SessionData,
  SessionExtra,
  SessionSettings,
  TabSession,
  Unsubscribe,
} from 'session-utils';

// Every field of the persisted session, with its exact type.
function describe(session: Session): string {
  const id: string = session.id;
  const created: number = session.created;
  const createdAt: string = session.createdAt;
  const expires: number = session.expires;
  const expiresAt: string = session.expiresAt;
  const modified: number | undefined = session.modified;
  const modifiedAt: string | undefined = session.modifiedAt;
  const duration: number = session.duration;
  const elapsed: number = session.elapsed;
  const remaining: number = session.remaining;
  const isExpired: boolean = session.isExpired;
  const isNew: boolean = session.isNew;
  const plan: unknown = session['plan'];          // an extra field
  return [id, created, createdAt, expires, expiresAt, modified, modifiedAt, duration,
    elapsed, remaining, isExpired, isNew, plan].join(' ');
}

// getSession: no argument, minutes, null minutes, persistedOnly false/true, a dynamic flag.
const current: Session = getSession();
const longer: Session = getSession(60);
const byDefault: Session = getSession(null);
const computed: Session = getSession(undefined, false);
const stored: PersistedSession = getSession(30, true);
const flag: boolean = Math.random() > 0.5;
const either: Session | PersistedSession = getSession(30, flag);
const storedId: string = stored.id;
const storedExpires: number = stored.expires;
// @ts-expect-error persistedOnly leaves out the computed fields
const notThere: number = stored.elapsed;

// setSession / extendSession: minutes and extra are optional; extra is a plain object.
const extra: SessionExtra = { plan: 'pro', visits: 3 };
const started: Session = setSession();
const startedWithExtra: Session = setSession(15, extra);
const startedInline: Session = setSession(undefined, { campaign: 'spring' });
const extended: Session = extendSession();
const extendedLonger: Session = extendSession(45);
const extendedWithExtra: Session = extendSession(null, { step: 2 });
const extendedNullExtra: Session = extendSession(30, null);
describe(current);

// removeSession returns nothing.
const removed: void = removeSession();

// sessionData: {id, created, createdAt}.
const data: SessionData = sessionData();
const dataFields: [string, number, string] = [data.id, data.created, data.createdAt];

// Tab and page sessions: {id, created, createdAt, elapsed, isNew}.
function short(session: TabSession | PageSession): string {
  const id: string = session.id;
  const created: number = session.created;
  const createdAt: string = session.createdAt;
  const elapsed: number = session.elapsed;
  const isNew: boolean = session.isNew;
  return `${id} ${created} ${createdAt} ${elapsed} ${isNew}`;
}
const tab: TabSession = getTabSession();
const newTab: TabSession = setTabSession();
const page: PageSession = getPageSession();
const newPage: PageSession = setPageSession();
short(tab); short(newTab); short(page); short(newPage);

// Change events: session is null on 'remove'; remote is true for other tabs.
const reasons: ChangeReason[] = ['start', 'extend', 'remove'];
const listener: SessionChangeCallback = (session, reason, remote) => {
  const id: string | undefined = session?.id;
  const why: ChangeReason = reason;
  const fromAnotherTab: boolean = remote;
  if (session !== null) describe(session);
  console.log(id, why, fromAnotherTab, reasons.indexOf(why));
};
const unsubscribe: Unsubscribe = onSessionChange(listener);
const unsubscribeInline: () => void = onSessionChange((session, reason) => {
  if (reason === 'remove') console.log(session === null);
});
unsubscribe();
unsubscribeInline();

// configure: every option, each alone, and no argument at all.
const sameSite: SameSite = 'Strict';
const options: ConfigureOptions = {
  minutes: 60,
  name: 'visit',
  domain: 'example.com',
  sameSite,
  secure: true,
};
const settings: SessionSettings = configure(options);
const effective: [number, string, string, SameSite, boolean] =
  [settings.minutes, settings.name, settings.domain, settings.sameSite, settings.secure];
configure({ domain: 'auto' });
configure({ domain: '' });
configure({ sameSite: 'None' });
configure({ sameSite: 'Lax', secure: null });
configure({ minutes: null });
configure({});
configure(null);
const now: SessionSettings = configure();

export {
  byDefault, computed, dataFields, effective, either, extended, extendedLonger, extendedNullExtra,
  extendedWithExtra, longer, notThere, now, removed, started, startedInline, startedWithExtra,
  storedExpires, storedId,
};
