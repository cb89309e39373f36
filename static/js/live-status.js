// Status regions (role="status") are refreshed out of band by each htmx poll. A screen reader
// would read an unchanged text again on every poll, so an unchanged one is left in place: only
// a change is announced.
document.addEventListener("htmx:oobBeforeSwap", function (event) {
  var target = event.detail.target;
  var fragment = event.detail.fragment;
  if (
    target &&
    fragment &&
    target.hasAttribute("data-live-status") &&
    target.textContent.trim() === fragment.textContent.trim()
  ) {
    event.detail.shouldSwap = false;
  }
});
