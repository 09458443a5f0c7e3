// Wide tables scroll sideways inside Material's wrapper; make each wrapper reachable and scrollable with
// the keyboard and give it a name (WCAG 2.1.1; axe: scrollable-region-focusable).
(function () {
  "use strict";
  function label() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) {
      if (wrap.hasAttribute("tabindex")) { return; }
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      var caption = wrap.querySelector("caption");
      wrap.setAttribute("aria-label", caption ? caption.textContent : "Table");
    });
  }
  document.addEventListener("DOMContentLoaded", label);
  window.addEventListener("load", label);
})();
