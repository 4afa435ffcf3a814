// Every error on the page, made visible: a banner at the top and the count
// in <body data-errors="N">, so neither a reader nor a test misses one.
// Loaded first, before ECharts and the page's own script.
(function () {
  "use strict";
  var errors = [];

  function show() {
    if (!document.body) {
      return;
    }
    document.body.setAttribute("data-errors", String(errors.length));
    var box = document.getElementById("errors");
    var list = document.getElementById("error-list");
    if (!box || !list) {
      return;
    }
    list.textContent = "";
    errors.forEach(function (message) {
      var item = document.createElement("li");
      item.textContent = message;
      list.appendChild(item);
    });
    box.hidden = errors.length === 0;
  }

  function record(message) {
    errors.push(String(message));
    show();
  }

  // The page's script reports what it caught itself (one cell that cannot
  // be drawn does not stop the others).
  window.labourReportError = record;

  window.addEventListener(
    "error",
    function (event) {
      if (event.message) {
        record(event.message + (event.lineno ? " (line " + event.lineno + ")" : ""));
      } else {
        var target = event.target || {};
        record("could not load " + (target.src || target.href || "a resource"));
      }
    },
    true
  );
  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    record("unhandled rejection: " + ((reason && reason.message) || reason));
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("blocked by the page's policy: " + event.violatedDirective + " " + event.blockedURI);
  });
  document.addEventListener("DOMContentLoaded", show);
})();
