// Type-checked by tests/test_types_package.py: a classic <script> user, with no
// import, reaches the API through the `sessionUtils` global that
// dist/session-utils.js defines (declared by `export as namespace sessionUtils`).
/// <reference path="../../dist/session-utils.d.ts" />

const visit: sessionUtils.Session = sessionUtils.getSession();
const tabId: string = sessionUtils.getTabSession().id;
const pageId: string = sessionUtils.getPageSession().id;
const stopListening: sessionUtils.Unsubscribe = sessionUtils.onSessionChange(
  (session: sessionUtils.Session | null, reason: sessionUtils.ChangeReason, remote: boolean) => {
    document.title = (session ? session.id : 'none') + ' ' + reason + (remote ? ' (other tab)' : '');
  });
sessionUtils.extendSession(30, { lastPage: location.pathname });
sessionUtils.configure({ sameSite: 'Lax' });
stopListening();
console.log(visit.remaining, tabId, pageId);
