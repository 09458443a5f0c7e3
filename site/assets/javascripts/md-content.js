// Material for MkDocs' content script (partials/javascripts/content.html) as a file, for the CSP:
// open the content tab a link's #fragment points to.
(function () {
  var target = document.getElementById(location.hash.slice(1));
  if (target && target.name) {
    target.checked = target.name.startsWith("__tabbed_");
  }
})();
