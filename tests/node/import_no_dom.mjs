// Import dist/session-utils.mjs in Node (no DOM), call every export, and print
// what happened as one JSON line. Used by tests/test_build.py.
//
//   node tests/node/import_no_dom.mjs <file URL of the .mjs bundle>
//
// The script never calls process.exit(): the test expects Node to exit by
// itself, which proves the library left nothing (a channel, a timer) open.

const url = process.argv[2];

function snapshot() {
  const descriptors = new Map();
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    descriptors.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
  }
  return descriptors;
}

// Node defines some globals (MessageEvent, BroadcastChannel...) as lazy getters
// that replace themselves with a plain value on the first read, whoever reads.
// Such a name is unchanged when its value now is what the old getter gives
// (asked only here, after both snapshots: Node's getter returns its cached value).
function same(was, now) {
  const slot = (descriptor) => ('value' in descriptor ? descriptor.value : descriptor.get);
  return Object.is(slot(was), slot(now))
    || (typeof was.get === 'function' && 'value' in now && Object.is(was.get.call(globalThis), now.value));
}

function compare(before, after) {
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed = [...before.keys()].filter(
    (name) => after.has(name) && !same(before.get(name), after.get(name)));
  return { added, removed, changed };
}

const errors = [];
const results = {};
const events = [];

function call(label, fn) {
  try {
    results[label] = fn();
  } catch (error) {
    errors.push(`${label}: ${error && error.stack ? error.stack : error}`);
  }
}

const before = snapshot();
const S = await import(url);
const afterImport = snapshot();

const exportNames = Object.keys(S);
const exportTypes = Object.fromEntries(exportNames.map((name) => [name, typeof S[name]]));

let off;
call('onSessionChange', () => {
  off = S.onSessionChange((session, reason, remote) =>
    events.push({ id: session ? session.id : null, reason, remote }));
  return typeof off;
});
call('getSession', () => S.getSession());
call('getSessionAgain', () => S.getSession());
call('getSessionPersisted', () => S.getSession(undefined, true));
call('setSession', () => S.setSession(10, { plan: 'pro' }));
call('extendSession', () => S.extendSession(20, { step: 2 }));
call('getAfterExtend', () => S.getSession());
call('removeSession', () => S.removeSession() === undefined ? 'undefined' : 'returned a value');
call('sessionData', () => S.sessionData());
call('getTabSession', () => S.getTabSession());
call('getTabSessionAgain', () => S.getTabSession());
call('setTabSession', () => S.setTabSession());
call('getPageSession', () => S.getPageSession());
call('getPageSessionAgain', () => S.getPageSession());
call('setPageSession', () => S.setPageSession());
call('unsubscribe', () => (off(), off(), 'ok'));   // a second call is harmless
call('setAfterUnsubscribe', () => S.setSession());
call('configure', () => S.configure({ minutes: 45 }));
call('configureRead', () => S.configure());
call('removeAgain', () => (S.removeSession(), 'ok'));
call('getAfterConfigure', () => S.getSession());

const afterCalls = snapshot();

console.log(JSON.stringify({
  exportNames,
  exportTypes,
  results,
  events,
  errors,
  hasCrypto: typeof crypto !== 'undefined',
  afterImport: compare(before, afterImport),
  afterCalls: compare(before, afterCalls),
}));
