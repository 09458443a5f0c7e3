// Material for MkDocs' head script (partials/javascripts/base.html), loaded as a file so that the
// Content-Security-Policy can forbid inline scripts. The scope comes from the tag's data-scope attribute.
(function () {
  var tag = document.currentScript;
  var scope = new URL(tag.getAttribute("data-scope") || ".", location);
  window.__md_scope = scope;
  window.__md_hash = function (value) {
    return Array.from(value).reduce(function (hash, c) { return (hash << 5) - hash + c.charCodeAt(0); }, 0);
  };
  window.__md_get = function (key, storage, base) {
    storage = storage || localStorage;
    base = base || window.__md_scope;
    return JSON.parse(storage.getItem(base.pathname + "." + key));
  };
  window.__md_set = function (key, value, storage, base) {
    storage = storage || localStorage;
    base = base || window.__md_scope;
    try { storage.setItem(base.pathname + "." + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  };
})();
