/* 布控 watch page: the form's subject field follows the kind; the live hits panel shows the
 * backlog (GET /api/v1/watch/hits) and then each new hit from the server-sent event stream
 * (GET /api/v1/watch/stream, the session cookie; no CSRF header for a GET), newest first.
 * Marking a hit seen is a POST with the CSRF header (lianfang.api). Text only via textContent. */
lianfang.ready(function () {
  "use strict";

  var form = document.getElementById("watch-form");
  var kind = document.getElementById("watch-kind");
  function followKind() {
    form.classList.toggle("kind-person", kind.value === "person");
  }
  if (form && kind) {
    kind.addEventListener("change", followKind);
    followKind();
  }

  var list = document.getElementById("hits");
  if (!list) { return; }
  var empty = document.getElementById("hits-empty");
  var state = document.getElementById("live-state");
  var hiddenNote = document.getElementById("hits-hidden");
  var data = lianfang.data("watch-data") || {};
  var cities = data.cities || {};
  var t = lianfang.data("watch-texts") || {};
  var shown = {};

  function setState(name, text) {
    state.setAttribute("data-state", name);
    state.textContent = text;
  }

  function cityName(code) {
    return cities[code] || code || "";
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function when(iso) {
    var ms = Date.parse(iso || "");
    return isNaN(ms) ? "" : lianfang.time(ms);
  }

  function requestHref(ask, entry) {
    var q = new URLSearchParams();
    q.set("owner_city", ask.owner_city || "");
    q.set("level", ask.level || "");
    q.set("scope", ask.scope || "");
    q.set("keys", (ask.keys || []).join(","));
    q.set("purpose", entry.purpose || "");
    q.set("case_no", entry.case_no || "");
    return "/access/new?" + q.toString();
  }

  function markSeen(hit, item, button) {
    button.disabled = true;
    lianfang.api("/api/v1/watch/hits/" + encodeURIComponent(hit.id) + "/seen", { method: "POST" })
      .then(function () {
        item.classList.remove("unseen");
        item.setAttribute("data-seen", "true");
        button.replaceWith(el("small", "muted", t.seen));
        var badge = item.querySelector(".badge-new");
        if (badge) { badge.remove(); }
      })
      .catch(function () { button.disabled = false; });
  }

  function render(hit) {
    var s = hit.sighting || {};
    var v = s.values || {};
    var entry = hit.entry || {};
    var item = el("li", "hit access-" + hit.access + (hit.seen ? "" : " unseen"));
    item.id = "hit-" + hit.id;
    item.setAttribute("data-access", hit.access);
    item.setAttribute("data-city", hit.city_code || "");
    item.setAttribute("data-entry", entry.id);
    item.setAttribute("data-seen", hit.seen ? "true" : "false");

    var head = el("div", "hit-head");
    var title = el("strong", "hit-subject", entry.subject);
    head.appendChild(title);
    if (!hit.seen) { head.appendChild(el("span", "badge-new", t["new"])); }
    item.appendChild(head);

    if (hit.access === "allow") {
      item.appendChild(el("div", "hit-when", when(v.passed_at)));
      var place = cityName(hit.city_code) + " · " + t.device + " " + (v.device_id || "");
      item.appendChild(el("div", "hit-place", place));
      var plate = el("div", "hit-meta");
      plate.appendChild(el("code", "hit-plate", v.plate_no || ""));
      if (v.speed_kmh !== undefined && v.speed_kmh !== null) {
        plate.appendChild(document.createTextNode(" " + v.speed_kmh + " km/h"));
      }
      item.appendChild(plate);
    } else {
      item.appendChild(el("div", "hit-masked", (t.masked || "").replace("{city}", cityName(hit.city_code))));
      if (s.request_access) {
        var link = el("a", "request-access", t.request);
        link.href = requestHref(s.request_access, entry);
        item.appendChild(link);
      }
    }
    var foot = el("div", "hit-meta");
    foot.appendChild(el("span", "hit-detected", when(hit.detected_at) + " · " + (entry.case_no || "")));
    if (!hit.seen) {
      var button = el("button", "small link mark-seen", t.mark);
      button.type = "button";
      button.addEventListener("click", function () { markSeen(hit, item, button); });
      foot.appendChild(document.createTextNode(" "));
      foot.appendChild(button);
    }
    item.appendChild(foot);
    return item;
  }

  function add(hit, atTop) {
    if (shown[hit.id]) { return; }
    shown[hit.id] = true;
    var item = render(hit);
    if (atTop) {
      list.insertBefore(item, list.firstChild);
    } else {
      list.appendChild(item);
    }
    empty.hidden = true;
  }

  function open(after) {
    var url = "/api/v1/watch/stream" + (after === null ? "" : "?after=" + encodeURIComponent(after));
    var source = new EventSource(url);
    source.addEventListener("open", function () { setState("live", t.on); });
    source.addEventListener("hit", function (event) {
      add(JSON.parse(event.data), true);
    });
    source.addEventListener("end", function (event) {
      var reason = "";
      try { reason = JSON.parse(event.data).reason; } catch (e) { reason = ""; }
      if (reason === "signed_out" || reason === "audit_unavailable") {
        source.close();
        setState("ended", reason === "signed_out" ? t.ended : t.failed);
      }
    });
    source.addEventListener("error", function () {
      if (source.readyState !== EventSource.CLOSED) { setState("off", t.off); }
    });
  }

  lianfang.api("/api/v1/watch/hits?limit=50")
    .then(function (page) {
      var after = 0;
      (page.items || []).forEach(function (hit) {
        add(hit, false);
        after = Math.max(after, hit.id);
      });
      if (page.hidden) {
        hiddenNote.textContent = (t.hidden || "").replace("{n}", page.hidden);
        hiddenNote.hidden = false;
      }
      // only hits after the newest one listed (none when the list is empty), so nothing falls between
      open(page.total ? after : 0);
    })
    .catch(function () {
      setState("off", t.failed);
      open(null);  // the server's default: only hits from now on
    });
});
