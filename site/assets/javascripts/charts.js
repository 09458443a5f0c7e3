// Progressive enhancement of the charts: every figure ships a static SVG rendered at build time; where
// JavaScript runs, the figure's Vega-Lite spec (a file next to the page) replaces it with an interactive
// view (tooltips, zoom). Expressions are evaluated by vega-interpreter (`ast: true`), so the
// Content-Security-Policy needs no 'unsafe-eval'; vega-embed's default styles are off (they would be an
// inline <style>) and live in site.css instead.
(function () {
  "use strict";
  if (!window.vega || !window.vegaEmbed || !window.vega.expressionInterpreter) {
    return;
  }
  var options = {
    ast: true,
    expr: window.vega.expressionInterpreter,
    renderer: "svg",
    defaultStyle: false,
    // Downloads (SVG, PNG, CSV) are plain links under each chart; no menu needed.
    actions: false,
    tooltip: { disableDefaultStyle: true },
  };
  document.querySelectorAll("figure.instep-chart[data-spec]").forEach(function (figure) {
    var target = figure.querySelector(".instep-chart__interactive");
    // Phones get the chart drawn for their width, as the static picture does (<picture> media).
    var phone = figure.getAttribute("data-spec-phone");
    var media = figure.getAttribute("data-phone-media");
    var spec = phone && media && window.matchMedia(media).matches ? phone : figure.getAttribute("data-spec");
    var url = new URL(spec, location.href);
    fetch(url)
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status + " " + url); }
        return response.json();
      })
      .then(function (spec) { return window.vegaEmbed(target, spec, options); })
      .then(function () {
        figure.classList.add("is-interactive");
        target.hidden = false;
        figure.querySelector(".instep-chart__static").hidden = true;
      })
      .catch(function (error) {
        // The static SVG stays; say why in the console for whoever maintains the site.
        console.warn("interactive chart unavailable:", error);
      });
  });
})();
