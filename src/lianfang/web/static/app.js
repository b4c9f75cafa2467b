/* Shared behaviour of every page. The Content-Security-Policy (default-src 'self') forbids
 * inline scripts and inline event handlers: all script lives in files under /static/.
 *
 * Conventions for page scripts (static/js/<page>.js, loaded from the template's
 * {% block scripts %}):
 *   - read server data from data-* attributes or a <script type="application/json" id="…">
 *     block (lianfang.data("id")); never build HTML from data without escaping (textContent);
 *   - call the JSON API with lianfang.api(url, options): same-origin cookie, CSRF header on
 *     anything but GET;
 *   - show times with lianfang.time(ms) (platform zone, Asia/Shanghai);
 *   - start with lianfang.ready(fn).
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  // htmx requests that change state carry the session's CSRF token as a header
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token && event.detail.verb !== "get") {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // <button data-confirm="…"> (or <form data-confirm="…">) asks before submitting
  document.addEventListener("submit", function (event) {
    var source = event.submitter || event.target;
    var message = (source && source.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  var tz = (document.body && document.body.getAttribute("data-tz")) || "Asia/Shanghai";
  var timeFormat = new Intl.DateTimeFormat("sv-SE", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });

  window.lianfang = {
    csrfToken: csrfToken,
    lang: function () { return document.body.getAttribute("data-lang") || "zh"; },
    ready: function (fn) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", fn);
      } else {
        fn();
      }
    },
    data: function (id) {
      var el = document.getElementById(id);
      return el ? JSON.parse(el.textContent || "null") : null;
    },
    time: function (ms) {
      return ms === null || ms === undefined ? "" : timeFormat.format(new Date(ms));
    },
    api: function (url, options) {
      var opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
      opts.headers = Object.assign({ "Accept": "application/json" }, opts.headers);
      var method = (opts.method || "GET").toUpperCase();
      if (method !== "GET" && method !== "HEAD") {
        opts.headers["X-CSRF-Token"] = csrfToken();
      }
      return fetch(url, opts).then(function (res) {
        return res.json().catch(function () { return null; }).then(function (body) {
          if (!res.ok) {
            var err = new Error((body && (body.message || body.detail)) || res.statusText);
            err.status = res.status;
            err.body = body;
            throw err;
          }
          return body;
        });
      });
    }
  };
})();
