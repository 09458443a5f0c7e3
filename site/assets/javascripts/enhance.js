// Small enhancements where scripts run: "Copy citation" buttons (hidden without JavaScript, where the
// citation is plain selectable text).
(function () {
  "use strict";
  function setUp() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("button.instep-copy[data-copy]").forEach(function (button) {
      if (!button.hidden) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", setUp);
})();
